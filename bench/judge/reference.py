"""The least-squares optimum every fit is judged against, with its standard errors, accurate to
near float64's last digit whatever the conditioning.

A float64 solver is only as good as eps·κ: on an ill-conditioned problem the reference would be
worse than a good implementation it judges. So the centred, scaled SVD solution is refined
(Björck's iterative refinement of the augmented system [I A; Aᵀ 0][r; θ] = [y; 0]) with the
residuals of the *original* data computed in extended precision (`numpy.longdouble`, 64-bit
mantissa on x86-64 Linux); the SVD only solves for the corrections. The size of the last
correction is the reference's own estimated accuracy, `digits`.
"""

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
    digits: float = float("nan")  # estimated correct digits of θ* itself (min over parameters)
    cond: float = float("nan")  # condition number of the centred, column-scaled design
    sensitivity: float = float("nan")  # κ + κ²·tan θ: relative forward error of a stable solver / eps
    column_scale: np.ndarray | None = None  # (d,) norms of the centred (√w-scaled) columns: κ's coordinates
    x_mean: np.ndarray | None = None  # (d,) the (weighted) column means, zeros without intercept
    y_mean: np.ndarray | None = None  # (k,)


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
    rank = int(keep.sum())
    cond = float(s.max() / s[keep].min()) if rank else float("inf")
    digits = float("nan")
    if rank == d:  # refinement needs a unique optimum; a rank-deficient one keeps the minimum norm
        solver = _CorrectionSolver(U, s, Vt, scale, x_mean, root, fit_intercept)
        coef, bias, digits = _refine(X, y, root, coef, bias, solver, fit_intercept)
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
    fitted = np.linalg.norm(root * (X - x_mean) @ coef, axis=0)  # ‖A θ‖ in centred coordinates
    tan_theta = float(np.max(np.sqrt(rss) / np.where(fitted > 0, fitted, np.inf))) if rank else 0.0
    sensitivity = cond + cond**2 * tan_theta  # Golub & Van Loan's least-squares perturbation bound
    return Reference(
        coef.T.copy(), bias, mse, sigma, se_weight, se_bias, rank, n_params, dof, fit_intercept,
        digits=digits, cond=cond, sensitivity=sensitivity, column_scale=scale, x_mean=x_mean, y_mean=y_mean,
    )  # fmt: skip


EXTENDED = np.longdouble
REFINEMENT_STEPS = 6
FLOAT64_DIGITS = float(-np.log10(np.finfo(np.float64).eps))  # 15.65: θ* is stored in float64


class _CorrectionSolver:
    """Solves the augmented system for corrections with the float64 SVD of the centred, scaled
    design: in centred coordinates (w, b' = b + x̄ᵀw) the design is [Xc √w], nearly orthogonal."""

    def __init__(self, U, s, Vt, scale, x_mean, root, fit_intercept: bool) -> None:
        self.fit_intercept, self.x_mean, self.root = fit_intercept, x_mean, root[:, 0]
        self.U, self.s, self.Vt, self.scale = U, s, Vt, scale
        self.total = float((root**2).sum())

    def solve(self, f: np.ndarray, g_w: np.ndarray, g_b: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(δr, δw, δb) with δr + A(δw, δb) = f and Aᵀδr = (g_w, g_b), A = √w[X 1]."""
        # The intercept column is orthogonal to Xc: its block decouples (δb' from the weighted sums).
        g_centred = g_w - (self.x_mean[:, None] * g_b[None, :] if self.fit_intercept else 0.0)
        Utf = self.U.T @ f
        dz = self.Vt.T @ (Utf / self.s[:, None] - (self.Vt @ (g_centred / self.scale[:, None])) / self.s[:, None] ** 2)
        delta_w = dz / self.scale[:, None]
        if self.fit_intercept:
            delta_b_centred = (self.root @ f - g_b) / self.total
            delta_b = delta_b_centred - self.x_mean @ delta_w
            applied = self.U @ (self.s[:, None] * (self.Vt @ (delta_w * self.scale[:, None])))
            delta_r = f - applied - self.root[:, None] * delta_b_centred[None, :]
        else:
            delta_b = np.zeros(f.shape[1])
            delta_r = f - self.U @ (self.s[:, None] * (self.Vt @ (delta_w * self.scale[:, None])))
        return delta_r, delta_w, delta_b


def _refine(X, y, root, coef, bias, solver: _CorrectionSolver, fit_intercept: bool):
    """Björck's refinement with residuals of the original data in extended precision; returns the
    refined (coef, bias) and the digits of the last correction (capped at float64's)."""
    Xe, ye, re = X.astype(EXTENDED), y.astype(EXTENDED), root.astype(EXTENDED)
    w_e, b_e = coef.astype(EXTENDED), bias.astype(EXTENDED)
    r_e = re * (ye - Xe @ w_e - b_e)  # √w-scaled residual
    digits = 0.0
    for _ in range(REFINEMENT_STEPS):
        f = re * (ye - Xe @ w_e - b_e) - r_e  # the augmented system's residuals, in extended precision
        g_w = -(Xe.T @ (re * r_e))
        g_b = -(re * r_e).sum(axis=0) if fit_intercept else np.zeros(y.shape[1], dtype=EXTENDED)
        delta_r, delta_w, delta_b = solver.solve(f.astype(np.float64), g_w.astype(np.float64), g_b.astype(np.float64))
        r_e += delta_r
        w_e += delta_w
        b_e += delta_b
        theta = np.concatenate([w_e, b_e[None, :]]) if fit_intercept else w_e
        step = np.concatenate([delta_w, delta_b[None, :]]) if fit_intercept else delta_w
        with np.errstate(divide="ignore"):
            relative = np.abs(step) / np.where(theta != 0, np.abs(theta.astype(np.float64)), 1.0)
            digits = float(min(FLOAT64_DIGITS, -np.log10(relative.max()))) if relative.max() > 0 else FLOAT64_DIGITS
        if digits >= FLOAT64_DIGITS:
            break
    return w_e.astype(np.float64), b_e.astype(np.float64), digits
