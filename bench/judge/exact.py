"""The exact least-squares optimum of the data as given in float64, in integer arithmetic.

Every float64 is a dyadic rational m·2^e, so a column times a power of two is a column of Python
integers, the (weighted) Gram matrix and Aᵀy are exact integer sums, and Gauss–Jordan elimination
in `fractions.Fraction` solves the normal equations with no rounding at all: squaring κ costs
nothing when nothing is rounded. The answer is then rounded once to float64, so every parameter is
within half an ulp of the optimum of the data (NIST's certified values are the optimum of the
decimal data, which the conversion to float64 has already moved: on Filip by 7.6 digits).

The cost grows as n·p² big-integer products (p = d + intercept): `EXACT_BUDGET` keeps it to about
a second on a small machine (docs/judging.md), and larger problems use the refined float64 solution.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np

# n·p² multiply-adds of big integers (NIST Filip, 82 × 11, is 1e4; d2l, 1000 × 3, 9e3): problems up to
# this many are solved exactly, larger ones by the refined float64 SVD (bench/judge/reference.py).
EXACT_BUDGET = 2_000_000
MANTISSA_BITS = 53  # float64: m·2^53 is an integer for every finite value


def within_budget(n: int, d: int, fit_intercept: bool) -> bool:
    return n * (d + int(fit_intercept)) ** 2 <= EXACT_BUDGET


def _integer_columns(values: np.ndarray) -> tuple[list[list[int]], list[int]]:
    """Each column as exact integers and the power of two it was scaled by: column = ints · 2^shift."""
    mantissa, exponent = np.frexp(values)
    integers = (mantissa * 2.0**MANTISSA_BITS).astype(np.int64)  # exact: |m·2^53| < 2^53
    exponent = exponent.astype(np.int64) - MANTISSA_BITS
    columns, shifts = [], []
    for j in range(values.shape[1]):
        nonzero = integers[:, j] != 0
        shift = int(exponent[nonzero, j].min()) if nonzero.any() else 0
        pairs = zip(integers[:, j].tolist(), exponent[:, j].tolist(), strict=True)
        columns.append([m << (e - shift) if m else 0 for m, e in pairs])
        shifts.append(shift)
    return columns, shifts


def _dot(a: list[int], b: list[int]) -> int:
    return sum(x * y for x, y in zip(a, b, strict=True))


def exact_optimum(
    X: np.ndarray,
    y: np.ndarray,
    fit_intercept: bool,
    sample_weight: np.ndarray | None = None,
    ridge_alpha: float = 0.0,
) -> tuple[np.ndarray, np.ndarray] | None:
    """(weight (k, d), bias (k,)), each the float64 nearest the exact optimum of
    min Σ wᵢ‖yᵢ − Wxᵢ − b‖² + ridge_alpha·‖W‖² (the bias unpenalised); None when the normal
    equations are exactly singular (the optimum is not unique)."""
    X, y = np.asarray(X, dtype=np.float64), np.asarray(y, dtype=np.float64)
    n, d = X.shape
    if not (np.isfinite(X).all() and np.isfinite(y).all()):
        return None
    A = np.column_stack([X, np.ones(n)]) if fit_intercept else X
    a_cols, a_shifts = _integer_columns(A)
    y_cols, y_shifts = _integer_columns(y)
    if sample_weight is not None:
        (w,), (w_shift,) = _integer_columns(np.asarray(sample_weight, dtype=np.float64)[:, None])
        weighted = [[wi * aij for wi, aij in zip(w, col, strict=True)] for col in a_cols]
    else:
        w_shift, weighted = 0, a_cols
    p, k = len(a_cols), len(y_cols)
    # Σ w a_i a_j = 2^(w_shift + s_i + s_j) · G_ij: solve in units where every entry is an integer.
    gram = [[Fraction(_dot(weighted[i], a_cols[j])) for j in range(p)] for i in range(p)]
    for i in range(d if ridge_alpha else 0):  # + α on the weights' diagonal, in the same units
        gram[i][i] += Fraction(ridge_alpha) * Fraction(2) ** (-2 * a_shifts[i] - w_shift)
    rhs = [[Fraction(_dot(weighted[i], y_cols[t])) for t in range(k)] for i in range(p)]
    solution = _solve(gram, rhs)
    if solution is None:
        return None
    # G_ij·2^(s_i+s_j) θ_j = b_it·2^(s_i+u_t)  ⇒  θ_jt = φ_jt · 2^(u_t − s_j), with G φ = b.
    theta = np.array(
        [[float(solution[j][t] * Fraction(2) ** (y_shifts[t] - a_shifts[j])) for t in range(k)] for j in range(p)]
    )
    weight = theta[:d].T.copy()
    bias = theta[d].copy() if fit_intercept else np.zeros(k)
    return weight, bias


def _solve(matrix: list[list[Fraction]], rhs: list[list[Fraction]]) -> list[list[Fraction]] | None:
    """Gauss–Jordan elimination in exact rationals; None for a singular matrix."""
    p = len(matrix)
    rows = [matrix[i] + rhs[i] for i in range(p)]
    for col in range(p):
        pivot = next((r for r in range(col, p) if rows[r][col] != 0), None)
        if pivot is None:
            return None
        rows[col], rows[pivot] = rows[pivot], rows[col]
        lead = rows[col][col]
        rows[col] = [value / lead for value in rows[col]]
        for r in range(p):
            factor = rows[r][col]
            if r != col and factor != 0:
                rows[r] = [a - factor * b for a, b in zip(rows[r], rows[col], strict=True)]
    return [row[p:] for row in rows]
