"""The world a run executes in, and the rank protocol's steps.

`Ranks` is a world of one process (rank 0 of 1): today's single-process run. Data-parallel ranks
(`bench.distributed.data_parallel.DataParallel`) override its methods, so `runner.run` is one loop
for a world of size 1 or N: what differs (a case's skip reasons, how it is timed, what its row
carries, how rank 0's decisions reach the others) is asked of the world, never branched on.

The rank protocol: every decision rank 0 alone makes is one `decided(step, decide)` call, made by
every rank at the same point. Rank 0 runs `decide` and broadcasts its value or its error; the
other ranks receive it, so a failure on rank 0 at any step ends them at once with one line
naming the step, never after `--dist-timeout`. In one process `decided` is just the call.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from bench.harness.preparation import PreparedCase, case_threads
from bench.harness.threads import limited_threads
from bench.harness.timing import Timing, TimingConfig, measure
from bench.problems.problem import Problem
from impls import Implementation, LinearFit

T = TypeVar("T")

# The steps of `linreg-bench run` that rank 0 decides alone, in the order every rank meets them
# (the step names are the words of the message the other ranks end with).
OUT_FOLDER = "naming the output folder"
CLAIM = "claiming the output folder"
START = "starting the run folder"
RECORD = "recording a case"
REPORT = "writing the reports"
RUN_STEPS = (OUT_FOLDER, CLAIM, START, RECORD, REPORT)  # RECORD once per case
STREAM_REPORT = "writing the stream folder"  # `linreg-bench stream`'s one decision


@dataclass(frozen=True)
class Timed:
    """A case's timed rounds, its fit, and what the world adds to its row (data-parallel: comm)."""

    timing: Timing
    fit: LinearFit
    row: dict[str, Any] = field(default_factory=dict)


class Ranks:
    """One process, rank 0 of 1: it decides alone, skips nothing for being alone, times the fit
    itself (one thread for small work), and cross-checks CUDA clocks."""

    rank = 0
    world_size = 1
    is_root = True
    # Errors of a case that end the run instead of becoming its `error` row: none in one process.
    stops_the_run: tuple[type[BaseException], ...] = ()
    # CUDA events around this process's calls time its fit; over N ranks a round is the slowest
    # rank's, which one rank's events cannot see.
    cross_checks_clocks = True

    @property
    def row(self) -> dict[str, Any]:
        """The columns every row of this world carries (N ranks: world_size and backend)."""
        return {}

    def decided(self, step: str, decide: Callable[[], T]) -> T:
        """Rank 0's decision at `step`, on every rank (see the module): here, the call itself."""
        return decide()

    def skip_reason(self, impl: Implementation, problem: Problem, device: str) -> str | None:
        """Why a case that runs in one process cannot run in this world: never, in one process."""
        return None

    def timed(self, prepared: PreparedCase, problem: Problem, timing: TimingConfig) -> Timed:
        """The case timed by the one round loop, with the threads `case_threads` gives it."""
        case = prepared.case
        with limited_threads(case_threads(prepared, problem, case, timing.threads)):
            measured, fit = measure(prepared.fit, case.device, timing)
        return Timed(measured, fit)
