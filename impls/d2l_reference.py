"""d2l "linear regression from scratch" exactly as the text writes it: kept as the reference the
faster implementations are checked against (same math, same shuffling order, same parameters)."""

from __future__ import annotations

import torch

from impls.base import IterativeImplementation
from impls.declarations import D2L_REFERENCE
from impls.fit import LinearFit
from impls.options import TrainOptions


def linreg(X: torch.Tensor, w: torch.Tensor, b: torch.Tensor | None) -> torch.Tensor:
    """The d2l model: X @ w + b."""
    return X @ w if b is None else X @ w + b


def squared_loss(y_hat: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """The d2l loss: half the squared error, per element."""
    return (y_hat - y.reshape(y_hat.shape)) ** 2 / 2


def sgd(params: list[torch.Tensor], lr: float, batch_size: int) -> None:
    """The d2l update: `param -= lr * param.grad / batch_size`, then zero the gradient."""
    with torch.no_grad():
        for param in params:
            param -= lr * param.grad / batch_size
            param.grad.zero_()


def data_iter(batch_size: int, features: torch.Tensor, labels: torch.Tensor, generator: torch.Generator):
    """d2l's `data_iter`: a Python list of indices, one index tensor per batch. d2l shuffles with
    `random.shuffle`; drawing the order from the torch generator instead gives the fast paths the
    very same order, so their parameters can be compared with this loop's."""
    num_examples = len(features)
    indices = torch.randperm(num_examples, generator=generator).tolist()
    for i in range(0, num_examples, batch_size):
        batch_indices = torch.tensor(indices[i : min(i + batch_size, num_examples)], device=features.device)
        yield features[batch_indices], labels[batch_indices]


class D2LReference(IterativeImplementation, declaration=D2L_REFERENCE):
    """Minibatch SGD as the d2l text writes it; `batch_size >= n` is full-batch gradient descent.

    Its loss is ½ squared error summed over the batch and the step divides by the nominal batch
    size, so at the same lr it moves half as far as SGD on `nn.MSELoss` (for one target).
    """

    def fit_unchecked(self, X: torch.Tensor, y: torch.Tensor) -> LinearFit:
        o: TrainOptions = self.options
        generator, w0, b0 = self.start(X, y)
        w = w0.T.contiguous().requires_grad_(True)  # d2l keeps w as (d, k)
        b = b0.clone().requires_grad_(True) if o.fit_intercept else None
        params = [w] if b is None else [w, b]
        losses = []
        zero = torch.zeros(y.shape[1], dtype=X.dtype, device=X.device)  # the bias without an intercept
        for epoch in range(1, o.epochs + 1):
            for X_batch, y_batch in data_iter(o.batch_size, X, y, generator):
                loss = squared_loss(linreg(X_batch, w, b), y_batch)
                loss.sum().backward()
                sgd(params, o.lr, o.batch_size)
            if self.observer is not None:
                self.observer(epoch, w.detach().T, b.detach() if b is not None else zero)
                continue
            with torch.no_grad():
                losses.append(((linreg(X, w, b) - y) ** 2).mean())
        bias = b.detach() if b is not None else zero
        return LinearFit(w.detach().T.contiguous(), bias.clone(), torch.stack(losses).tolist() if losses else [])
