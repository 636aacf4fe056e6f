"""Whether a fit recovered what it should: against the truth, and against the float64 optimum.

The yardstick is statistical, not a magic number: errors are measured in units of the optimum's
own standard errors, so the same tolerance works for any n, d and noise level. The tolerances
are Bonferroni-corrected at ALPHA: an estimator as good as least squares fails by chance less
than once in 1/ALPHA problems.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
import torch
from scipy import stats

from bench.judge.digits import MAX_DIGITS, digit_figures
from bench.judge.reference import Reference, own_optimum
from bench.problems.problem import Problem
from impls import LinearFit
from impls.objective import ITERATIVE_LEAST_SQUARES, Objective

ALPHA = 1e-3
DIVERGENCE_FACTOR = 100.0  # a loss this many times that of predicting 0 has blown up
# Below this many residual degrees of freedom σ̂ is too uncertain to be a yardstick: the F bound of
# the 99.9% ellipsoid is 950 standard errors at ν = 1 (p = 4), 63 at ν = 2, 15 at ν = 4, 11 at ν = 5.
# Such a fit is held to the dtype's precision, as a noise-free one is.
MIN_DOF = 5
MIN_CERTIFIED_DIGITS = 1.0  # below one correct digit a fit is garbage, whatever the statistics say
# σ̂ below this fraction of the data's own scale (√ of the loss of predicting 0) is rounding, not noise:
# a noise-free problem, judged by the dtype's precision instead of by standard errors.
NOISE_FREE = 1e-12
TINY = 1e-300  # keeps that scale positive for all-zero targets


@dataclass(frozen=True)
class Verdict:
    """The status of one fit and every figure that led to it."""

    status: str  # ok | not-recovered | diverged
    reason: str
    final_loss: float  # MSE over all n·k elements, float64
    excess_loss: float  # (L − L*) / L*
    param_distance: float  # ‖θ − θ*‖ / ‖θ*‖
    opt_distance_se: float  # max over targets of ‖A(θ − θ*)‖ / σ̂: distance in standard errors
    opt_tol_se: float
    truth_error_se: float  # max |θ_j − θ_true_j| / se_j, NaN without truth
    truth_tol_se: float
    digits_ref: float = float("nan")  # min LRE against the (refined) least-squares optimum
    digits_scaled: float = float("nan")  # normwise digits in the coordinates κ is measured in
    digits_floor: float = float("nan")  # the fewest of those a stable float64 closed form keeps here
    reference_digits: float = float("nan")  # the optimum's own estimated accuracy
    lre_min: float = float("nan")  # min LRE against certified values, where the problem has them
    lre_params: str = ""  # per parameter: weights in column order, then bias
    objective: str = ""  # what the fit was judged against (impls/objective.py)
    objective_bias_se: float = float("nan")  # a penalised optimum's distance from least squares: bias by design

    def figures(self) -> dict[str, float | str]:
        return dict(self.__dict__)


def _params(fit: LinearFit) -> tuple[np.ndarray, np.ndarray]:
    return (fit.weight.detach().to("cpu", torch.float64).numpy(), fit.bias.detach().to("cpu", torch.float64).numpy())


def truth_tolerance(n_params: int, dof: float = math.inf) -> float:
    """Two-sided Student-t quantile with the residual degrees of freedom (σ is estimated from the
    residuals), Bonferroni over the parameters; the normal quantile as dof → ∞. With few degrees of
    freedom the difference is large: Longley (dof 9) needs 6.1 SE where the normal says 4.0."""
    quantile = 1 - ALPHA / (2 * n_params)
    return float(stats.norm.ppf(quantile) if math.isinf(dof) else stats.t.ppf(quantile, dof))


def optimum_tolerance(p: int, k: int, dof: float = math.inf) -> float:
    """The edge of the optimum's (1 − ALPHA) confidence ellipsoid per target, in σ̂ units:
    √(p · F_{p,dof}) with σ estimated from dof residual degrees of freedom, √χ²_p as dof → ∞."""
    quantile = 1 - ALPHA / k
    if math.isinf(dof):
        return float(math.sqrt(stats.chi2.ppf(quantile, df=p)))
    return float(math.sqrt(p * stats.f.ppf(quantile, p, dof)))


def loss_and_excess(
    weight: np.ndarray,
    bias: np.ndarray,
    X: np.ndarray,
    y: np.ndarray,
    ref: Reference,
    sample_weight: np.ndarray | None = None,
) -> tuple[float, float, np.ndarray]:
    """(training MSE, excess loss (L − L*)/L*, √w·A(θ − θ*)) in float64 (w = 1 without weights;
    the MSE is then Σ w r² / (Σw·k)).

    L − L* = ‖√w·A(θ − θ*)‖² / (Σw·k) exactly, because the optimum's weighted residual is
    orthogonal to A, so the excess comes from the shift itself, not from a difference of two nearly
    equal losses. Without noise (L* = 0) it is relative to the loss of predicting 0. A diverging
    fit overflows: that is reported as inf, not warned about.
    """
    root = np.ones((X.shape[0], 1)) if sample_weight is None else np.sqrt(sample_weight)[:, None]
    total = float((root**2).sum())
    with np.errstate(over="ignore", invalid="ignore"):
        loss = float(((root * (y - X @ weight.T - bias)) ** 2).sum() / (total * y.shape[1]))
        shift = root * (X @ (weight - ref.weight).T + (bias - ref.bias))  # (n, k)
        scale = ref.mse if ref.mse > 0 else _zero_loss(y, root)
        excess = float((shift**2).sum() / (total * y.shape[1]) / scale) if scale > 0 else 0.0
    return loss, excess, shift


def _zero_loss(y: np.ndarray, root: np.ndarray) -> float:
    """The (weighted) MSE of predicting 0: the yardstick of divergence and of noise-free excess."""
    return float(((root * y) ** 2).sum() / ((root**2).sum() * y.shape[1]))


def judge(
    fit: LinearFit,
    problem: Problem,
    ref: Reference,
    dtype: torch.dtype,
    fit_intercept: bool,
    objective: Objective = ITERATIVE_LEAST_SQUARES,
) -> Verdict:
    """The verdict on one fit against the optimum of its own objective, in named steps: blown up?
    then identifiable, near that optimum, near the truth (least squares only), and for a float64
    exact least-squares solver enough digits; every failing step adds its sentence. A penalised
    optimum's distance from the least-squares one is shown (`objective_bias_se`), never failed."""
    X, y = problem.X.numpy(), problem.y.numpy()
    sample_weight = None if problem.sample_weight is None else problem.sample_weight.numpy()
    own = own_optimum(ref, problem.X, problem.y, problem.sample_weight, objective)
    if own is None:  # a penalty with no optimum known here: judged as iterative least squares
        objective, own = ITERATIVE_LEAST_SQUARES, ref
    label = objective.label(problem.n)
    weight, bias = _params(fit)
    losses = np.asarray(fit.losses, dtype=float)
    root = np.ones((X.shape[0], 1)) if sample_weight is None else np.sqrt(sample_weight)[:, None]
    zero_loss = _zero_loss(y, root)
    if not (np.isfinite(weight).all() and np.isfinite(bias).all()) or not np.isfinite(losses).all():
        return replace(_non_finite_verdict(losses), objective=label)

    final_loss, excess, _ = loss_and_excess(weight, bias, X, y, ref, sample_weight)
    shift = _shift(weight, bias, X, own, root)
    param_distance = _relative_distance(weight, bias, own)
    digits = digit_figures(weight, bias, own, problem, fit_intercept)
    digits["reference_digits"] = own.digits
    if objective.exact and not objective.penalised and dtype == torch.float64 and ref.rank == problem.d:
        digits["digits_scaled"] = scaled_digits(weight, bias, ref)
        digits["digits_floor"] = digit_floor(ref)
    nan = float("nan")
    statistical = ref.dof >= MIN_DOF and bool(np.all(ref.sigma > NOISE_FREE * math.sqrt(max(zero_loss, TINY))))
    context = {"objective": label, "objective_bias_se": _bias_by_design(own, ref, X, root, statistical)}
    blown_up = _blow_up_reason(final_loss, zero_loss, losses)
    if blown_up is not None:
        figures = (final_loss, excess, param_distance, nan, nan, nan, nan)
        return Verdict("diverged", blown_up, *figures, **digits, **context)

    failures = _identifiability_failures(fit, problem, ref, dtype, digits, objective)
    where = "the least-squares optimum" if not objective.penalised else f"the {label.split(' (')[0]} optimum"
    opt_distance, opt_tol, failed = _optimum_check(shift, ref, param_distance, dtype, statistical, where)
    failures += failed
    truth_error = truth_tol = nan
    if not objective.penalised:  # a penalised optimum is biased by design: the truth is not its target
        truth_error, truth_tol, failed = _truth_check(weight, bias, problem, ref, fit_intercept, statistical)
        failures += failed

    status = "not-recovered" if failures else "ok"
    reason = "; ".join(failures) + (f"; excess loss {excess:.3g}" if failures else "")
    figures = (final_loss, excess, param_distance, opt_distance, opt_tol, truth_error, truth_tol)
    return Verdict(status, reason, *figures, **digits, **context)


