"""A case made ready to time: its implementation configured, its data on the device, or the reason
it cannot run here. Shared by `linreg-bench run`, the studies and the pytest fixture."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from bench.harness.cases import Case, dtype_name
from bench.harness.configuration import configure
from bench.harness.threads import threads_for
from bench.problems.problem import Problem
from impls import Implementation, LinearFit, validate


def cuda_unavailable_reason() -> str | None:
    if torch.cuda.is_available():
        return None
    build = "a CPU-only build" if torch.version.cuda is None else f"built for CUDA {torch.version.cuda}"
    return f"CUDA is not available (torch {torch.__version__} is {build}; no GPU visible)"


def base_row(problem: Problem, case: Case, fit_intercept: bool) -> dict[str, Any]:
    """The columns every row of a case has, whatever became of it."""
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


def skip_reason(problem: Problem, case: Case, impl: Implementation) -> str | None:
    """Why `impl` cannot run `case` on this machine in any world; None when it can. The one list,
    read by `prepare` and, before anything runs, by `run`'s refusal of a plan with nothing to run."""
    reason = impl.unsupported_reason(case.device, case.dtype)
    if reason is None and problem.sample_weight is not None and not impl.supports_sample_weight:
        reason = f"{case.spec.name} does not support sample_weight, and {problem.name} is weighted"
    if reason is None and case.device == "cuda":
        reason = cuda_unavailable_reason()
    return reason


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
    row = base_row(problem, case, fit_intercept)
    if impl.iterative:
        o = impl.options
        row.update(optimizer=o.optimizer, lr=o.lr, batch_size=o.batch_size, epochs=o.epochs, seed=o.seed)
    reason = skip_reason(problem, case, impl)
    if reason is not None:
        return PreparedCase(case, {**row, "status": "skipped", "reason": reason}, impl, reason)
    X = problem.X.to(device=case.device, dtype=case.dtype)
    y = problem.y.to(device=case.device, dtype=case.dtype)
    validate(X, y, case.spec.label)  # once, untimed: values that overflow the dtype surface here
    weight = None if problem.sample_weight is None else problem.sample_weight.to(device=case.device, dtype=case.dtype)
    return PreparedCase(case, row, impl, None, X, y, weight)


def case_threads(prepared: PreparedCase, problem: Problem, case: Case, requested: int | None) -> int | None:
    """The threads a case is timed with, wherever it is timed (`run`, the pytest benchmarks): what
    was asked for, else on the CPU one thread for small work (`threads_for`), else torch's default."""
    if torch.device(case.device).type != "cpu":
        return requested
    cost = prepared.impl.cost(problem.n, problem.d, problem.k, torch.tensor([], dtype=case.dtype).element_size())
    return threads_for(None if cost is None else cost.flops, requested)
