"""The closed form over row shards: every rank reduces its own rows to a few small matrices, the
ranks exchange those once, and every rank solves the same small system (so all end with the same
answer without a broadcast).

Two routes, as in one process: the centred moments (XcᵀXc, Xcᵀyc and the means), merged exactly in
rank order (Chan, Golub & LeVeque, as `stream` merges chunks), then Cholesky — squares cond(X); and
TSQR (Benson, Gleich & Demmel 2013): each rank's R factor of its centred, scaled [X y] rows, the
R's stacked and factored again — cond(X), not its square, for ill-conditioned data.
"""

from __future__ import annotations

import torch

from impls.fit import FitFacts, LinearFit
from impls.gram import AUTO_MAX_COND, centred_gram
from impls.sharded import Collectives
from impls.small_linalg import small_solve_threads


def _centred_moments(X: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, ...]:
    x_mean, y_mean = X.mean(dim=0), y.mean(dim=0)
    Cxx, Cxy = centred_gram(X, y, x_mean, y_mean)
    return x_mean, y_mean, Cxx, Cxy


def merged_moments(X: torch.Tensor, y: torch.Tensor, comm: Collectives) -> tuple[int, torch.Tensor, ...]:
    """(n, x̄, ȳ, XcᵀXc, Xcᵀyc) of all ranks' rows: one all-gather of each rank's packed moments,
    merged in rank order, so every rank computes the same sums in the same order."""
    d, k = X.shape[1], y.shape[1]
    local = _centred_moments(X, y)
    count = torch.tensor([float(X.shape[0])], dtype=X.dtype, device=X.device)
    packed = torch.cat([count, *(t.reshape(-1) for t in local)])
    n, x_mean, y_mean, Cxx, Cxy = 0, None, None, None, None
    for part in comm.all_gather(packed):
        m = int(part[0])
        if m == 0:
            continue
        xm, ym = part[1 : 1 + d], part[1 + d : 1 + d + k]
        cxx = part[1 + d + k : 1 + d + k + d * d].reshape(d, d)
        cxy = part[1 + d + k + d * d :].reshape(d, k)
        if n == 0:
            n, x_mean, y_mean, Cxx, Cxy = m, xm, ym, cxx, cxy
            continue
        total = n + m
        dx, dy = xm - x_mean, ym - y_mean
        Cxx = Cxx + cxx + (n * m / total) * torch.outer(dx, dx)
        Cxy = Cxy + cxy + (n * m / total) * torch.outer(dx, dy)
        x_mean, y_mean, n = x_mean + dx * (m / total), y_mean + dy * (m / total), total
    return n, x_mean, y_mean, Cxx, Cxy


def summed_gram(X: torch.Tensor, y: torch.Tensor, comm: Collectives) -> tuple[torch.Tensor, torch.Tensor]:
    """XᵀX and Xᵀy over all ranks (no intercept: nothing to centre), one all-reduce."""
    d = X.shape[1]
    packed = torch.cat([X.T @ X, X.T @ y], dim=1)
    comm.all_reduce_sum(packed)
    return packed[:, :d], packed[:, d:]


def gram_solve(G: torch.Tensor, b: torch.Tensor, force: bool, notes: list[str]) -> torch.Tensor | None:
    """Cholesky on the unit-diagonal scaled Gram matrix; None (with a note) when `auto` finds it too
    ill-conditioned and the caller should take the TSQR route."""
    scale = G.diagonal().sqrt()
    scale = torch.where(scale > 0, scale, torch.ones_like(scale))
    Gs = G / scale[:, None] / scale[None, :]
    if not force:
        eigenvalues = torch.linalg.eigvalsh(Gs)
        cond = float(eigenvalues[-1] / eigenvalues[0]) if float(eigenvalues[0]) > 0 else float("inf")
        if cond > AUTO_MAX_COND:
            notes.append(f"auto: cond of the scaled Gram matrix is {cond:.2g} > {AUTO_MAX_COND:g}; used tsqr")
            return None
    L, info = torch.linalg.cholesky_ex(Gs)
    if int(info) != 0:
        notes.append("cholesky: the merged Gram matrix is not positive definite; used tsqr")
        return None
    return torch.cholesky_solve(b / scale[:, None], L) / scale[:, None]