def _shift(weight: np.ndarray, bias: np.ndarray, X: np.ndarray, ref: Reference, root: np.ndarray) -> np.ndarray:
    """√w·A(θ − θ_ref), (n, k): the fit's distance from a reference in the data's own metric."""
    with np.errstate(over="ignore", invalid="ignore"):
        return root * (X @ (weight - ref.weight).T + (bias - ref.bias))


def _bias_by_design(own: Reference, ref: Reference, X: np.ndarray, root: np.ndarray, statistical: bool) -> float:
    """How far a penalised optimum lies from the least-squares one, in standard errors (relative
    distance without a statistical yardstick); NaN for least squares itself."""
    if own is ref:
        return float("nan")
    if not statistical:
        return _relative_distance(own.weight, own.bias, ref)
    return float(np.max(np.linalg.norm(_shift(own.weight, own.bias, X, ref, root), axis=0) / ref.sigma))


def _non_finite_verdict(losses: np.ndarray) -> Verdict:
    bad = np.flatnonzero(~np.isfinite(losses))
    where = f" at epoch {int(bad[0]) + 1}" if bad.size else ""
    nan = float("nan")
    return Verdict("diverged", f"non-finite loss or parameters{where}", nan, nan, nan, nan, nan, nan, nan, 0.0)


