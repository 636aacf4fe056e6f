"""Sample weights for the closed forms: min Σ wᵢ (yᵢ − xᵢᵀβ − b)² is ordinary least squares on rows
scaled by √wᵢ after centring at the weighted means (for the intercept), so every solver of the
unweighted problem solves the weighted one (weighted normal equations, weighted QR, SVD alike)."""

from __future__ import annotations

import torch


def to_unweighted(
    X: torch.Tensor, y: torch.Tensor, sample_weight: torch.Tensor, fit_intercept: bool
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """(√w·(X − x̄_w), √w·(y − ȳ_w), x̄_w, ȳ_w); the means are zero without an intercept.
    Fit the first two without an intercept; the bias is then ȳ_w − x̄_wᵀβ."""
    total = sample_weight.sum()
    if fit_intercept:
        x_mean, y_mean = sample_weight @ X / total, sample_weight @ y / total
    else:
        x_mean = X.new_zeros(X.shape[1])
        y_mean = y.new_zeros(y.shape[1])
    root = sample_weight.sqrt()[:, None]
    return root * (X - x_mean), root * (y - y_mean), x_mean, y_mean
