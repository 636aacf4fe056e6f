"""Shuffled minibatches without per-step gathers: one permutation and one gather per epoch into a
preallocated buffer, then fixed slice views. The order is the one `d2l-reference`'s `data_iter`
draws from the same generator, so the fast implementations see exactly the tutorial's batches."""

from __future__ import annotations

import torch


class ShuffleBuffer:
    """Preallocated [X 1] (or X) and y that each epoch refills in a new order, with fixed batch
    views: every step reads the same addresses, which is what replaying a captured CUDA graph
    needs (and it saves an allocation per epoch)."""

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
