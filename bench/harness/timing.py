"""The one timing core: what is timed (a fit, synchronised) and how often (warm-up, rounds).

`synchronised` wraps what `linreg-bench run`, the ranks, the roofline probe and the pytest
fixture time, so the CUDA synchronisation lives in one place: a CUDA fit is only finished when the
device says so. `measure` is the one round loop and its stop rule; a data-parallel run hands it
`RoundHooks` (a barrier before each round, the slowest rank's time after it) instead of a loop of
its own. (The A/B worker is driven round by round by its driver, and counts calls per round.)
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TypeVar

import numpy as np
import torch

T = TypeVar("T")


def synchronize(device: torch.device | str) -> None:
    device = torch.device(device)
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def synchronised(fn: Callable[[], T], device: torch.device | str) -> Callable[[], T]:
    """`fn` followed by a device synchronisation, so any wall clock around it is honest."""
    device = torch.device(device)
    if device.type != "cuda":
        return fn

    def call() -> T:
        result = fn()
        torch.cuda.synchronize(device)
        return result

    return call


class RoundHooks:
    """What a round loop does around each round: nothing in one process. Data-parallel ranks
    override both (a barrier before; the slowest rank's time after), so every rank takes the same
    decision to stop from the same numbers."""

    def before(self) -> None:
        """Called just before a round's clock starts."""

    def after(self, seconds: float) -> float:
        """The time this round counts as, given this process's own."""
        return seconds


# The stop rule's ceiling: `min_time` (0.5 s) is met within it by any fit of 2.5 ms or more, and a
# faster fit's median over 200 rounds is already settled; without it a microsecond fit would loop
# 500,000 times for its half second.
MAX_ROUNDS = 200
MIN_ROUNDS = 5  # pytest-benchmark's default minimum: a median of fewer moves with one outlier
MIN_TIME_S = 0.5  # long enough to average over a scheduler's time slices, short enough for a run of many cases


@dataclass(frozen=True)
class TimingConfig:
    """At least `min_rounds` rounds and `min_time` seconds of them, at most `max_rounds`."""

    warmup: int = 1
    min_rounds: int = MIN_ROUNDS
    max_rounds: int = MAX_ROUNDS
    min_time: float = MIN_TIME_S
    threads: int | None = None  # None: one thread for small work (threads.threads_for), else torch's default

    @classmethod
    def exactly(cls, rounds: int, warmup: int = 1) -> TimingConfig:
        """Exactly `rounds` timed rounds after `warmup`: a probe or a side-by-side script, not a run."""
        return cls(warmup=warmup, min_rounds=rounds, max_rounds=rounds, min_time=0.0)

    def __post_init__(self) -> None:
        if self.warmup < 0 or self.min_rounds < 1 or self.max_rounds < self.min_rounds or self.min_time < 0:
            raise ValueError(
                f"bad timing settings {self}: need warmup >= 0, 1 <= min_rounds <= max_rounds, min_time >= 0"
            )


@dataclass(frozen=True)
class Timing:
    """Every round's wall time, in seconds, and the statistics the reports show."""

    samples: tuple[float, ...]
    threads: int

    @property
    def rounds(self) -> int:
        return len(self.samples)

    @property
    def median(self) -> float:
        return float(np.median(self.samples))

    @property
    def iqr(self) -> float:
        q1, q3 = np.percentile(self.samples, [25, 75])
        return float(q3 - q1)


def measure(
    fn: Callable[[], T], device: torch.device | str, config: TimingConfig | None = None, hooks: RoundHooks | None = None
) -> tuple[Timing, T]:
    """Warm up (CUDA context, kernels, allocator), then time one call per round until the stop
    rule: at least `min_rounds`, and `min_time` seconds of them, at most `max_rounds`."""
    config, hooks = config or TimingConfig(), hooks or RoundHooks()
    call = synchronised(fn, device)
    result = None
    for _ in range(config.warmup):
        result = call()
    synchronize(device)
    samples: list[float] = []
    while len(samples) < config.min_rounds or (sum(samples) < config.min_time and len(samples) < config.max_rounds):
        hooks.before()
        start = time.perf_counter()
        result = call()
        samples.append(hooks.after(time.perf_counter() - start))
    return Timing(tuple(samples), torch.get_num_threads()), result


def medians_in_turns(
    fns: Mapping[str, Callable[[], object]], device: torch.device | str, rounds: int
) -> dict[str, float]:
    """Each candidate's median of exactly `rounds` rounds after one warm-up each, the candidates
    taking turns round by round: what the measurement scripts put side by side in one process. A
    change in the machine's speed (this VM's vCPUs switch between two speeds on their own) then
    hits every candidate alike instead of whichever happened to be running."""
    calls = {name: synchronised(fn, device) for name, fn in fns.items()}
    for call in calls.values():
        call()
    samples: dict[str, list[float]] = {name: [] for name in calls}
    for _ in range(rounds):
        for name, call in calls.items():
            start = time.perf_counter()
            call()
            samples[name].append(time.perf_counter() - start)
    return {name: float(np.median(values)) for name, values in samples.items()}


def median_seconds(fn: Callable[[], object], device: torch.device | str, rounds: int) -> float:
    """One candidate's `medians_in_turns`."""
    return medians_in_turns({"fn": fn}, device, rounds)["fn"]
