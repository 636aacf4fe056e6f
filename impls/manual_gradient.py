"""The d2l text's analytic update formulas, no autograd: w ← w − (lr/B)·Xᵀ(Xw + b − y),
b ← b − (lr/B)·Σ(Xw + b − y), computed in place into preallocated buffers; on CUDA, optionally
one captured CUDA graph per epoch instead of 3·n/B kernel launches from Python."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import torch

from impls.base import IterativeImplementation
from impls.batching import ShuffleBuffer
from impls.compiling import compile_errors_in_one_line
from impls.declarations import MANUAL_GRADIENT
from impls.fit import LinearFit
from impls.options import GraphedTrainOptions, OptionError
from impls.sharded import Collectives, global_batch_part

GRAM_STEP_MAX_COLUMNS = 8  # [X 1] this narrow: steps are bound by dispatch, and G_b costs ≤ 4.5× a step's flops
GRAM_STEP_MIN_BATCHES = 8  # the batched products are 2–4 ops an epoch: they pay from a few steps per epoch


@dataclass
class _Loop:
    theta: torch.Tensor
    data: ShuffleBuffer
    run_epoch: Callable[[], None]
    compile_s: float = float("nan")


def sgd_update(A: torch.Tensor, y: torch.Tensor, theta: torch.Tensor, step: float) -> torch.Tensor:
    """θ − (lr/B)·Aᵀ(Aθ − y): one step, as a pure function `torch.compile` can fuse."""
    return theta - step * (A.T @ (A @ theta - y))


def residual_steps(theta: torch.Tensor, data: ShuffleBuffer, batch_size: int, step: float) -> Callable[[], None]:
    """An epoch of r = Aθ − y, g = Aᵀr, θ −= step·g, batch by batch: three ops a step."""
    rows, k = min(batch_size, data.A.shape[0]), data.targets.shape[1]
    residual = torch.empty(rows, k, dtype=theta.dtype, device=theta.device)
    grad = torch.empty_like(theta)
    # Every view a step reads, made once: the buffers are refilled in place, so they stay valid, and
    # at d2l's size (10 × 3 batches) making `A.T` and `residual[:m]` per step cost ~20% of the epoch.
    steps = [
        (A, A_T, y_batch, residual if A.shape[0] == rows else residual[: A.shape[0]])
        for (A, y_batch), A_T in zip(data.batches, data.A.T.split(batch_size, dim=1), strict=True)
    ]
    addmm, mm, subtract = torch.addmm, torch.mm, theta.sub_

    def epoch_steps() -> None:
        for A, A_T, y_batch, r in steps:
            addmm(y_batch, A, theta, beta=-1, out=r)  # r = Aθ − y
            mm(A_T, r, out=grad)
            subtract(grad, alpha=step)

    return epoch_steps


def gram_steps(theta: torch.Tensor, data: ShuffleBuffer, batch_size: int, step: float) -> Callable[[], None]:
    """The same steps with g = G_bθ − c_b: every batch's G_b = A_bᵀA_b and c_b = A_bᵀy_b come from
    one batched product per epoch, so a step is two ops (at d2l's size each op is ~2 µs of dispatch,
    and the products are 30 multiply-adds). θ −= step·g stays a separate subtraction, so the rounding
    is the residual form's (within a few ulps of the tutorial's parameters)."""
    A, targets = data.A, data.targets
    (n, p), k = A.shape, targets.shape[1]
    full = n // batch_size
    A_full = A[: full * batch_size].view(full, batch_size, p)
    y_full = targets[: full * batch_size].view(full, batch_size, k)
    G = torch.empty(full + 1, p, p, dtype=A.dtype, device=A.device)  # the last is a short batch's, if any
    c = torch.empty(full + 1, p, k, dtype=A.dtype, device=A.device)
    A_tail, y_tail = A[full * batch_size :], targets[full * batch_size :]
    count = full + int(A_tail.shape[0] > 0)
    pairs = list(zip(G.unbind(0)[:count], c.unbind(0)[:count], strict=True))
    grad = torch.empty_like(theta)
    addmm, subtract = torch.addmm, theta.sub_

    def epoch_steps() -> None:
        torch.bmm(A_full.mT, A_full, out=G[:full])
        torch.bmm(A_full.mT, y_full, out=c[:full])
        if count > full:
            torch.mm(A_tail.T, A_tail, out=G[full])
            torch.mm(A_tail.T, y_tail, out=c[full])
        for G_batch, c_batch in pairs:
            addmm(c_batch, G_batch, theta, beta=-1, out=grad)  # g = G_bθ − c_b = A_bᵀ(A_bθ − y_b)
            subtract(grad, alpha=step)

    return epoch_steps


class ManualGradient(IterativeImplementation, declaration=MANUAL_GRADIENT):
    """Same update as `manual-autograd` (½ squared error, step lr / nominal batch size), same
    shuffling order, with the gradient written out. Weight and bias are one parameter θ = [w; b]
    on the batch's [X 1], so a step is three tensor ops: r = [X 1]θ − y, g = [X 1]ᵀr, θ −= (lr/B)·g
    (two, from the batches' Gram matrices, where [X 1] has at most GRAM_STEP_MAX_COLUMNS columns
    and an epoch at least GRAM_STEP_MIN_BATCHES batches).
    The step is `sub_(g, alpha=lr/B)`, not a fused `addmm_(Xᵀ, r, alpha=-lr/B)`: in float32 the fused
    update stalls a few digits above the optimum (its rounding swallows small steps)."""

    tutorial = "d2l-reference"
    speed_options = ("graph", "compile")
    data_parallel = "sampler"
    grid = {**IterativeImplementation.grid, "graph": (False, True)}

    def fit_unchecked(self, X: torch.Tensor, y: torch.Tensor) -> LinearFit:
        o: GraphedTrainOptions = self.options
        generator, start = self.start_theta(X, y)
        kept = o.graph or o.compile  # a captured graph or a compiled step: built once per inputs
        loop = self.replay.get(X, y, lambda: self._loop(X, y, start)) if kept else self._loop(X, y, start)
        loop.theta.copy_(start)  # a kept graph replays into the same parameter buffer: reset it
        losses = []
        for epoch in range(1, o.epochs + 1):
            loop.data.refill(generator)
            loop.run_epoch()
            self.end_epoch(epoch, *self.split_theta(loop.theta), X, y, losses)
        fit = self.finish(loop.theta, losses)
        if o.graph:
            fit.work["capture_s"] = getattr(loop.run_epoch, "capture_s", float("nan"))
        if o.compile:
            fit.work["compile_s"] = loop.compile_s
        return fit

    def _loop(self, X: torch.Tensor, y: torch.Tensor, start: torch.Tensor) -> _Loop:
        """The buffers one epoch reads and writes, and what runs it (a graph replays the same ones)."""
        o: GraphedTrainOptions = self.options
        theta = start.clone()
        data = ShuffleBuffer(X, y, o.batch_size, ones_column=o.fit_intercept)
        step = o.lr / o.batch_size
        if o.compile:
            return self._compiled_loop(theta, data, step)
        batches = -(-X.shape[0] // o.batch_size)
        if data.A.shape[1] <= GRAM_STEP_MAX_COLUMNS and batches >= GRAM_STEP_MIN_BATCHES:
            return _Loop(theta, data, self.epoch_runner(gram_steps(theta, data, o.batch_size, step), X))
        return _Loop(theta, data, self.epoch_runner(residual_steps(theta, data, o.batch_size, step), X))

    @staticmethod
    def _compiled_loop(theta: torch.Tensor, data: ShuffleBuffer, step: float) -> _Loop:
        """The same update as one compiled function of the batch; compiled here, on every batch shape
        the epochs will see (the last batch may be shorter), so no timed epoch pays for compiling."""
        update = torch.compile(sgd_update, dynamic=False)
        started = time.perf_counter()
        with compile_errors_in_one_line():
            for A_batch, y_batch in {tuple(a.shape): (a, b) for a, b in data.batches}.values():
                update(A_batch, y_batch, theta, step)  # pure: nothing is changed
        compile_s = time.perf_counter() - started

        def epoch_steps() -> None:
            for A_batch, y_batch in data.batches:
                theta.copy_(update(A_batch, y_batch, theta, step))

        return _Loop(theta, data, epoch_steps, compile_s)

    def fit_sharded(self, X: torch.Tensor, y: torch.Tensor, comm: Collectives) -> LinearFit:
        """Data-parallel SGD: `batch_size` rows per rank, a global batch of world × batch_size. Every
        rank draws the same permutation as the one-process run (same seed) and takes its contiguous
        part of each global batch; the gradients are summed by one all-reduce per step and the step
        is lr / (world × batch_size): the one-process run at batch world × batch_size, step for step."""
        o: GraphedTrainOptions = self.options
        if o.graph:
            raise OptionError("manual-gradient:graph=true runs in one process only (a collective per step)")
        generator, theta = self.start_theta(X, y)
        batch, world = o.batch_size, comm.world_size
        data = ShuffleBuffer(X, y, batch * world, ones_column=o.fit_intercept)
        parts = []
        for start, A_global in zip(range(0, X.shape[0], batch * world), data.A.split(batch * world), strict=True):
            part = global_batch_part(start, A_global.shape[0], batch, comm.rank)
            parts.append((data.A[part], data.targets[part]))
        grad = torch.empty_like(theta)
        step = o.lr / (batch * world)
        losses = []
        for epoch in range(1, o.epochs + 1):
            data.refill(generator)
            for A_part, y_part in parts:
                residual = torch.addmm(y_part, A_part, theta, beta=-1)
                torch.mm(A_part.T, residual, out=grad)
                comm.all_reduce_sum(grad)
                theta.sub_(grad, alpha=step)
            self.end_epoch(epoch, *self.split_theta(theta), X, y, losses)
        return self.finish(theta, losses)
