"""d2l "from scratch" math with autograd, without the tutorial loop's waste: each epoch's shuffled
order gathered into one preallocated buffer, slice views instead of per-batch index tensors,
weight and bias as one leaf θ = [w; b] on [X 1], one in-place update per step (on a detached
alias: no `no_grad` context to enter), the gradient reset to None. What is left per step is
autograd itself: the engine's backward pass, its Python wrapper and the forward ops."""

from __future__ import annotations

import torch
from torch.nn import functional

from impls.base import IterativeImplementation
from impls.batching import ShuffleBuffer
from impls.declarations import MANUAL_AUTOGRAD
from impls.fit import LinearFit
from impls.options import TrainOptions


class ManualAutograd(IterativeImplementation, declaration=MANUAL_AUTOGRAD):
    """A leaf tensor with `requires_grad`, ½ squared error summed over the batch, `backward()`, and
    `param -= lr * grad / batch_size` (the nominal batch size, as d2l's `sgd`). Same shuffling
    order and parameters (to rounding) as `d2l-reference`; `batch_size >= n` is gradient descent."""

    tutorial = "d2l-reference"

    def fit_unchecked(self, X: torch.Tensor, y: torch.Tensor) -> LinearFit:
        o: TrainOptions = self.options
        generator, theta = self.start_theta(X, y)
        theta.requires_grad_(True)
        values = theta.detach()  # the same storage, updated outside autograd
        step = o.lr / o.batch_size
        losses = []
        data = ShuffleBuffer(X, y, o.batch_size, ones_column=o.fit_intercept)
        for epoch in range(1, o.epochs + 1):
            data.refill(generator)
            for A_batch, y_batch in data.batches:
                # Σ r² rather than ½ Σ r²: one autograd node less; the step takes the ½ (alpha / 2).
                functional.mse_loss(A_batch @ theta, y_batch, reduction="sum").backward()
                values.sub_(theta.grad, alpha=step / 2)
                theta.grad = None
            self.end_epoch(epoch, *self.split_theta(theta), X, y, losses)
        return self.finish(theta, losses)
