"""Runs cases one by one: set up, time, judge. A failing case never stops the others."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from bench.cases import Case, ImplSpec, dtype_name
from bench.checks import judge
from bench.problems import Problem
from bench.reference import Reference, reference_solution
from bench.roofline import Peaks
from bench.timing import Timing, TimingConfig, clock_disagreement, cuda_event_seconds, measure
from impls import Implementation, LinearFit, implementation_class, validate

PeaksProvider = Callable[[str, torch.dtype], Peaks]
EVENT_ROUNDS = 20  # CUDA-event rounds that cross-check a CUDA case's wall-clock timing


@dataclass
class Outcome:
    """One finished case: its row for results.csv, and the fit when there is one."""

    case: Case
    row: dict[str, Any]
    fit: LinearFit | None = None
    losses: list[float] = field(default_factory=list)


def cuda_unavailable_reason() -> str | None:
    if torch.cuda.is_available():
        return None
    build = "a CPU-only build" if torch.version.cuda is None else f"built for CUDA {torch.version.cuda}"
    return f"CUDA is not available (torch {torch.__version__} is {build}; no GPU visible)"


def _base_row(problem: Problem, case: Case, fit_intercept: bool) -> dict[str, Any]:
    return {
        "impl": case.spec.label,
        "device": case.device,
        "dtype": dtype_name(case.dtype),
        "dataset": problem.name,
        "n": problem.n,
        "d": problem.d,
        "k": problem.k,
        "fit_intercept": fit_intercept,
    }


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return f"{type(exc).__name__}: {text}"


@dataclass
class PreparedCase:
    """A case ready to time: the configured implementation and its data on the device."""

    case: Case
    row: dict[str, Any]
    impl: Implementation
    skip_reason: str | None = None
    X: torch.Tensor | None = None
    y: torch.Tensor | None = None

    def fit(self) -> LinearFit:
        """What is timed: a fit on data already on the device."""
        return self.impl.fit(self.X, self.y)


def configure(problem: Problem, spec: ImplSpec, overrides: dict[str, Any], fit_intercept: bool) -> Implementation:
    """The implementation for `spec`: problem's tutorial settings < run-wide overrides < the spec's
    own options. A run-wide optimizer only concerns implementations that take one (nn-linear)."""
    cls = implementation_class(spec.name)
    if not getattr(cls, "takes_optimizer", True):
        overrides = {k: v for k, v in overrides.items() if k not in ("optimizer", "optimizer_args")}
    training = problem.training_for(spec.name) if cls.iterative else {}
    return spec.create({**training, **overrides, "fit_intercept": fit_intercept})


def prepare(problem: Problem, case: Case, overrides: dict[str, Any], fit_intercept: bool | None = None) -> PreparedCase:
    """Configure the implementation and move the data to the case's device and dtype."""
    fit_intercept = problem.fit_intercept if fit_intercept is None else fit_intercept
    row = _base_row(problem, case, fit_intercept)
    iterative = implementation_class(case.spec.name).iterative
    impl = configure(problem, case.spec, overrides, fit_intercept)
    if iterative:
        o = impl.options
        row.update(optimizer=o.optimizer, lr=o.lr, batch_size=o.batch_size, epochs=o.epochs, seed=o.seed)
    reason = impl.unsupported_reason(case.device, case.dtype)
    if reason is None and case.device == "cuda":
        reason = cuda_unavailable_reason()
    if reason is not None:
        return PreparedCase(case, {**row, "status": "skipped", "reason": reason}, impl, reason)
    X = problem.X.to(device=case.device, dtype=case.dtype)
    y = problem.y.to(device=case.device, dtype=case.dtype)
    validate(X, y, case.spec.label)  # once, untimed: values that overflow the dtype surface here
    return PreparedCase(case, row, impl, None, X, y)