def _square_r(block: torch.Tensor) -> torch.Tensor:
    """R of `block` as a p × p matrix (zero rows below when the block has fewer rows than columns)."""
    R = torch.linalg.qr(block, mode="r")[1]
    p = block.shape[1]
    if R.shape[0] < p:
        R = torch.cat([R, R.new_zeros(p - R.shape[0], p)])
    return R


def tsqr_coefficients(
    X: torch.Tensor,
    y: torch.Tensor,
    fit_intercept: bool,
    how: str,
    comm: Collectives,
    found: tuple[list[str], FitFacts],
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(coef (d, k), x̄, ȳ) by TSQR of the centred, unit-norm-scaled [X y]: one all-reduce for the
    means, one for the column norms, one all-gather of the R factors. `how`: `triangular` solves R
    by substitution (rank-deficient R falls back to svd); `svd` takes the minimum-norm answer.
    `found`: the notes and facts of the fit, filled in here."""
    notes, facts = found
    d, k = X.shape[1], y.shape[1]
    if fit_intercept:
        sums = torch.cat([X.new_tensor([float(X.shape[0])]), X.sum(dim=0), y.sum(dim=0)])
        comm.all_reduce_sum(sums)
        x_mean, y_mean = sums[1 : 1 + d] / sums[0], sums[1 + d :] / sums[0]
        block = torch.cat([X - x_mean, y - y_mean], dim=1)
    else:
        x_mean, y_mean = X.new_zeros(d), X.new_zeros(k)
        block = torch.cat([X, y], dim=1)
    squares = (block[:, :d] ** 2).sum(dim=0)
    comm.all_reduce_sum(squares)
    scale = squares.sqrt()
    scale = torch.where(scale > 0, scale, torch.ones_like(scale))
    block[:, :d] /= scale
    R = _square_r(torch.cat(comm.all_gather(_square_r(block))))
    R11, R12 = R[:d, :d], R[:d, d:]
    diag = R11.diagonal().abs()
    cutoff = diag.max() * max(X.shape[0] * comm.world_size, d) * torch.finfo(R.dtype).eps
    if how == "triangular" and bool((diag > cutoff).all()):
        return torch.linalg.solve_triangular(R11, R12, upper=True) / scale[:, None], x_mean, y_mean
    U, s, Vh = torch.linalg.svd(R11)
    keep = s > s.max() * max(X.shape[0], d) * torch.finfo(s.dtype).eps
    facts.rank, facts.columns = int(keep.sum()), d
    if how == "triangular":
        facts.fell_back = True
    if facts.rank_deficient:
        notes.append(f"rank-deficient: rank {int(keep.sum())} of {d} columns; minimum-norm solution (scaled units)")
    s_inv = torch.where(keep, 1.0 / s, torch.zeros_like(s))
    return (Vh.T @ (s_inv[:, None] * (U.T @ R12))) / scale[:, None], x_mean, y_mean


def sharded_normal_equation(
    X: torch.Tensor, y: torch.Tensor, solver: str, fit_intercept: bool, comm: Collectives
) -> LinearFit:
    """The fit of all ranks' rows, the same on every rank. `auto`/`cholesky`: merged moments, then
    Cholesky (auto: TSQR when ill-conditioned); `tsqr`/`qr`: TSQR with substitution; `svd`/`lstsq`:
    TSQR with the minimum-norm solve of R."""
    notes: list[str] = []
    facts = FitFacts()
    coef = None
    if solver in ("auto", "cholesky"):
        if fit_intercept:
            _, x_mean, y_mean, G, b = merged_moments(X, y, comm)
        else:
            G, b = summed_gram(X, y, comm)
            x_mean, y_mean = X.new_zeros(X.shape[1]), X.new_zeros(y.shape[1])
        with small_solve_threads(G.shape[0], G.device):
            coef = gram_solve(G, b, solver == "cholesky", notes)
    if coef is None:
        how = "triangular" if solver in ("tsqr", "qr", "cholesky") else "svd"
        coef, x_mean, y_mean = tsqr_coefficients(X, y, fit_intercept, how, comm, (notes, facts))
    bias = y_mean - x_mean @ coef if fit_intercept else y.new_zeros(y.shape[1])
    return LinearFit(coef.T.contiguous(), bias.contiguous(), notes=notes, facts=facts)
