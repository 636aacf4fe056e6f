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


@dataclass
class _Loop:
    theta: torch.Tensor
    data: ShuffleBuffer
    run_epoch: Callable[[], None]
    compile_s: float = float("nan")


def sgd_update(A: torch.Tensor, y: torch.Tensor, theta: torch.Tensor, step: float) -> torch.Tensor:
    """θ − (lr/B)·Aᵀ(Aθ − y): one step, as a pure function `torch.compile` can fuse."""
    return theta - step * (A.T @ (A @ theta - y))


class ManualGradient(IterativeImplementation, declaration=MANUAL_GRADIENT):
    """Same update as `manual-autograd` (½ squared error, step lr / nominal batch size), same
    shuffling order, with the gradient written out. Weight and bias are one parameter θ = [w; b]
    on the batch's [X 1], so a step is three tensor ops: r = [X 1]θ − y, g = [X 1]ᵀr, θ −= (lr/B)·g.
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
        residual = torch.empty(min(o.batch_size, X.shape[0]), y.shape[1], dtype=X.dtype, device=X.device)
        grad = torch.empty_like(theta)
        step = o.lr / o.batch_size
        if o.compile:
            return self._compiled_loop(theta, data, step)

        def epoch_steps() -> None:
            for A_batch, y_batch in data.batches:
                r = residual if A_batch.shape[0] == residual.shape[0] else residual[: A_batch.shape[0]]
                torch.addmm(y_batch, A_batch, theta, beta=-1, out=r)  # r = Aθ − y
                torch.mm(A_batch.T, r, out=grad)
                theta.sub_(grad, alpha=step)

        return _Loop(theta, data, self.epoch_runner(epoch_steps, X))

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