def roofline_figures(prepared: PreparedCase, problem: Problem, timing: Timing, peaks: Peaks) -> dict[str, float]:
    """The case against this machine's roofline: the bound from the implementation's work model
    and the measured peaks, the time as a multiple of it, and the achieved rates."""
    itemsize = torch.empty(0, dtype=prepared.case.dtype).element_size()
    cost = prepared.impl.cost(problem.n, problem.d, problem.k, itemsize)
    if cost is None:
        return {}
    bound = peaks.bound_s(cost)
    return {
        "work_bytes": cost.bytes, "work_flops": cost.flops, "bound_s": bound,
        "time_vs_bound": timing.median / bound if bound > 0 else math.nan,
        "achieved_gbs": cost.bytes / timing.median / 1e9, "achieved_gflops": cost.flops / timing.median / 1e9,
    }  # fmt: skip


def conclude(
    problem: Problem,
    prepared: PreparedCase,
    reference: Reference,
    fit: LinearFit,
    timing: Timing | None,
    peaks: Peaks | None = None,
) -> Outcome:
    """Judge the fit and complete the row (times only when this harness measured them)."""
    verdict = judge(fit, problem, reference, prepared.case.dtype, prepared.row["fit_intercept"])
    row = {**prepared.row, **verdict.figures(), "reason": "; ".join(filter(None, [verdict.reason, *fit.notes]))}
    if timing is not None:
        row.update(
            time_median_s=timing.median,
            time_iqr_s=timing.iqr,
            rounds=timing.rounds,
            threads=timing.threads,
            time_samples_s=" ".join(f"{t:.6g}" for t in timing.samples),
        )
        if peaks is not None:
            row.update(roofline_figures(prepared, problem, timing, peaks))
    return Outcome(prepared.case, row, fit.to("cpu"), list(fit.losses))


def cross_check_clocks(prepared: PreparedCase, wall: Timing, reason: str) -> dict[str, Any]:
    """CUDA cases are timed twice: the synchronised wall clock (reported) and CUDA events."""
    events = cuda_event_seconds(prepared.fit, prepared.case.device, min(wall.rounds, EVENT_ROUNDS))
    event_median = float(np.median(events))
    problem = clock_disagreement(wall.median, event_median)
    figures = {"event_median_s": event_median, "event_vs_wall": event_median / wall.median}
    return figures if problem is None else {**figures, "reason": "; ".join(filter(None, [reason, problem]))}


def run_case(
    problem: Problem,
    case: Case,
    reference: Reference,
    timing: TimingConfig,
    overrides: dict[str, Any],
    fit_intercept: bool = True,
    peaks_for: PeaksProvider | None = None,
) -> Outcome:
    try:
        prepared = prepare(problem, case, overrides, fit_intercept)
        if prepared.skip_reason is not None:
            return Outcome(case, prepared.row)
        measured, fit = measure(prepared.fit, case.device, timing)
        peaks = peaks_for(case.device, case.dtype) if peaks_for is not None else None
        outcome = conclude(problem, prepared, reference, fit, measured, peaks)
        if torch.device(case.device).type == "cuda":
            outcome.row.update(cross_check_clocks(prepared, measured, outcome.row["reason"]))
        return outcome
    except torch.cuda.OutOfMemoryError:
        torch.cuda.empty_cache()
        return Outcome(case, {**_base_row(problem, case, fit_intercept), "status": "error", "reason": "out of memory"})
    except Exception as exc:  # a broken implementation is a result, not a crash of the run
        return Outcome(case, {**_base_row(problem, case, fit_intercept), "status": "error", "reason": _one_line(exc)})


def run(
    problem: Problem,
    cases: Iterable[Case],
    timing: TimingConfig | None = None,
    overrides: dict[str, Any] | None = None,
    fit_intercept: bool | None = None,
    on_outcome: Callable[[Outcome], None] | None = None,
    peaks_for: PeaksProvider | None = None,
    reference: Reference | None = None,
) -> list[Outcome]:
    """Every case in order; `on_outcome` sees each as soon as it is finished (to persist it).
    Pass `reference` when the caller needs it too: at scale it is a float64 SVD of the data."""
    fit_intercept = problem.fit_intercept if fit_intercept is None else fit_intercept
    reference = reference or reference_solution(problem.X, problem.y, fit_intercept)
    outcomes = []
    for case in cases:
        outcome = run_case(
            problem, case, reference, timing or TimingConfig(), overrides or {}, fit_intercept, peaks_for
        )
        outcomes.append(outcome)
        if on_outcome is not None:
            on_outcome(outcome)
    return outcomes
