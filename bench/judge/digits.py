"""Digits of agreement, LRE = −log10(|θ̂ − θ| / |θ|) (McCullough 1998): against the float64 optimum
for every fit, and against certified values where a problem has them."""

from __future__ import annotations

import numpy as np

from bench.judge.reference import Reference
from bench.problems.problem import Problem

MAX_DIGITS = 15.0  # certified values carry 15 significant digits (McCullough 1998 caps LRE there)


def lre(estimate: np.ndarray, exact: np.ndarray) -> np.ndarray:
    """Digits of agreement per element: relative where the exact value is non-zero, absolute where it
    is zero; capped at MAX_DIGITS, floored at 0; NaN estimates get 0."""
    estimate, exact = np.asarray(estimate, dtype=float), np.asarray(exact, dtype=float)
    error = np.abs(estimate - exact)
    relative = np.where(exact != 0, error / np.where(exact != 0, np.abs(exact), 1.0), error)
    with np.errstate(divide="ignore"):
        digits = -np.log10(relative)
    digits = np.where(np.isnan(digits), 0.0, digits)
    return np.clip(digits, 0.0, MAX_DIGITS)


def digit_figures(weight: np.ndarray, bias: np.ndarray, ref: Reference, problem: Problem, fit_intercept: bool) -> dict:
    """`digits_ref` against the float64 optimum and, where the problem has certified values for
    this model (with or without intercept), `lre_min` and `lre_params` (weights, then bias)."""
    theta = np.concatenate([weight, bias[:, None]], axis=1) if fit_intercept else weight
    ref_theta = np.concatenate([ref.weight, ref.bias[:, None]], axis=1) if fit_intercept else ref.weight
    figures: dict = {"digits_ref": float(lre(theta, ref_theta).min())}
    certified = problem.certified
    if certified is not None and certified.intercept == fit_intercept:
        per_param = lre(theta, certified.theta())
        figures["lre_min"] = float(per_param.min())
        figures["lre_params"] = " ".join(f"{v:.2f}" for v in per_param.ravel())
    return figures
