"""The least-squares optimum every fit is judged against, with its standard errors, accurate to
near float64's last digit whatever the conditioning.

A float64 solver is only as good as eps·κ: on an ill-conditioned problem the reference would be
worse than a good implementation it judges. Where the problem is small enough (`exact.within_budget`)
the optimum is computed exactly in integer arithmetic and rounded once (`bench/judge/exact.py`).
Otherwise the centred, scaled SVD solution is refined
(Björck's iterative refinement of the augmented system [I A; Aᵀ 0][r; θ] = [y; 0]) with the
residuals of the *original* data computed in extended precision (`numpy.longdouble`, 64-bit
mantissa on x86-64 Linux); the SVD only solves for the corrections. The size of the last
correction, bounded by what residuals in extended precision can resolve, is the reference's own
estimated accuracy, `digits`: it is never above what the reference has (tests/test_reference_exact.py
checks it against exact solutions).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
import torch

from bench.judge.exact import exact_optimum, within_budget
from impls.objective import RIDGE, Objective


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
    method: str = "refined"  # exact (rational arithmetic) | refined (SVD + refinement) | minimum-norm (rank-deficient)
    # Penalised objectives' optima of the same data, computed once per objective (`own_optimum`).
    penalised: dict = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True)
class _Design:
    """The data as the reference solves it: rows scaled by √w about the (weighted) means, columns
    scaled to unit norm, and the float64 SVD of that design with its numerical rank."""

    X: np.ndarray  # (n, d) float64, as given
    y: np.ndarray  # (n, k)
    fit_intercept: bool
    root: np.ndarray  # (n, 1) √w
    total: float  # Σw
    observed: int  # rows with w > 0
    x_mean: np.ndarray  # (d,) zeros without intercept
    y_mean: np.ndarray  # (k,)
    scale: np.ndarray  # (d,) norms of the centred, √w-scaled columns (1 for a zero column)
    U: np.ndarray
    s: np.ndarray
    Vt: np.ndarray
    keep: np.ndarray  # singular values above the rank tolerance

    @classmethod
    def of(cls, X, y, fit_intercept: bool, sample_weight) -> _Design:
        X, y = np.asarray(X, dtype=np.float64), np.asarray(y, dtype=np.float64)
        n, d = X.shape
        w = np.ones(n) if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
        total, observed = float(w.sum()), int((w > 0).sum())
        x_mean = w @ X / total if fit_intercept else np.zeros(d)
        y_mean = w @ y / total if fit_intercept else np.zeros(y.shape[1])
        root = np.sqrt(w)[:, None]
        Xc = root * (X - x_mean)
        scale = np.linalg.norm(Xc, axis=0)
        scale[scale == 0] = 1.0
        U, s, Vt = np.linalg.svd(Xc / scale, full_matrices=False)
        keep = s > (s.max() if s.size else 0.0) * max(observed, d) * np.finfo(np.float64).eps
        return cls(X, y, fit_intercept, root, total, observed, x_mean, y_mean, scale, U, s, Vt, keep)

    @property
    def rank(self) -> int:
        return int(self.keep.sum())

    @property
    def s_inv(self) -> np.ndarray:
        return np.where(self.keep, 1.0 / np.where(self.keep, self.s, 1.0), 0.0)

    @property
    def cond(self) -> float:
        return float(self.s.max() / self.s[self.keep].min()) if self.rank else float("inf")

    def svd_solution(self) -> tuple[np.ndarray, np.ndarray]:
        """The float64 SVD solution (coef (d, k), bias (k,)) that refinement starts from, in X's units."""
        coef = _svd_coefficients(self.U, self.s_inv, self.Vt, self.root * (self.y - self.y_mean), self.scale)
        return coef, self.y_mean - self.x_mean @ coef


def _svd_coefficients(U, s_inv, Vt, yc, scale) -> np.ndarray:
    """The float64 SVD solution (d, k) in X's units (a module function: a test perturbs it)."""
    return (Vt.T @ (s_inv[:, None] * (U.T @ yc))) / scale[:, None]


