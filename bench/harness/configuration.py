"""How one case's implementation options are put together: the only place that layers them.

Later layers win:

    1. the problem's tutorial settings       problem.training_for(name)   iterative implementations only
    2. run-wide training flags                --epochs --lr --batch-size   iterative implementations only;
                                              --optimizer                  only where the class takes one
    3. the spec's own options                 --impl nn-linear:lr=0.1,optimizer=adam
    4. fit_intercept                          the problem's, or --no-intercept

Closed forms have no training settings, so layers 1 and 2 do not reach them (by rule, not by
accident: `linreg-bench run --lr 0.1` still runs normal-equation). Any other key an
implementation does not accept is an error naming the layer it came from: nothing is dropped.
"""

from __future__ import annotations

from typing import Any

from bench.harness.cases import ImplSpec
from bench.problems.problem import Problem
from impls import Implementation, check_option_names, implementation_class

OPTIMIZER_KEYS = ("optimizer", "optimizer_args")


def layered_options(problem: Problem, spec: ImplSpec, overrides: dict[str, Any], fit_intercept: bool) -> dict:
    """The keyword arguments of `spec`'s implementation for `problem`, layered as the module says."""
    cls = implementation_class(spec.name)
    layers: list[tuple[str, dict[str, Any]]] = []
    if cls.iterative:
        run_wide = dict(overrides)
        if not cls.takes_optimizer:
            run_wide = {k: v for k, v in run_wide.items() if k not in OPTIMIZER_KEYS}
        layers += [(f"the {problem.name} problem's tutorial settings", problem.training_for(spec.name)),
                   ("the run-wide training flags", run_wide)]  # fmt: skip
    layers += [(f"--impl {spec.label}", dict(spec.options)), ("fit_intercept", {"fit_intercept": fit_intercept})]
    merged: dict[str, Any] = {}
    for origin, values in layers:
        check_option_names(cls.Options, values, spec.name, origin)
        merged.update(values)
    return merged


def configure(problem: Problem, spec: ImplSpec, overrides: dict[str, Any], fit_intercept: bool) -> Implementation:
    """The implementation for `spec` on `problem`, with its options layered (see the module)."""
    return implementation_class(spec.name)(**layered_options(problem, spec, overrides, fit_intercept))
