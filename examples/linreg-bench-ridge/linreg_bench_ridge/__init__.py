"""Closed-form ridge regression as a linreg-bench implementation (the plug-in contract, complete).

    min ‖y − Xw − b‖² + alpha ‖w‖²   (the bias is not penalised)

solved on centred data: (XcᵀXc + alpha I) w = Xcᵀ yc, then b = ȳ − x̄ᵀw.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from impls import ClosedFormOptions, Implementation, LinearFit, OptionError
from impls.cost import closed_form
from impls.objective import Objective, ridge


@dataclass(frozen=True)
class RidgeOptions(ClosedFormOptions):
    """Options are a frozen dataclass: each field is an option (`--impl ridge:alpha=0.1`), checked once."""

    alpha: float = 0.0  # 0: least squares itself, judged like a built-in closed form

    def __post_init__(self) -> None:
        super().__post_init__()  # fit_intercept
        if not isinstance(self.alpha, (int, float)) or self.alpha < 0:
            raise OptionError(f"ridge: alpha must be a number >= 0, got {self.alpha!r}")


class Ridge(Implementation):
    name = "ridge"  # the stable name users type; must not clash with a built-in
    summary = "closed-form ridge regression on centred data (example plug-in)"
    Options = RidgeOptions
    devices = ("cpu", "cuda")
    dtypes = (torch.float32, torch.float64)
    grid = {"alpha": (0.0, 1e-2, 1.0)}  # values worth comparing

    def objective(self) -> Objective:
        """What the fit estimates, so it is judged against the ridge optimum (not least squares): the
        harness shows how far that optimum lies from the least-squares one as bias by design."""
        return ridge(self.options.alpha, exact=True)

    def cost(self, n: int, d: int, k: int, itemsize: int):
        """The work model (bytes, flops) the harness turns into a roofline bound: a Cholesky-like solve."""
        return closed_form("cholesky", n, d, k, itemsize, self.options.fit_intercept)

    def fit_unchecked(self, X: torch.Tensor, y: torch.Tensor) -> LinearFit:
        """X (n, d), y (n, k): validated, on the device and in the dtype to time. Return weight (k, d)
        and bias (k,) on the same device and dtype."""
        if self.options.fit_intercept:
            x_mean, y_mean = X.mean(dim=0), y.mean(dim=0)
            X, y = X - x_mean, y - y_mean
        gram = X.T @ X
        gram.diagonal().add_(self.options.alpha)
        weight = torch.linalg.solve(gram, X.T @ y).T.contiguous()  # (k, d)
        if self.options.fit_intercept:
            bias = y_mean - weight @ x_mean
        else:
            bias = torch.zeros(y.shape[1], dtype=X.dtype, device=X.device)
        return LinearFit(weight, bias, notes=[f"ridge alpha={self.options.alpha:g}"])