def reference_solution(
    X: torch.Tensor | np.ndarray,
    y: torch.Tensor | np.ndarray,
    fit_intercept: bool = True,
    sample_weight: torch.Tensor | np.ndarray | None = None,
    exact: bool | None = None,
) -> Reference:
    """Centred, column-scaled SVD least squares: accurate even where [X 1] is badly conditioned.

    With `sample_weight` (precision weights w) it is the weighted optimum of Σ wᵢ‖rᵢ‖²: the rows
    scaled by √w about the weighted means; σ̂² = Σ w r² / (rows with w > 0 − p); MSE = Σ w r² / (Σw·k).
    `exact`: True or False forces the rational solution or the refined one; None chooses by size.
    """
    design = _Design.of(X, y, fit_intercept, sample_weight)
    n, d = design.X.shape
    coef, bias = design.svd_solution()
    digits, method = float("nan"), "minimum-norm"
    exact_fit = None
    if design.rank == d and (exact if exact is not None else within_budget(n, d, fit_intercept)):
        weights = None if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
        exact_fit = exact_optimum(design.X, design.y, fit_intercept, weights)
    if exact_fit is not None:  # correctly rounded: each parameter within half an ulp of the optimum
        weight_exact, bias = exact_fit
        coef, digits, method = weight_exact.T.copy(), FLOAT64_DIGITS, "exact"
    elif design.rank == d:  # refinement needs a unique optimum; a rank-deficient one keeps the minimum norm
        coef, bias, digits = _refine(design, coef, bias, _CorrectionSolver(design))
        method = "refined"
    return _with_statistics(design, coef, bias, digits, method)


def _with_statistics(design: _Design, coef: np.ndarray, bias: np.ndarray, digits: float, method: str) -> Reference:
    """The optimum with its yardstick: σ̂, the standard errors, the conditioning, and (for a
    refinement whose corrections vanished) the digits residuals in extended precision can resolve."""
    X, y, root, x_mean, fit_intercept = design.X, design.y, design.root, design.x_mean, design.fit_intercept
    residual = root * (y - X @ coef - bias)  # √w r
    rss = (residual**2).sum(axis=0)
    rank, cond = design.rank, design.cond
    n_params = rank + int(fit_intercept)
    dof = design.observed - n_params
    sigma = np.sqrt(rss / dof) if dof > 0 else np.full(y.shape[1], np.nan)
    # (XcᵀWXc)⁻¹ through the scaled SVD; the intercept's variance adds 1/Σw and x̄ᵀ C x̄.
    V_scaled = design.Vt.T * design.s_inv / design.scale[:, None]
    cov = V_scaled @ V_scaled.T
    se_weight = sigma[:, None] * np.sqrt(np.diag(cov))[None, :]
    bias_var = (1.0 / design.total + x_mean @ cov @ x_mean) if fit_intercept else 0.0
    se_bias = sigma * np.sqrt(bias_var)
    mse = float(rss.sum() / (design.total * y.shape[1]))
    fitted = np.linalg.norm(root * (X - x_mean) @ coef, axis=0)  # ‖A θ‖ in centred coordinates
    tan_theta = float(np.max(np.sqrt(rss) / np.where(fitted > 0, fitted, np.inf))) if rank else 0.0
    sensitivity = cond + cond**2 * tan_theta  # Golub & Van Loan's least-squares perturbation bound
    if method == "refined" and digits >= FLOAT64_DIGITS:  # corrections vanished: can residuals see the rest?
        digits = resolvable_digits(cond, design, coef, bias)
    return Reference(
        coef.T.copy(), bias, mse, sigma, se_weight, se_bias, rank, n_params, dof, fit_intercept,
        digits=digits, cond=cond, sensitivity=sensitivity, column_scale=design.scale, x_mean=x_mean,
        y_mean=design.y_mean, method=method,
    )  # fmt: skip


def own_optimum(
    ref: Reference,
    X: torch.Tensor | np.ndarray,
    y: torch.Tensor | np.ndarray,
    sample_weight: torch.Tensor | np.ndarray | None,
    objective: Objective,
) -> Reference | None:
    """The reference of the objective a fit estimates: `ref` itself for least squares; for a penalised
    one its own optimum (weight, bias, digits), with the least-squares yardstick (σ̂, standard errors)
    kept. None for a penalty with no optimum known here (the caller judges as least squares)."""
    if not objective.penalised:
        return ref
    if objective not in ref.penalised:
        ref.penalised[objective] = _penalised(ref, X, y, sample_weight, objective)
    return ref.penalised[objective]


