"""Least squares by a Householder QR: the implementation this repository benchmarks.

Written against linreg-bench's plug-in contract (docs/plugins.md there): a `name` and
`fit_unchecked(X, y)`, every other member left at its default. It is registered nowhere: the
`linreg_bench` fixture times and judges the instance itself.
"""

from __future__ import annotations

import torch

from impls import Implementation, LinearFit


class HouseholderQR(Implementation):
    """Solves R θ = Qᵀ y for A = [X 1] = QR (or A = X without an intercept)."""

    name = "householder-qr"

    def fit_unchecked(self, X: torch.Tensor, y: torch.Tensor) -> LinearFit:
        intercept = self.options.fit_intercept
        A = torch.cat([X, torch.ones_like(X[:, :1])], dim=1) if intercept else X
        Q, R = torch.linalg.qr(A)  # reduced: Q (n, p), R (p, p)
        theta = torch.linalg.solve_triangular(R, Q.T @ y, upper=True)  # (p, k)
        if intercept:
            return LinearFit(theta[:-1].T.contiguous(), theta[-1].contiguous())
        return LinearFit(theta.T.contiguous(), y.new_zeros(y.shape[1]))
