"""The float64 least-squares optimum every fit is judged against, with its standard errors."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch


@dataclass(frozen=True)
class Reference:
    """θ* = argmin ‖y − Xw − b‖² in float64, and the statistical yardstick around it.

    `sigma` is σ̂ per target (√(RSS / (n − p))); `se_weight` / `se_bias` the OLS standard errors
    σ̂ √diag((AᵀA)⁻¹). When there are no residual degrees of freedom they are NaN.
    """

    weight: np.ndarray  # (k, d)
    bias: np.ndarray  # (k,)
    mse: float  # L* over all n·k elements
    sigma: np.ndarray  # (k,)
    se_weight: np.ndarray  # (k, d)
    se_bias: np.ndarray  # (k,)
    rank: int
    n_params: int  # p = rank + intercept
    dof: int  # n − p
    fit_intercept: bool


def reference_solution(
    X: torch.Tensor | np.ndarray, y: torch.Tensor | np.ndarray, fit_intercept: bool = True
) -> Reference:
    """Centred, column-scaled SVD least squares: accurate even where [X 1] is badly conditioned."""
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    n, d = X.shape
    x_mean = X.mean(axis=0) if fit_intercept else np.zeros(d)
    y_mean = y.mean(axis=0) if fit_intercept else np.zeros(y.shape[1])
    Xc, yc = X - x_mean, y - y_mean
    scale = np.linalg.norm(Xc, axis=0)
    scale[scale == 0] = 1.0
    U, s, Vt = np.linalg.svd(Xc / scale, full_matrices=False)
    keep = s > (s.max() if s.size else 0.0) * max(n, d) * np.finfo(np.float64).eps
    s_inv = np.where(keep, 1.0 / np.where(keep, s, 1.0), 0.0)
    coef = (Vt.T @ (s_inv[:, None] * (U.T @ yc))) / scale[:, None]  # (d, k)
    bias = y_mean - x_mean @ coef
    residual = y - X @ coef - bias
    rss = (residual**2).sum(axis=0)
    rank = int(keep.sum())
    n_params = rank + int(fit_intercept)
    dof = n - n_params
    sigma = np.sqrt(rss / dof) if dof > 0 else np.full(y.shape[1], np.nan)
    # (XcᵀXc)⁻¹ through the scaled SVD; the intercept's variance adds 1/n and x̄ᵀ C x̄.
    V_scaled = Vt.T * s_inv / scale[:, None]
    cov = V_scaled @ V_scaled.T
    se_weight = sigma[:, None] * np.sqrt(np.diag(cov))[None, :]
    bias_var = (1.0 / n + x_mean @ cov @ x_mean) if fit_intercept else 0.0
    se_bias = sigma * np.sqrt(bias_var)
    return Reference(
        coef.T.copy(), bias, float(rss.sum() / y.size), sigma, se_weight, se_bias, rank, n_params, dof, fit_intercept
    )