def _penalised(ref: Reference, X, y, sample_weight, objective: Objective) -> Reference | None:
    X, y = np.asarray(X, dtype=np.float64), np.asarray(y, dtype=np.float64)
    w = None if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
    n, d = X.shape
    if objective.optimum is not None:  # the plug-in's own reference solution
        weight, bias = (np.asarray(v, dtype=np.float64) for v in objective.optimum(X, y, ref.fit_intercept, w))
        return replace(ref, weight=weight.reshape(ref.weight.shape), bias=bias.reshape(ref.bias.shape),
                       digits=float("nan"), method="plug-in")  # fmt: skip
    if objective.kind != RIDGE:
        return None
    alpha = objective.penalty(n)
    found = exact_optimum(X, y, ref.fit_intercept, w, alpha) if within_budget(n, d, ref.fit_intercept) else None
    if found is not None:
        return replace(ref, weight=found[0], bias=found[1], digits=FLOAT64_DIGITS, method="exact")
    weights = np.ones(n) if w is None else w  # the ridge optimum by the SVD of the centred √w-scaled X
    total = float(weights.sum())
    x_mean = weights @ X / total if ref.fit_intercept else np.zeros(d)
    y_mean = weights @ y / total if ref.fit_intercept else np.zeros(y.shape[1])
    root = np.sqrt(weights)[:, None]
    U, s, Vt = np.linalg.svd(root * (X - x_mean), full_matrices=False)
    coef = Vt.T @ ((s / (s**2 + alpha))[:, None] * (U.T @ (root * (y - y_mean))))  # (d, k)
    return replace(ref, weight=coef.T.copy(), bias=y_mean - x_mean @ coef, digits=float("nan"), method="svd")


EXTENDED = np.longdouble
REFINEMENT_STEPS = 6
# A digit below the last corrections when they stop shrinking: on Wampler3 a stalled correction of
# 1.2e-14 left an error of 5e-14 (0.6 digits claimed too many without it); over 900 random
# polynomial fits checked against their exact optimum a half digit still over-claimed by 0.57.
STALL_MARGIN = 1.0
FLOAT64_DIGITS = float(-np.log10(np.finfo(np.float64).eps))  # 15.65: θ* is stored in float64


def resolvable_digits(sensitivity: float, design: _Design, coef: np.ndarray, bias: np.ndarray) -> float:
    """The most digits refinement can reach with residuals in `EXTENDED`, per parameter: the
    normwise error settles near e = eps_ext·(κ + κ²·tan θ) times the √n growth of rounding over
    the sums (as the digit floor allows for float64); a weight holds e·‖z‖/|z_j| of itself (z = w
    times the column scales, κ's coordinates), the intercept e·(|ȳ| + |x̄|ᵀ|w|)/|b| (b = ȳ − x̄ᵀw
    cancels), plus the float64 rounding of the result. Where `longdouble` is only float64 (some
    platforms) this shrinks the claim by itself."""
    x_mean, y_mean = design.x_mean, design.y_mean
    e = float(np.finfo(EXTENDED).eps) * max(10.0, float(np.sqrt(design.observed))) * max(sensitivity, 1.0)
    z = np.abs(coef * design.scale[:, None])  # (d, k)
    with np.errstate(divide="ignore", invalid="ignore"):
        relative = [e * np.linalg.norm(z, axis=0)[None, :] / z]
        if design.fit_intercept:
            size = np.abs(y_mean) + np.abs(x_mean) @ np.abs(coef)
            relative.append((e * size / np.abs(bias))[None, :])
        worst = float(np.nanmax(np.concatenate(relative))) + float(np.finfo(np.float64).eps) / 2
    return float(np.clip(-np.log10(worst), 0.0, FLOAT64_DIGITS))


class _CorrectionSolver:
    """Solves the augmented system for corrections with the float64 SVD of the centred, scaled
    design: in centred coordinates (w, b' = b + x̄ᵀw) the design is [Xc √w], nearly orthogonal."""

    def __init__(self, design: _Design) -> None:
        self.fit_intercept, self.x_mean, self.root = design.fit_intercept, design.x_mean, design.root[:, 0]
        self.U, self.s, self.Vt, self.scale = design.U, design.s, design.Vt, design.scale
        self.total = float((design.root**2).sum())

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


def _refine(design: _Design, coef: np.ndarray, bias: np.ndarray, solver: _CorrectionSolver):
    """Björck's refinement with residuals of the original data in extended precision; returns the
    refined (coef, bias) and its digits: float64's when a correction vanished below them, else the
    larger of the last two corrections less STALL_MARGIN (corrections that stop shrinking are
    rounding noise, and the error left is about their size in any direction)."""
    X, y, fit_intercept = design.X, design.y, design.fit_intercept
    Xe, ye, re = X.astype(EXTENDED), y.astype(EXTENDED), design.root.astype(EXTENDED)
    w_e, b_e = coef.astype(EXTENDED), bias.astype(EXTENDED)
    r_e = re * (ye - Xe @ w_e - b_e)  # √w-scaled residual
    history = [0.0]
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
            worst = relative.max()
            history.append(float(min(FLOAT64_DIGITS, -np.log10(worst))) if worst > 0 else FLOAT64_DIGITS)
        if history[-1] >= FLOAT64_DIGITS:
            return w_e.astype(np.float64), b_e.astype(np.float64), FLOAT64_DIGITS
    digits = max(0.0, min(history[-2:]) - STALL_MARGIN)
    return w_e.astype(np.float64), b_e.astype(np.float64), digits
