"""Data larger than memory: the normal equations accumulated chunk by chunk (chunks from
bench.problems.chunks) as exactly merged centred moments, so memory stays bounded by one chunk.

Merging centred co-moments (Chan, Golub & LeVeque) instead of summing raw XᵀX keeps the accuracy of
`normal-equation`'s centred Gram however large the column means are.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import torch

from bench.distributed import collectives
from bench.errors import InputError
from bench.judge import checks
from bench.problems.chunks import Chunk
from impls import LinearFit
from impls.batching import ShuffleBuffer


@dataclass
class Moments:
    """Row count, means and centred co-moments of [X y], merged exactly chunk by chunk."""

    n: int = 0
    x_mean: torch.Tensor | None = None
    y_mean: torch.Tensor | None = None
    Cxx: torch.Tensor | None = None
    Cxy: torch.Tensor | None = None
    Cyy: torch.Tensor | None = None

    def add(self, X: torch.Tensor, y: torch.Tensor) -> None:
        X, y = X.double(), y.double()
        xm, ym = X.mean(dim=0), y.mean(dim=0)
        Xc, yc = X - xm, y - ym
        self.merge(Moments(X.shape[0], xm, ym, Xc.T @ Xc, Xc.T @ yc, yc.T @ yc))

    def merge(self, other: Moments) -> None:
        """Chan, Golub & LeVeque's exact update: these moments become those of both row sets."""
        if other.n == 0:
            return
        if self.n == 0:
            self.n, self.x_mean, self.y_mean = other.n, other.x_mean, other.y_mean
            self.Cxx, self.Cxy, self.Cyy = other.Cxx, other.Cxy, other.Cyy
            return
        m, n = other.n, self.n + other.n
        dx, dy = other.x_mean - self.x_mean, other.y_mean - self.y_mean
        weight = self.n * m / n
        self.Cxx = self.Cxx + other.Cxx + weight * torch.outer(dx, dx)
        self.Cxy = self.Cxy + other.Cxy + weight * torch.outer(dx, dy)
        self.Cyy = self.Cyy + other.Cyy + weight * torch.outer(dy, dy)
        self.x_mean = self.x_mean + dx * (m / n)
        self.y_mean = self.y_mean + dy * (m / n)
        self.n = n


def solve(moments: Moments, fit_intercept: bool = True) -> tuple[LinearFit, dict[str, Any]]:
    """The least-squares fit from the moments, with σ̂ and standard errors for the checks."""
    if not fit_intercept:
        raise InputError("streaming fits take an intercept (centred moments)")
    if moments.n == 0:
        raise InputError("no rows to fit")
    if moments.n < 2:
        raise InputError(f"needs at least 2 data rows, found {moments.n}")
    scale = moments.Cxx.diagonal().sqrt()
    scale = torch.where(scale > 0, scale, torch.ones_like(scale))
    G = moments.Cxx / scale[:, None] / scale[None, :]
    eigenvalues, vectors = torch.linalg.eigh(G)
    cutoff = eigenvalues[-1] * G.shape[0] * torch.finfo(G.dtype).eps
    inverse = torch.where(eigenvalues > cutoff, 1.0 / eigenvalues, torch.zeros_like(eigenvalues))
    G_inv = (vectors * inverse) @ vectors.T
    coef = (G_inv @ (moments.Cxy / scale[:, None])) / scale[:, None]  # (d, k)
    bias = moments.y_mean - moments.x_mean @ coef
    p = int((eigenvalues > cutoff).sum()) + 1
    rss = (moments.Cyy.diagonal() - (moments.Cxy * coef).sum(dim=0)).clamp(min=0)
    sigma = (rss / (moments.n - p)).sqrt() if moments.n > p else torch.full_like(rss, math.nan)
    cov_diag = G_inv.diagonal() / scale**2  # diag((XcᵀXc)⁻¹)
    info = {
        "n": moments.n, "rank": p - 1, "cond_scaled_gram": float(eigenvalues[-1] / eigenvalues[0]),
        "sigma": sigma, "se_weight": sigma[:, None] * cov_diag.sqrt()[None, :],
        "se_bias": sigma * (1.0 / moments.n + moments.x_mean @ (cov_diag * moments.x_mean)).sqrt(),
        "rss": rss, "moments": moments, "dof": moments.n - p,
    }  # fmt: skip
    return LinearFit(coef.T.contiguous(), bias), info


def stream_fit(chunks: Iterable[Chunk]) -> tuple[LinearFit, dict, float]:
    """Fit from chunks; returns the fit, its statistics and the wall time (reading included)."""
    start = time.perf_counter()
    moments = Moments()
    for X, y in chunks:
        moments.add(X, y)
    fit, info = solve(moments)
    return fit, info, time.perf_counter() - start


def sharded_stream_fit(chunks: Iterable[Chunk]) -> tuple[LinearFit, dict, float, float]:
    """One rank's part of a data-parallel stream: the moments of its own shard, then every rank's
    gathered and merged in rank order, so each rank ends with the same fit as one process reading it
    all. Returns (fit, info, seconds from the common start to the solution — the slowest rank's —,
    seconds inside the gather). A rank's bad input, a rank with no rows or with other columns stops
    every rank with one message naming the rank."""
    collectives.barrier()
    start = time.perf_counter()
    local, failure = Moments(), None
    try:
        for X, y in chunks:
            local.add(X, y)
    except InputError as exc:  # said once, by every rank alike, after the exchange below
        failure = str(exc)
    shapes = None if local.n == 0 else (local.Cxx.shape[0], local.Cyy.shape[0])
    statuses = collectives.gathered((failure, local.n, shapes))  # also where the ranks wait for the slowest
    for rank, (failed, rows, shape) in enumerate(statuses):
        if failed is not None:
            raise InputError(f"rank {rank}: {failed}")
        if rows == 0:
            raise InputError(f"rank {rank} has no rows: its shard is empty ({len(statuses)} ranks; give fewer "
                             "ranks, smaller --chunk-rows, or a Parquet file with more row groups)")  # fmt: skip
        if shape != statuses[0][2]:
            raise InputError(f"rank {rank} has {shape[0]} feature(s) and {shape[1]} target(s), rank 0 "
                             f"{statuses[0][2][0]} and {statuses[0][2][1]}: the shards do not match")  # fmt: skip
    comm_start = time.perf_counter()
    parts = collectives.gathered(local)
    comm = time.perf_counter() - comm_start
    moments = Moments()
    for part in parts:  # rank order: every rank merges the same way and gets the same bits
        moments.merge(part)
    fit, info = solve(moments)
    return fit, info, time.perf_counter() - start, comm


