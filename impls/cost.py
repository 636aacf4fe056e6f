"""Work models: the bytes a fit must move and the flops it must do, by algorithm.

They sit next to the implementations because they describe the algorithm, not the machine; the
harness turns them into a roofline bound with measured machine peaks. Bytes are the minimum
traffic (each pass over X and y read once, in the input dtype); flops count a multiply-add as 2.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Cost:
    bytes: float
    flops: float


def data_pass(n: int, d: int, k: int, itemsize: int, passes: float = 1.0) -> float:
    return passes * (n * d + n * k) * itemsize


def closed_form(solver: str, n: int, d: int, k: int, itemsize: int, fit_intercept: bool = True) -> Cost:
    """Gram (symmetric, n·p²) + a p×p solve for cholesky; Householder QR 2np²; SVD-based ~4np²;
    p = d + 1 with an intercept (its column of ones is computed, not read: the bytes are X's and y's)."""
    p = d + int(fit_intercept)
    factor = {"auto": 1.0, "cholesky": 1.0, "qr": 2.0, "tsqr": 2.0, "svd": 4.0, "lstsq": 4.0}[solver]
    return Cost(data_pass(n, d, k, itemsize), factor * n * p * p + 2.0 * n * p * k + p**3)


def sgd_epochs(
    epochs: int,
    shape: tuple[int, int, int],
    itemsize: int,
    fit_intercept: bool = True,
    evaluations: float | None = None,
) -> Cost:
    """`epochs` over data of `shape` (n, d, k). Per epoch: forward Xθ and gradient Xᵀr over every
    row (4npk), the epoch's loss (2npk); the data read once per epoch at least. `evaluations`:
    loss-and-gradient evaluations over a batch of n / evaluations-per-epoch rows, when an optimizer
    makes more than one per step (LBFGS: up to 20); by default one per row per epoch."""
    n, d, k = shape
    p = d + int(fit_intercept)
    per_row_evaluations = epochs if evaluations is None else evaluations
    return Cost(epochs * data_pass(n, d, k, itemsize), per_row_evaluations * 4.0 * n * p * k + epochs * 2.0 * n * p * k)


def combined(*costs: Cost) -> Cost:
    """Work done in sequence: a Gram pass and then an SVD fallback, say."""
    return Cost(sum(c.bytes for c in costs), sum(c.flops for c in costs))
