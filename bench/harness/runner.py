"""The run loop: each case set up, timed, judged, handed on. A failing case never stops the others."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import Any

import torch

from bench.harness.cases import Case, dtype_name
from bench.harness.clocks import cross_check_clocks
from bench.harness.configuration import configure
from bench.harness.roofline import Peaks, peaks_key, roofline_figures
from bench.harness.threads import limited_threads, threads_for
from bench.harness.timing import Timing, TimingConfig, measure
from bench.judge.advice import Training, advice
from bench.judge.checks import judge
from bench.judge.reference import Reference, reference_solution
from bench.problems.problem import Problem
from impls import Implementation, LinearFit, validate

PeaksProvider = Callable[[str, torch.dtype, str], Peaks]  # (device, compute dtype, library)


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
    sample_weight: torch.Tensor | None = None

    def fit(self) -> LinearFit:
        """What is timed: a fit on data already on the device (validated in `prepare`)."""
        return self.impl.fit_prepared(self.X, self.y, self.sample_weight)


def prepare(problem: Problem, case: Case, overrides: dict[str, Any], fit_intercept: bool | None = None) -> PreparedCase:
    """Configure the implementation and move the data to the case's device and dtype."""
    fit_intercept = problem.fit_intercept if fit_intercept is None else fit_intercept
    return prepare_configured(problem, case, configure(problem, case.spec, overrides, fit_intercept), fit_intercept)


def prepare_configured(problem: Problem, case: Case, impl: Implementation, fit_intercept: bool) -> PreparedCase:
    """`prepare` for an implementation already configured: the pytest fixture's instance, which
    may be registered nowhere (`case.spec` then only labels the row)."""
    row = _base_row(problem, case, fit_intercept)
    if impl.iterative:
        o = impl.options
        row.update(optimizer=o.optimizer, lr=o.lr, batch_size=o.batch_size, epochs=o.epochs, seed=o.seed)
    reason = impl.unsupported_reason(case.device, case.dtype)
    if reason is None and problem.sample_weight is not None and not impl.supports_sample_weight:
        reason = f"{case.spec.name} does not support sample_weight, and {problem.name} is weighted"
    if reason is None and case.device == "cuda":
        reason = cuda_unavailable_reason()
    if reason is not None:
        return PreparedCase(case, {**row, "status": "skipped", "reason": reason}, impl, reason)
    X = problem.X.to(device=case.device, dtype=case.dtype)
    y = problem.y.to(device=case.device, dtype=case.dtype)
    validate(X, y, case.spec.label)  # once, untimed: values that overflow the dtype surface here
    weight = None if problem.sample_weight is None else problem.sample_weight.to(device=case.device, dtype=case.dtype)
    return PreparedCase(case, row, impl, None, X, y, weight)


def conclude(
    problem: Problem,
    prepared: PreparedCase,
    reference: Reference,
    fit: LinearFit,
    timing: Timing | None,
    peaks: Peaks | None = None,
) -> Outcome:
    """Judge the fit against its own objective and complete the row (times only when this harness
    measured them); a not-recovered iterative fit also says what would help."""
    objective = prepared.impl.objective()
    verdict = judge(fit, problem, reference, prepared.case.dtype, prepared.row["fit_intercept"], objective)
    said = [verdict.reason, _advice(verdict, fit, reference, prepared, objective), *fit.notes]
    if not objective.declared:
        said.append(f"judged as iterative least squares: {prepared.case.spec.name} declares no objective()")
    row = {**prepared.row, **verdict.figures(), "reason": "; ".join(filter(None, said))}
    for once in ("capture_s", "compile_s"):  # graph / compile: paid once per case, outside the timed rounds
        if once in fit.work:
            row[once] = fit.work[once]
    if timing is not None:
        row.update(
            time_median_s=timing.median,
            time_iqr_s=timing.iqr,
            rounds=timing.rounds,
            threads=timing.threads,
            time_samples_s=" ".join(f"{t:.6g}" for t in timing.samples),
        )
        if peaks is not None:
            impl, dtype = prepared.impl, prepared.case.dtype
            row.update(roofline_figures(impl, dtype, problem.n, problem.d, problem.k, timing.median, peaks, fit))
    saved = replace(fit.to("cpu"), feature_names=problem.feature_names, target_names=problem.target_names)
    return Outcome(prepared.case, row, saved, list(fit.losses))


def _advice(verdict, fit: LinearFit, reference: Reference, prepared: PreparedCase, objective) -> str | None:
    """What a not-recovered iterative fit should change; the loss floor is least squares' own only
    for an unweighted least-squares objective (read from the objective, never from its label)."""
    row = prepared.row
    if "epochs" not in row or not fit.losses:
        return None
    training = Training(row["epochs"], row["lr"], row["batch_size"], int(row.get("world_size", 1)))
    plain = prepared.sample_weight is None and not objective.penalised
    optimum_mse = reference.mse if plain else None
    return advice(verdict, list(fit.losses), optimum_mse, training)


def case_threads(prepared: PreparedCase, problem: Problem, case: Case, requested: int | None) -> int | None:
    """The threads a case is timed with, wherever it is timed (`run`, the pytest benchmarks): what
    was asked for, else on the CPU one thread for small work (`threads_for`), else torch's default."""
    if torch.device(case.device).type != "cpu":
        return requested
    cost = prepared.impl.cost(problem.n, problem.d, problem.k, torch.tensor([], dtype=case.dtype).element_size())
    return threads_for(None if cost is None else cost.flops, requested)


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
        with limited_threads(case_threads(prepared, problem, case, timing.threads)):
            measured, fit = measure(prepared.fit, case.device, timing)
        peaks = peaks_for(case.device, *peaks_key(prepared.impl, case.dtype)) if peaks_for is not None else None
        outcome = conclude(problem, prepared, reference, fit, measured, peaks)
        if torch.device(case.device).type == "cuda":
            outcome.row.update(cross_check_clocks(prepared.fit, case.device, measured, outcome.row["reason"]))
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
    reference = reference or reference_solution(problem.X, problem.y, fit_intercept, problem.sample_weight)
    outcomes = []
    for case in cases:
        outcome = run_case(
            problem, case, reference, timing or TimingConfig(), overrides or {}, fit_intercept, peaks_for
        )
        outcomes.append(outcome)
        if on_outcome is not None:
            on_outcome(outcome)
    return outcomes
