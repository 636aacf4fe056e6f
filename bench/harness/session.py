"""One run, in one place: what pytest-benchmark's `BenchmarkSession` is to it.

A `Session` is built once from a command's arguments (`bench.cli.run.build_session`) and handed
to the run loop (`runner.run`): the problem, the plan of cases, the run-wide option layer, the
timing policy, the output folder and the world (one rank or N). What rank 0 decides on the way
(the folder's name, the cases already finished, the reference optimum) is added with `replace`,
so a session never changes under the loop.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.harness.cases import Case
from bench.harness.ranks import Ranks
from bench.harness.roofline import PeaksProvider
from bench.harness.timing import TimingConfig
from bench.judge.reference import Reference
from bench.problems.problem import Problem


@dataclass(frozen=True)
class Session:
    """The problem, the cases, how each is configured and timed, where it is written, by whom."""

    problem: Problem
    cases: tuple[Case, ...]
    timing: TimingConfig = field(default_factory=TimingConfig)
    # Layer 2 of harness.configuration (the run-wide training flags); layer 1 is the problem's,
    # layer 3 each case's spec, layer 4 `fit_intercept`.
    overrides: Mapping[str, Any] = field(default_factory=dict)
    fit_intercept: bool | None = None  # None: the problem's own
    world: Ranks = field(default_factory=Ranks)
    out: Path | None = None  # the run folder (rank 0 writes it); None outside `linreg-bench run`
    finished: frozenset[tuple[str, str, str, str]] = frozenset()  # (impl, device, dtype, dataset) kept on resume
    reference: Reference | None = None  # the float64 optimum; computed by `runner.run` when not given
    peaks: PeaksProvider | None = None  # the machine's peaks for the roofline columns; None: no roofline

    def __post_init__(self) -> None:  # frozen: the two normalisations go through object.__setattr__
        object.__setattr__(self, "cases", tuple(self.cases))
        if self.fit_intercept is None:
            object.__setattr__(self, "fit_intercept", self.problem.fit_intercept)

    @property
    def pending(self) -> list[Case]:
        """The cases still to run: the plan less those a resumed folder already holds."""
        return [case for case in self.cases if (*case.key, self.problem.name) not in self.finished]

    @property
    def devices(self) -> frozenset[str]:
        return frozenset(case.device for case in self.cases)
