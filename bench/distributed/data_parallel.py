"""A data-parallel world: N ranks running `harness.runner.run` in step (same cases, same order,
same number of rounds); the slowest rank's time is each round's time, and rank 0 alone judges the
gathered parameters and keeps the rows. The rank protocol's collective step, `decided`, is here.

A round starts at a barrier, so no rank's time includes waiting for another to arrive; the rounds
continue until the *slowest* rank's times meet the timing settings, a decision every rank takes
from the same all-reduced numbers (ranks deciding alone would stop at different rounds and hang).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np
import torch

from bench.distributed import collectives
from bench.distributed.collectives import RankFailure, TimedCollectives
from bench.distributed.world import World
from bench.errors import InputError, one_line
from bench.harness.preparation import PreparedCase
from bench.harness.ranks import Ranks, Timed
from bench.harness.threads import limited_threads
from bench.harness.timing import RoundHooks, TimingConfig, measure
from bench.problems.problem import Problem
from impls import Implementation, OptionError
from impls.sharded import row_shard

T = TypeVar("T")


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


def data_parallel_skip_reason(impl: Implementation, problem: Problem, device: str, local_ranks: int) -> str | None:
    """Why a case that could run in one process cannot run on these ranks: the one list of reasons,
    read by the ranks and, before anything starts, by `run --nproc` (a plan that would skip every
    case is refused as bad usage)."""
    gpus = torch.cuda.device_count() if torch.cuda.is_available() else 0
    reason = gpu_shortage_reason(device, local_ranks, gpus) or impl.single_process_reason()
    if reason is None and problem.sample_weight is not None:
        reason = f"{problem.name} is weighted: data-parallel fits take unweighted rows"
    return reason


@dataclass(frozen=True)
class Decision:
    """What rank 0 broadcasts at a step: its value, or its error as one line (and whether that
    error is bad input, exit 2 on every rank, or a failure, exit 1)."""

    value: Any = None
    failure: str | None = None
    bad_input: bool = False

    def taken(self, step: str) -> Any:
        """The value on a rank other than 0, or rank 0's error raised here too."""
        if self.failure is None:
            return self.value
        if self.bad_input:
            raise InputError(self.failure)
        raise RankFailure(f"rank 0 failed while {step} ({self.failure})")


class BeforeLaunch(Ranks):
    """`run --nproc N` before its ranks start: the launcher plans for N ranks (their skip reasons
    refuse a plan with nothing to run once, not N times) and decides alone, as no rank is up yet."""

    def __init__(self, world_size: int) -> None:
        self.world_size = world_size

    def skip_reason(self, impl: Implementation, problem: Problem, device: str) -> str | None:
        return data_parallel_skip_reason(impl, problem, device, self.world_size)


class DataParallel(Ranks):
    """This process as one of N ranks of a torchrun job (see the module)."""

    stops_the_run = (RankFailure, InputError)  # a dead rank, or shards no fit can combine: every rank stops
    cross_checks_clocks = False

    def __init__(self, world: World) -> None:
        self.world = world
        self.rank, self.world_size, self.is_root = world.rank, world.world_size, world.is_root
        self.local_ranks = int(os.environ.get("LOCAL_WORLD_SIZE", world.world_size))

    @property
    def row(self) -> dict[str, Any]:
        return {"world_size": self.world_size, "backend": self.world.backend}

    def decided(self, step: str, decide: Callable[[], T]) -> T:
        """Rank 0 runs `decide` and broadcasts its value or its error; every other rank returns the
        value or raises that error (`Decision.taken`), within the time of one broadcast."""
        if not self.is_root:
            return collectives.from_root(None).taken(step)
        try:
            value = decide()
        except BaseException as exc:  # interrupted too: the others must not wait out the timeout
            bad_input = isinstance(exc, (InputError, OptionError))
            with contextlib.suppress(RankFailure):  # a rank already gone cannot be told
                collectives.from_root(Decision(failure=str(exc) if bad_input else one_line(exc), bad_input=bad_input))
            raise
        collectives.from_root(Decision(value))
        return value

    def skip_reason(self, impl: Implementation, problem: Problem, device: str) -> str | None:
        return data_parallel_skip_reason(impl, problem, device, self.local_ranks)

    def timed(self, prepared: PreparedCase, problem: Problem, timing: TimingConfig) -> Timed:
        """This rank's shard fitted by the one round loop in step; the row gains the slowest rank's
        time in collectives and its share of the round."""
        X, y, device = prepared.X, prepared.y, prepared.case.device
        if prepared.impl.data_parallel == "rows":
            rows = row_shard(problem.n, self.rank, self.world_size)
            X, y = X[rows], y[rows]
        check_shards(collectives.gathered((*X.shape, y.shape[1])), problem.name)
        comm = TimedCollectives(device)
        hooks = _InStep(comm)
        with limited_threads(timing.threads):
            measured, fit = measure(lambda: prepared.impl.fit_sharded(X, y, comm), device, timing, hooks)
        median, comm_median = float(np.median(measured.samples)), float(np.median(hooks.inside))
        share = comm_median / median if median > 0 else float("nan")
        return Timed(measured, fit, {"comm_s": comm_median, "comm_fraction": share})
