"""Shuffled minibatches without per-step gathers: one permutation and one gather per epoch, then
contiguous slice views. The order is the one `d2l-reference`'s `data_iter` draws from the same
generator, so the fast implementations see exactly the tutorial's batches."""

from __future__ import annotations

from collections.abc import Iterable

import torch


def epoch_batches(
    X: torch.Tensor, y: torch.Tensor, batch_size: int, generator: torch.Generator, ones_column: bool = False
) -> Iterable[tuple[torch.Tensor, torch.Tensor]]:
    """`ones_column` appends a column of ones to the shuffled copy (the design matrix [X 1]), so
    that weight and bias are one parameter and a step is one product: the copy is made anyway."""
    order = torch.randperm(X.shape[0], generator=generator).to(X.device)
    X_shuffled, y_shuffled = X[order], y[order]
    if ones_column:
        X_shuffled = torch.cat([X_shuffled, torch.ones(X.shape[0], 1, dtype=X.dtype, device=X.device)], dim=1)
    return zip(X_shuffled.split(batch_size), y_shuffled.split(batch_size), strict=True)  # views, made in one call


class ShuffleBuffer:
    """Preallocated [X 1] and y that each epoch refills in a new order, with fixed batch views:
    `epoch_batches`'s order from the same generator, but every step reads the same addresses,
    which is what replaying a captured CUDA graph needs (and saves an allocation per epoch)."""

    def __init__(self, X: torch.Tensor, y: torch.Tensor, batch_size: int, ones_column: bool) -> None:
        n, d = X.shape
        self.X, self.y = X, y
        self.A = torch.empty(n, d + int(ones_column), dtype=X.dtype, device=X.device)
        if ones_column:
            self.A[:, d] = 1
        self.features = self.A[:, :d]
        self.targets = torch.empty_like(y)
        self.batches = list(zip(self.A.split(batch_size), self.targets.split(batch_size), strict=True))

    def refill(self, generator: torch.Generator) -> None:
        order = torch.randperm(self.X.shape[0], generator=generator).to(self.X.device)
        torch.index_select(self.X, 0, order, out=self.features)
        torch.index_select(self.y, 0, order, out=self.targets)
