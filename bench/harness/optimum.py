"""The reference optimum of a command's data, at the boundary that asks for it: data whose float64
least squares overflows (values near 1e308, whose sums and norms are infinite) has no reference
to judge against, and that is bad input (exit 2, one line), not a traceback or a failed case."""

from __future__ import annotations

import numpy as np

from bench.errors import InputError
from bench.judge.reference import Reference, reference_solution
from bench.problems.problem import Problem


def checked_reference(problem: Problem, fit_intercept: bool) -> Reference:
    """`reference_solution` for `problem`, or an InputError naming the problem when it cannot be had."""
    why = None
    try:
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            reference = reference_solution(problem.X, problem.y, fit_intercept, problem.sample_weight)
    except (np.linalg.LinAlgError, ValueError, FloatingPointError) as exc:
        why = str(exc) or type(exc).__name__
    else:
        if np.isfinite(reference.weight).all() and np.isfinite(reference.bias).all():
            return reference
        why = "its solution is not finite"
    raise InputError(
        f"{problem.name}: the float64 least-squares reference overflows ({why}): the values are too large to "
        "judge a fit against; rescale the columns (e.g. to units near 1)"
    )