def _relative_distance(weight: np.ndarray, bias: np.ndarray, ref: Reference) -> float:
    """‖θ − θ*‖ / ‖θ*‖ over weights and bias together."""
    theta = np.concatenate([weight, bias[:, None]], axis=1)
    theta_ref = np.concatenate([ref.weight, ref.bias[:, None]], axis=1)
    return float(np.linalg.norm(theta - theta_ref) / max(np.linalg.norm(theta_ref), np.finfo(float).tiny))


def _blow_up_reason(final_loss: float, zero_loss: float, losses: np.ndarray) -> str | None:
    """A training loss over DIVERGENCE_FACTOR times that of predicting 0 has blown up."""
    blow_up = DIVERGENCE_FACTOR * max(zero_loss, np.finfo(float).tiny)
    if not final_loss > blow_up:
        return None
    over = np.flatnonzero(losses > blow_up)
    where = f" from epoch {int(over[0]) + 1}" if over.size else ""
    return f"training loss {final_loss:.3g} is over {DIVERGENCE_FACTOR:g}× that of predicting 0{where}"


def _identifiability_failures(
    fit: LinearFit, problem: Problem, ref: Reference, dtype: torch.dtype, digits: dict, objective: Objective
) -> list[str]:
    """Rank deficiency (of X, or only in the rank the fit's solver found: a fact, `fit.facts`, never
    a note) and too few certified digits. A penalised optimum is unique whatever X's rank."""
    failures = []
    if objective.penalised:
        pass
    elif ref.rank < problem.d:
        failures.append(
            f"X is rank-deficient (rank {ref.rank} of {problem.d} columns: constant, duplicated or collinear "
            "columns), so its parameters are not identifiable"
        )
    elif fit.facts.rank_deficient:
        failures.append(
            f"numerically rank-deficient in {str(dtype).removeprefix('torch.')} although X has full rank in float64 "
            f"({digits['digits_ref']:.1f} digits agree with the float64 optimum)"
        )
    if digits.get("lre_min", MIN_CERTIFIED_DIGITS) < MIN_CERTIFIED_DIGITS:
        failures.append(f"only {digits['lre_min']:.1f} digits agree with the certified values")
    floor = digits.get("digits_floor", float("nan"))
    if digits.get("digits_scaled", float("nan")) < floor:
        failures.append(
            f"only {digits['digits_scaled']:.1f} digits agree with the least-squares optimum where a stable float64 "
            f"solver keeps {floor:.1f} (−log10(eps·max(10, √n)·(κ + κ²·tan θ)) − 1, κ = {ref.cond:.3g} scaled)"
        )
    return failures


