"""What an implementation estimates, so that its fit is judged by its own standard (DESIGN.md, "What
a verdict is measured against"): least squares solved exactly, least squares approached
iteratively, or a penalised objective with an optimum of its own. Torch-free, like the declarations.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

LEAST_SQUARES = "least-squares"
RIDGE = "ridge"  # min Σ wᵢ‖yᵢ − Wxᵢ − b‖² + alpha·‖W‖²: the bias is not penalised (scikit-learn's Ridge)
PENALISED = "penalised"  # some other penalty: the plug-in supplies its optimum, or it is judged as iterative

# (X, y, fit_intercept, sample_weight) as float64 NumPy arrays -> (weight (k, d), bias (k,)): the
# optimum of a penalised objective, supplied by the plug-in that declares it.
OptimumSolver = Callable[[Any, Any, bool, Any], tuple[Any, Any]]


@dataclass(frozen=True)
class Objective:
    """The objective a fit estimates and how: `exact` fits are held to the float64 digit floor of
    their own optimum; iterative ones are judged statistically and by convergence."""

    kind: str = LEAST_SQUARES
    exact: bool = False
    alpha: float = 0.0  # ridge: the penalty on ‖W‖², in the units of the summed squared error
    alpha_per_row: float = 0.0  # ridge: a penalty on the mean loss's scale, times n rows (SGDRegressor's)
    optimum: OptimumSolver | None = None  # penalised: the plug-in's own reference solution
    declared: bool = True  # False: a plug-in that said nothing, judged as iterative least squares

    def penalty(self, n: int) -> float:
        """The ridge penalty in summed-squared-error units on n rows."""
        return self.alpha + self.alpha_per_row * n

    @property
    def penalised(self) -> bool:
        return self.kind == PENALISED or (self.kind == RIDGE and (self.alpha > 0 or self.alpha_per_row > 0))

    def with_alpha_per_row(self, alpha: float) -> Objective:
        return replace(self, kind=RIDGE, alpha_per_row=float(alpha))

    def label(self, n: int) -> str:
        how = "exact" if self.exact else "iterative"
        if self.kind == RIDGE and self.penalised:
            return f"ridge alpha={self.penalty(n):.4g} ({how})"
        if self.kind == PENALISED:
            return f"penalised ({how})"
        return f"least squares ({how})" + ("" if self.declared else ", undeclared")


EXACT_LEAST_SQUARES = Objective(LEAST_SQUARES, exact=True)
ITERATIVE_LEAST_SQUARES = Objective(LEAST_SQUARES, exact=False)
UNDECLARED = Objective(LEAST_SQUARES, exact=False, declared=False)


def ridge(alpha: float, exact: bool) -> Objective:
    """Ridge with penalty `alpha` (0 is least squares itself)."""
    if alpha == 0:
        return EXACT_LEAST_SQUARES if exact else ITERATIVE_LEAST_SQUARES
    return Objective(RIDGE, exact=exact, alpha=float(alpha))
