"""Closed-form ridge regression as a registered linreg-bench plug-in.

    min ‖y − Xw − b‖² + alpha ‖w‖²   (the bias is not penalised)

solved on centred data: (XcᵀXc + alpha I) w = Xcᵀ yc, then b = ȳ − x̄ᵀw. Beyond the required
`name` and `fit_unchecked` it declares only what it has: a summary, an option and a grid.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from impls import ClosedFormOptions, Implementation, LinearFit, OptionError
from impls.objective import Objective, ridge


@dataclass(frozen=True)
class RidgeOptions(ClosedFormOptions):  # fit_intercept comes with it
    alpha: float = 0.0  # 0: least squares itself

    def __post_init__(self) -> None:
        super().__post_init__()
        if not isinstance(self.alpha, (int, float)) or self.alpha < 0:
            raise OptionError(f"ridge: alpha must be a number >= 0, got {self.alpha!r}")


class Ridge(Implementation):
    name = "ridge"
    summary = "closed-form ridge regression on centred data (example plug-in)"
    Options = RidgeOptions
    grid = {"alpha": (0.0, 1e-2, 1.0)}

    def objective(self) -> Objective:  # judged against the ridge optimum, its distance from least squares shown
        return ridge(self.options.alpha, exact=True)

    def fit_unchecked(self, X: torch.Tensor, y: torch.Tensor) -> LinearFit:
        x_mean, y_mean = (X.mean(dim=0), y.mean(dim=0)) if self.options.fit_intercept else (0.0, 0.0)
        X, y = X - x_mean, y - y_mean
        gram = X.T @ X
        gram.diagonal().add_(self.options.alpha)
        weight = torch.linalg.solve(gram, X.T @ y).T.contiguous()  # (k, d)
        bias = y_mean - weight @ x_mean if self.options.fit_intercept else y.new_zeros(y.shape[1])
        return LinearFit(weight, bias, notes=[f"ridge alpha={self.options.alpha:g}"])