def stream_sgd(
    chunks_per_epoch: Callable[[], Iterable[Chunk]], epochs: int, lr: float, batch_size: int, seed: int = 0
) -> tuple[LinearFit, Moments, float]:
    """Minibatch SGD streamed over chunks, with manual-gradient's update (½ squared error, step
    lr / B, θ = [w; b]); each chunk is shuffled on its own. The first epoch also accumulates the
    moments, so the checks get standard errors without another pass."""
    if epochs < 1 or lr <= 0 or batch_size < 1:
        raise InputError("streamed SGD needs epochs >= 1, lr > 0 and batch size >= 1")
    start = time.perf_counter()
    generator = torch.Generator().manual_seed(seed)
    moments, theta = Moments(), None
    for epoch in range(epochs):
        for X, y in chunks_per_epoch():
            if epoch == 0:
                moments.add(X, y)
            if theta is None:
                theta = torch.zeros(X.shape[1] + 1, y.shape[1], dtype=X.dtype)
            chunk = ShuffleBuffer(X, y, batch_size, ones_column=True)
            chunk.refill(generator)
            for A_batch, y_batch in chunk.batches:
                residual = torch.addmm(y_batch, A_batch, theta, beta=-1)
                theta.sub_(A_batch.T @ residual, alpha=lr / batch_size)
    if theta is None:
        raise InputError("no rows to fit")
    d = theta.shape[0] - 1
    return LinearFit(theta[:d].T.contiguous(), theta[d].clone()), moments, time.perf_counter() - start


def judge_stream(fit: LinearFit, optimum: LinearFit, info: dict[str, Any], truth: tuple | None = None) -> dict:
    """The verdict on a streamed fit, from the moments alone (the rows are gone): `diverged` when
    its parameters are not finite or its loss is over DIVERGENCE_FACTOR× that of predicting 0;
    `not-recovered` outside the optimum's confidence region or, with a known truth, outside the
    truth's Bonferroni bound. Returns status, reason and the figures for the row.

    The shift from the optimum costs exactly δwᵀ Cxx δw + n (x̄ᵀδw + δb)² per target in squared
    residuals (the optimum's residual is orthogonal to [X 1])."""
    moments: Moments = info["moments"]
    weight, bias = fit.weight.double(), fit.bias.double()
    if not (bool(torch.isfinite(weight).all()) and bool(torch.isfinite(bias).all())):
        return {"status": "diverged", "reason": "non-finite parameters"}
    d_weight, d_bias = weight - optimum.weight, bias - optimum.bias  # (k, d), (k,)
    quad = ((d_weight @ moments.Cxx) * d_weight).sum(dim=1) + moments.n * (d_weight @ moments.x_mean + d_bias) ** 2
    loss = float((info["rss"] + quad).sum() / (moments.n * quad.numel()))
    zero_loss = float((moments.Cyy.diagonal() + moments.n * moments.y_mean**2).sum() / (moments.n * quad.numel()))
    row: dict[str, Any] = {"status": "ok", "reason": "", "final_loss": loss}
    if not math.isfinite(loss) or loss > checks.DIVERGENCE_FACTOR * max(zero_loss, 1e-300):
        return {**row, "status": "diverged", "reason": f"training loss {loss:.3g} is over "
                f"{checks.DIVERGENCE_FACTOR:g}× that of predicting 0 ({zero_loss:.3g})"}  # fmt: skip
    failures = []
    d = moments.Cxx.shape[0]
    if info["rank"] < d:  # `run`'s sentence for the same data (bench.judge.checks): no optimum to recover
        failures.append(
            f"X is rank-deficient (rank {info['rank']} of {d} columns: constant, duplicated or collinear "
            "columns), so its parameters are not identifiable"
        )
    sigma = info["sigma"]
    if bool(torch.isfinite(sigma).all()) and bool((sigma > 0).all()):
        distance = float((quad.sqrt() / sigma).max())
        tolerance = checks.optimum_tolerance(info["rank"] + 1, quad.numel(), info["dof"])
        row.update(opt_distance_se=distance, opt_tol_se=tolerance)
        if distance > tolerance:
            failures.append(
                f"{distance:.3g} standard errors from the least-squares optimum (tolerance {tolerance:.2f})"
            )
    if truth is not None:
        errors = torch.cat([(weight - truth[0]).abs() / info["se_weight"],
                            ((bias - truth[1]).abs() / info["se_bias"])[:, None]], dim=1)  # fmt: skip
        tolerance = checks.truth_tolerance(errors.numel(), info["dof"])
        row.update(truth_error_se=float(errors.max()), truth_tol_se=tolerance)
        if row["truth_error_se"] > tolerance:
            failures.append(f"{row['truth_error_se']:.3g} SE from the truth (tolerance {tolerance:.2f})")
    if failures:
        row.update(status="not-recovered", reason="; ".join(failures))
    return row
