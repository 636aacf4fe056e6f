"""CUDA cases are timed twice: the synchronised wall clock (reported) and CUDA events around the
same calls. Events cannot take longer than the wall clock that encloses them; when they do, the
wall clock stopped before the device finished (a missing synchronisation), and the row says so."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from bench.harness.timing import Timing

EVENT_ROUNDS = 20  # CUDA-event rounds that cross-check a CUDA case's wall-clock timing
CLOCK_SLACK = 1.10  # the event span may exceed the wall median by timer noise, not by more


def cuda_event_seconds(fn: Callable[[], object], device: torch.device | str, rounds: int) -> tuple[float, ...]:
    """Each call timed by the device's own clock: CUDA events recorded on the current stream
    before and after it. It spans the first launch to the last kernel and leaves out host time
    after the last launch."""
    stream = torch.cuda.current_stream(torch.device(device))
    samples = []
    for _ in range(rounds):
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record(stream)
        fn()
        end.record(stream)
        end.synchronize()
        samples.append(start.elapsed_time(end) / 1e3)  # elapsed_time is in milliseconds
    return tuple(samples)


def clock_disagreement(wall_median: float, event_median: float) -> str | None:
    """The sentence for a row whose events exceed its wall clock, or None when they agree."""
    if event_median > CLOCK_SLACK * wall_median:
        return (
            f"timing: CUDA events ({event_median:.3g} s) exceed the synchronised wall clock "
            f"({wall_median:.3g} s): the wall clock misses device work"
        )
    return None


def cross_check_clocks(fit: Callable[[], object], device: str, wall: Timing, reason: str) -> dict[str, Any]:
    """`event_median_s` and `event_vs_wall` for the row, and its reason extended on a disagreement."""
    events = cuda_event_seconds(fit, device, min(wall.rounds, EVENT_ROUNDS))
    event_median = float(np.median(events))
    problem = clock_disagreement(wall.median, event_median)
    figures = {"event_median_s": event_median, "event_vs_wall": event_median / wall.median}
    return figures if problem is None else {**figures, "reason": "; ".join(filter(None, [reason, problem]))}
