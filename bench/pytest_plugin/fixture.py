"""One call of the `linreg_bench` fixture: the harness's case set up as `linreg-bench run` sets it up,
timed by pytest-benchmark, judged by the harness's own checks (`preparation.prepare` and `runner.conclude`)."""

from __future__ import annotations

from dataclasses import MISSING, fields, is_dataclass
from functools import cache
from typing import Any

import pytest
import torch

from bench.harness.axes import DEVICES
from bench.harness.cases import Case, ImplSpec, parse_dtype
from bench.harness.preparation import PreparedCase, case_threads, prepare, prepare_configured
from bench.harness.runner import conclude
from bench.harness.threads import limited_threads
from bench.harness.timing import synchronised
from bench.judge.reference import Reference, reference_solution
from bench.problems.catalogue import CATALOGUE, load
from bench.problems.problem import Problem
from impls import Implementation, LinearFit

# What `benchmark.extra_info` holds, the keys `linreg-bench compare` and `history` read back.
EXTRA_INFO = ["impl", "device", "dtype", "dataset", "n", "d", "k", "status", "reason", "final_loss", "excess_loss",
              "opt_distance_se", "opt_tol_se", "truth_error_se", "truth_tol_se", "digits_ref", "lre_min",
              "objective", "objective_bias_se",
              "optimizer", "lr", "batch_size", "epochs"]  # fmt: skip


@cache
def problem_and_reference(name: str, fit_intercept: bool | None) -> tuple[Problem, Reference]:
    """A built-in problem and its float64 optimum, built once per session (the optimum is an SVD)."""
    problem = load(name)
    intercept = problem.fit_intercept if fit_intercept is None else fit_intercept
    return problem, reference_solution(problem.X, problem.y, intercept, problem.sample_weight)


def differing_options(options: Any) -> tuple[tuple[str, Any], ...]:
    """The options that differ from their defaults: they label the case (`mine:lr=0.05`), so two
    configurations of one class stay two cases in `compare` and `history`."""
    if not is_dataclass(options):
        return ()
    changed = []
    for f in fields(options):
        default = f.default_factory() if f.default_factory is not MISSING else f.default
        value = getattr(options, f.name)
        if f.name != "fit_intercept" and value != default:
            changed.append((f.name, value))
    return tuple(changed)


class LinregBench:
    """What `linreg_bench` returns: call it once per test with the implementation and the problem."""

    def __init__(self, benchmark: Any, device: str, dtype: str) -> None:
        self.benchmark, self.device, self.dtype = benchmark, device, dtype

    def __call__(
        self,
        impl_or_name: Implementation | str,
        problem: str,
        device: str | None = None,
        dtype: str | torch.dtype | None = None,
        **options: Any,
    ) -> LinearFit:
        try:
            p, reference, prepared = self._prepare(impl_or_name, problem, device or self.device, dtype or self.dtype,
                                                   options)  # fmt: skip
        except (ValueError, TypeError) as exc:  # InputError, OptionError, InvalidInput: the user's arguments
            refused = " ".join(str(exc).split())
        else:
            refused = None
        if refused is not None:  # failed outside the handler: one line, not two chained exceptions
            pytest.fail(f"linreg_bench: {refused}", pytrace=False)
        if prepared.skip_reason is not None:
            pytest.skip(prepared.skip_reason)
        fit = self._timed(p, prepared)
        row = conclude(p, prepared, reference, fit, timing=None).row
        extra_info = getattr(self.benchmark, "extra_info", None)  # pytest-codspeed's `benchmark` has none
        if extra_info is not None:
            extra_info.update({key: row.get(key) for key in EXTRA_INFO})
        # A problem's known result is that of a built-in at the tutorial's settings, nothing else.
        tutorial = isinstance(impl_or_name, str) and not options
        expected = p.expected_status(impl_or_name) if tutorial else "ok"
        if row["status"] != expected:
            known = "" if expected == "ok" else f" (the problem's known result is {expected})"
            case = f"{row['impl']} on {p.name} ({row['device']}, {row['dtype']})"
            reason = " ".join(str(row["reason"]).split())
            pytest.fail(f"{case}: {row['status']}{known}: {reason}", pytrace=False)
        return fit

    def _prepare(
        self, impl_or_name: Implementation | str, name: str, device: str, dtype: str | torch.dtype, options: dict
    ) -> tuple[Problem, Reference, PreparedCase]:
        dtype = parse_dtype(dtype) if isinstance(dtype, str) else dtype
        if str(device).partition(":")[0] not in DEVICES:
            raise ValueError(f"unknown device {device!r} (available: {', '.join(DEVICES)})")
        if name not in CATALOGUE:
            raise ValueError(f"unknown problem {name!r} (built-in problems: {', '.join(CATALOGUE)})")
        options = dict(options)
        fit_intercept = options.pop("fit_intercept", None)
        p, reference = problem_and_reference(name, fit_intercept)
        intercept = p.fit_intercept if fit_intercept is None else fit_intercept
        if isinstance(impl_or_name, str):  # a registered name: options layered as `run` layers them
            case = Case(ImplSpec(impl_or_name, tuple(options.items())), device, dtype)
            return p, reference, prepare(p, case, overrides={}, fit_intercept=intercept)
        impl = _instance(impl_or_name)
        if getattr(impl.options, "fit_intercept", intercept) != intercept:
            options["fit_intercept"] = intercept  # the problem's (or the call's), as `run` sets it
        if options:
            impl = impl.with_options(**options)
        case = Case(ImplSpec(impl.name, differing_options(impl.options)), device, dtype)
        return p, reference, prepare_configured(p, case, impl, intercept)

    def _timed(self, p: Problem, prepared: PreparedCase) -> LinearFit:
        """The fit timed as `linreg-bench run` times it: synchronised on CUDA, warmed up, with the
        harness's thread policy (one thread for small CPU work)."""
        benchmark, case = self.benchmark, prepared.case
        if getattr(benchmark, "group", "") is None:  # a @pytest.mark.benchmark(group=...) wins
            benchmark.group = f"{p.name} (n={p.n}, d={p.d}, k={p.k})"
        timed = synchronised(prepared.fit, case.device)
        with limited_threads(case_threads(prepared, p, case, None)):
            if not getattr(benchmark, "disabled", False):
                timed()  # warm-up: CUDA context, kernels, allocator; as `linreg-bench run` does
            fit = benchmark(timed)
            if hasattr(benchmark, "extra_info"):
                benchmark.extra_info["threads"] = torch.get_num_threads()
        return fit


def _instance(impl: Any) -> Implementation:
    if isinstance(impl, type) and issubclass(impl, Implementation):
        raise TypeError(f"pass an instance, {impl.__name__}(), not the class {impl.__name__}")
    if not isinstance(impl, Implementation):
        raise TypeError(f"pass an impls.Implementation instance or a registered name, not {type(impl).__name__}")
    return impl
