"""The run loop of a data-parallel run: every rank executes it in step (same cases, same order,
same number of rounds), the slowest rank's time is each round's time, and rank 0 alone judges
the gathered parameters and keeps the rows.

A round starts at a barrier, so no rank's time includes waiting for another to arrive; the rounds
continue until the *slowest* rank's times meet the timing settings, a decision every rank takes
from the same all-reduced numbers (ranks deciding alone would stop at different rounds and hang).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from bench.distributed import collectives
from bench.distributed.collectives import RankFailure, TimedCollectives
from bench.distributed.world import World
from bench.errors import InputError
from bench.harness.cases import Case
from bench.harness.roofline import peaks_key
from bench.harness.runner import Outcome, PeaksProvider, _base_row, _one_line, conclude, prepare
from bench.harness.threads import limited_threads
from bench.harness.timing import RoundHooks, TimingConfig, measure
from bench.judge.reference import Reference
from bench.problems.problem import Problem
from impls.sharded import row_shard


@dataclass(frozen=True)
class RoundTimes:
    """Per round, the slowest rank's wall time and its time inside collectives."""

    wall: tuple[float, ...]
    comm: tuple[float, ...]

    @property
    def comm_median(self) -> float:
        return float(np.median(self.comm))


class _InStep(RoundHooks):
    """Rounds in step: each starts at a barrier (no rank's time includes waiting for another) and
    counts as the slowest rank's time, which every rank receives, so all stop at the same round."""

    def __init__(self, comm: TimedCollectives) -> None:
        self.comm, self.inside = comm, []

    def before(self) -> None:
        collectives.barrier()
        self.comm.seconds = 0.0

    def after(self, seconds: float) -> float:
        slowest = collectives.maximum(seconds)
        self.inside.append(collectives.maximum(self.comm.seconds))
        return slowest


def measure_in_step(fn: Callable[[], Any], device: str, config: TimingConfig, comm: TimedCollectives):
    """The one round loop (`timing.measure`) in step; returns (Timing of the slowest rank, RoundTimes, fit)."""
    hooks = _InStep(comm)
    timing, result = measure(fn, device, config, hooks)
    return timing, RoundTimes(timing.samples, tuple(hooks.inside)), result


def check_shards(shapes: list[tuple[int, int, int]], dataset: str) -> None:
    """Refuse, before any fit, shards a data-parallel fit cannot combine; the message names the rank."""
    _, d0, k0 = shapes[0]
    for rank, (rows, d, k) in enumerate(shapes):
        if rows == 0:
            total = sum(shape[0] for shape in shapes)
            raise InputError(f"{dataset}: rank {rank} has no rows ({len(shapes)} ranks for {total} rows)")
        if (d, k) != (d0, k0):
            raise InputError(f"{dataset}: rank {rank} has {d} feature and {k} target columns, rank 0 has {d0} and {k0}")


def gpu_shortage_reason(device: str, local_world_size: int, gpus: int) -> str | None:
    """NCCL gives each rank of a machine its own GPU: fewer GPUs than local ranks is a skip, not a
    hang or a shared device."""
    if torch.device(device).type != "cuda" or gpus >= local_world_size:
        return None
    return f"{local_world_size} ranks on this machine need a GPU each for NCCL; {gpus} visible"


def data_parallel_skip_reason(impl, problem: Problem, device: str, local_ranks: int) -> str | None:
    """Why a case that could run in one process cannot run on these ranks: the one list of reasons,
    read by the runner and, before anything starts, by `run --nproc` (a plan that would skip every
    case is refused as bad usage)."""
    gpus = torch.cuda.device_count() if torch.cuda.is_available() else 0
    reason = gpu_shortage_reason(device, local_ranks, gpus) or impl.single_process_reason()
    if reason is None and problem.sample_weight is not None:
        reason = f"{problem.name} is weighted: data-parallel fits take unweighted rows"
    return reason


def _distributed_row(world: World, times: RoundTimes) -> dict[str, Any]:
    median = float(np.median(times.wall))
    return {"world_size": world.world_size, "backend": world.backend, "comm_s": times.comm_median,
            "comm_fraction": times.comm_median / median if median > 0 else float("nan")}  # fmt: skip


def run_case_in_step(
    problem: Problem,
    case: Case,
    reference: Reference | None,
    timing: TimingConfig,
    overrides: dict[str, Any],
    fit_intercept: bool,
    world: World,
    peaks_for: PeaksProvider | None = None,
) -> Outcome | None:
    """One case on every rank; rank 0 returns its Outcome, the others None. A rank failure
    (RankFailure) stops the run; anything else the case raised is its `error` row."""
    base = {**_base_row(problem, case, fit_intercept), "world_size": world.world_size, "backend": world.backend}
    try:
        prepared = prepare(problem, case, overrides, fit_intercept)
        local_ranks = int(os.environ.get("LOCAL_WORLD_SIZE", world.world_size))
        reason = prepared.skip_reason or data_parallel_skip_reason(prepared.impl, problem, case.device, local_ranks)
        if reason is not None:
            return Outcome(case, {**prepared.row, **base, "status": "skipped", "reason": reason})
        X, y = prepared.X, prepared.y
        if prepared.impl.data_parallel == "rows":
            rows = row_shard(problem.n, world.rank, world.world_size)
            X, y = X[rows], y[rows]
        check_shards(collectives.gathered((*X.shape, y.shape[1])), problem.name)
        comm = TimedCollectives(case.device)
        with limited_threads(timing.threads):
            measured, times, fit = measure_in_step(
                lambda: prepared.impl.fit_sharded(X, y, comm), case.device, timing, comm
            )
        if not world.is_root:
            return None
        peaks = peaks_for(case.device, *peaks_key(prepared.impl, case.dtype)) if peaks_for is not None else None
        prepared.row.update(world_size=world.world_size, backend=world.backend)  # the judge's advice reads it
        outcome = conclude(problem, prepared, reference, fit, measured, peaks)
        outcome.row.update(_distributed_row(world, times))
        return outcome
    except (RankFailure, InputError):
        raise
    except Exception as exc:  # the same on every rank: an implementation error is a result
        return Outcome(case, {**base, "status": "error", "reason": _one_line(exc)}) if world.is_root else None


def run_in_step(
    problem: Problem,
    cases: Iterable[Case],
    timing: TimingConfig,
    overrides: dict[str, Any],
    fit_intercept: bool,
    world: World,
    reference: Reference | None,
    on_outcome: Callable[[Outcome], None] | None = None,
    peaks_for: PeaksProvider | None = None,
) -> list[Outcome]:
    """Every case in order on every rank; rank 0 hands each finished one to `on_outcome` at once."""
    outcomes = []
    for case in cases:
        outcome = run_case_in_step(problem, case, reference, timing, overrides, fit_intercept, world, peaks_for)
        if outcome is not None:
            outcomes.append(outcome)
            if on_outcome is not None:
                on_outcome(outcome)
    return outcomes
