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
    X: torch.Tensor | np.ndarray,
    y: torch.Tensor | np.ndarray,
    fit_intercept: bool = True,
    sample_weight: torch.Tensor | np.ndarray | None = None,
) -> Reference:
    """Centred, column-scaled SVD least squares: accurate even where [X 1] is badly conditioned.

    With `sample_weight` (precision weights w) it is the weighted optimum of Σ wᵢ‖rᵢ‖²: the rows
    scaled by √w about the weighted means; σ̂² = Σ w r² / (rows with w > 0 − p); MSE = Σ w r² / (Σw·k).
    """
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    n, d = X.shape
    w = np.ones(n) if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
    total, observed = float(w.sum()), int((w > 0).sum())
    x_mean = w @ X / total if fit_intercept else np.zeros(d)
    y_mean = w @ y / total if fit_intercept else np.zeros(y.shape[1])
    root = np.sqrt(w)[:, None]
    Xc, yc = root * (X - x_mean), root * (y - y_mean)
    scale = np.linalg.norm(Xc, axis=0)
    scale[scale == 0] = 1.0
    U, s, Vt = np.linalg.svd(Xc / scale, full_matrices=False)
    keep = s > (s.max() if s.size else 0.0) * max(observed, d) * np.finfo(np.float64).eps
    s_inv = np.where(keep, 1.0 / np.where(keep, s, 1.0), 0.0)
    coef = (Vt.T @ (s_inv[:, None] * (U.T @ yc))) / scale[:, None]  # (d, k)
    bias = y_mean - x_mean @ coef
    residual = root * (y - X @ coef - bias)  # √w r
    rss = (residual**2).sum(axis=0)
    rank = int(keep.sum())
    n_params = rank + int(fit_intercept)
    dof = observed - n_params
    sigma = np.sqrt(rss / dof) if dof > 0 else np.full(y.shape[1], np.nan)
    # (XcᵀWXc)⁻¹ through the scaled SVD; the intercept's variance adds 1/Σw and x̄ᵀ C x̄.
    V_scaled = Vt.T * s_inv / scale[:, None]
    cov = V_scaled @ V_scaled.T
    se_weight = sigma[:, None] * np.sqrt(np.diag(cov))[None, :]
    bias_var = (1.0 / total + x_mean @ cov @ x_mean) if fit_intercept else 0.0
    se_bias = sigma * np.sqrt(bias_var)
    mse = float(rss.sum() / (total * y.shape[1]))
    return Reference(coef.T.copy(), bias, mse, sigma, se_weight, se_bias, rank, n_params, dof, fit_intercept)