def scaled_digits(weight: np.ndarray, bias: np.ndarray, ref: Reference) -> float:
    """Normwise digits where the perturbation bound holds: the weights times their centred column
    norms (κ's coordinates), and the intercept relative to what it is computed from, |ȳ| + |x̄|ᵀ|w|
    (b = ȳ − x̄ᵀw cancels: Norris's −0.26 from terms near 400 keeps 3 digits fewer, by arithmetic)."""
    z_error = np.linalg.norm((weight - ref.weight) * ref.column_scale, axis=1)
    z_size = np.linalg.norm(ref.weight * ref.column_scale, axis=1)
    relative = [z_error / np.where(z_size > 0, z_size, 1.0)]
    if ref.fit_intercept:
        size = np.abs(ref.y_mean) + np.abs(ref.weight) @ np.abs(ref.x_mean)
        relative.append(np.abs(bias - ref.bias) / np.where(size > 0, size, 1.0))
    worst = float(np.max(np.concatenate(relative)))
    return float(MAX_DIGITS) if worst == 0 else float(np.clip(-np.log10(worst), 0.0, MAX_DIGITS))


def digit_floor(ref: Reference) -> float:
    """The digits a backward-stable float64 least-squares solver keeps, less slack: its relative
    error is about eps·(κ + κ²·tan θ) (Golub & Van Loan, §5.3), κ of the centred, column-scaled
    design, θ the angle between y and its fit, times the growth of rounding over the n-term sums
    that build it — √n for rounding errors that do not all point one way (Higham & Mary 2019) —
    and one digit more. The slack is never under the two digits of a small problem: max(10, √n).
    Without noise and n ≤ 100 this is −log10(eps·κ) − 2; at n = 1e6 a fit of κ ≈ 1 is held to 11.6
    digits (a centred Gram over 1e6 rows keeps 13.4 here, where the old − 2 demanded 13.6)."""
    eps = float(np.finfo(np.float64).eps)
    growth = max(10.0, float(np.sqrt(ref.dof + ref.n_params)))
    return max(0.0, float(-np.log10(eps * growth * max(ref.sensitivity, 1.0))) - 1.0)


def _optimum_check(
    shift: np.ndarray, ref: Reference, param_distance: float, dtype: torch.dtype, statistical: bool, where: str
) -> tuple[float, float, list[str]]:
    """Inside the optimum's confidence ellipsoid; without noise or residual degrees of freedom
    there is no statistical yardstick, so the dtype's precision is the tolerance."""
    nan = float("nan")
    if statistical:
        opt_distance = float(np.max(np.linalg.norm(shift, axis=0) / ref.sigma))
        opt_tol = optimum_tolerance(ref.n_params, shift.shape[1], ref.dof)
        if opt_distance > opt_tol:
            return (
                opt_distance,
                opt_tol,
                [f"{opt_distance:.3g} standard errors from {where} (tolerance {opt_tol:.2f})"],
            )
        return opt_distance, opt_tol, []
    precision = math.sqrt(torch.finfo(dtype).eps)
    if param_distance > precision:
        return nan, nan, [f"relative distance {param_distance:.3g} from {where} (tolerance {precision:.2g})"]
    return nan, nan, []


def _truth_check(
    weight: np.ndarray, bias: np.ndarray, problem: Problem, ref: Reference, fit_intercept: bool, statistical: bool
) -> tuple[float, float, list[str]]:
    """Each parameter within its Bonferroni bound of the truth, in standard errors (synthetic data)."""
    nan = float("nan")
    applies = problem.has_truth and (fit_intercept or not problem.true_bias.abs().max() > 0)
    if not (applies and statistical):
        return nan, nan, []
    k = weight.shape[0]
    true_w = problem.true_weight.numpy()
    true_b = problem.true_bias.numpy() if fit_intercept else np.zeros(k)
    errors = [np.abs(weight - true_w) / ref.se_weight]
    if fit_intercept:
        errors.append(np.abs(bias - true_b)[:, None] / ref.se_bias[:, None])
    truth_error = float(np.max(np.concatenate(errors, axis=1)))
    truth_tol = truth_tolerance(ref.n_params * k, ref.dof)
    if truth_error > truth_tol:
        return (
            truth_error,
            truth_tol,
            [f"a parameter is {truth_error:.3g} standard errors from the truth (tolerance {truth_tol:.2f})"],
        )
    return truth_error, truth_tol, []
