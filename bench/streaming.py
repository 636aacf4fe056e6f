"""Data larger than memory: problems read (CSV, Parquet) or generated in chunks, the normal equations accumulated
chunk by chunk as exactly merged centred moments, so memory stays bounded by one chunk.

Merging centred co-moments (Chan, Golub & LeVeque) instead of summing raw XᵀX keeps the accuracy of
`normal-equation`'s centred Gram however large the column means are.
"""

from __future__ import annotations

import math
import resource
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import torch

from bench.errors import InputError
from impls import LinearFit
from impls.batching import ShuffleBuffer

Chunk = tuple[torch.Tensor, torch.Tensor]


def synthetic_chunks(
    n: int, d: int, k: int = 1, noise: float = 0.1, seed: int = 0, chunk_rows: int = 1_000_000,
    dtype: torch.dtype = torch.float64,
) -> tuple[Iterator[Chunk], torch.Tensor, torch.Tensor]:  # fmt: skip
    """(chunks, true weight (k, d), true bias (k,)): X ~ N(0, 1), each chunk from its own seed."""
    g = torch.Generator().manual_seed(seed + 1)
    weight = torch.randn(k, d, generator=g, dtype=torch.float64)
    bias = torch.randn(k, generator=g, dtype=torch.float64)

    def chunks() -> Iterator[Chunk]:
        for index, start in enumerate(range(0, n, chunk_rows)):
            rows = min(chunk_rows, n - start)
            gc = torch.Generator().manual_seed(seed * 1_000_003 + index)
            X = torch.randn(rows, d, generator=gc, dtype=dtype)
            y = X @ weight.T.to(dtype) + bias.to(dtype) + noise * torch.randn(rows, k, generator=gc, dtype=dtype)
            yield X, y

    return chunks(), weight, bias


def _checked_chunk(values: np.ndarray, columns: list[str], targets: list[str], where: Callable[[int], str]) -> Chunk:
    """One chunk, float64 values (rows, columns) with NaN where a cell was not a number, as (X, y)
    tensors; the first cell that is not finite is named with its column and `where(row in chunk)`."""
    bad = ~np.isfinite(values)
    if bad.any():
        row, col = np.argwhere(bad)[0]
        raise InputError(f"column {columns[col]!r}, {where(int(row))}: not a finite number")
    feature_at = [j for j, c in enumerate(columns) if c not in targets]
    if not feature_at:
        raise InputError("no feature columns besides the target")
    target_at = [columns.index(t) for t in targets]
    return torch.from_numpy(values[:, feature_at]), torch.from_numpy(values[:, target_at])


def _missing_targets(columns: Iterable[str], targets: list[str]) -> str | None:
    if not targets:
        return "give the target column(s) with --target"
    missing = [t for t in targets if t not in columns]
    return f"no target column {', '.join(map(repr, missing))}" if missing else None


def csv_chunks(path: str | Path, targets: list[str], chunk_rows: int) -> Iterator[Chunk]:
    """A CSV read `chunk_rows` at a time; every chunk checked as `--csv` checks a whole file."""
    path = Path(path)
    try:
        for index, frame in enumerate(pd.read_csv(path, chunksize=chunk_rows)):
            if (problem := _missing_targets(frame.columns, targets)) is not None:
                raise InputError(f"{path}: {problem}")
            first_line = index * chunk_rows + 2  # 1-based, after the header line

            try:
                values = frame.apply(pd.to_numeric, errors="coerce").to_numpy(np.float64)
                yield _checked_chunk(
                    values, list(frame.columns), targets, lambda row, first=first_line: f"line {first + row}"
                )
            except InputError as exc:
                raise InputError(f"{path}: {exc}") from None
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: not a readable CSV file ({str(exc).strip().splitlines()[0]})") from None


def parquet_chunks(path: str | Path, targets: list[str], chunk_rows: int) -> Iterator[Chunk]:
    """A Parquet file read `chunk_rows` rows at a time (pyarrow's batches, across row groups);
    the schema is checked before anything is read: targets present, every column numeric."""
    path = Path(path)
    try:
        # Without pre_buffer=False pyarrow kept every row group read (RSS grew ~1.5 GB per 1e7 rows).
        file = pq.ParquetFile(path, pre_buffer=False)
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except (pa.ArrowException, OSError) as exc:
        raise InputError(f"{path}: not a readable Parquet file ({str(exc).strip().splitlines()[0]})") from None
    schema = file.schema_arrow
    if (problem := _missing_targets(schema.names, targets)) is not None:
        raise InputError(f"{path}: {problem}")
    for field in schema:
        if not (pa.types.is_integer(field.type) or pa.types.is_floating(field.type)):
            raise InputError(f"{path}: column {field.name!r} is {field.type}, not a number")
    first_row = 1
    for batch in file.iter_batches(batch_size=chunk_rows):
        values = np.empty((batch.num_rows, batch.num_columns))
        for j, column in enumerate(batch.columns):  # nulls arrive as NaN
            values[:, j] = column.to_numpy(zero_copy_only=False)
        try:
            yield _checked_chunk(values, batch.schema.names, targets, lambda row, first=first_row: f"row {first + row}")
        except InputError as exc:
            raise InputError(f"{path}: {exc}") from None
        first_row += batch.num_rows


def write_parquet(chunks: Iterable[Chunk], path: str | Path, feature_prefix: str = "x", target: str = "y") -> int:
    """Chunks written as one Parquet file, a row group per chunk (how a larger-than-memory
    example file is made without holding it); returns the row count."""
    writer, rows = None, 0
    tmp = Path(path).with_name(Path(path).name + ".tmp")
    try:
        for X, y in chunks:
            columns = {f"{feature_prefix}{j}": X[:, j].numpy() for j in range(X.shape[1])}
            columns.update({target if y.shape[1] == 1 else f"{target}{j}": y[:, j].numpy() for j in range(y.shape[1])})
            table = pa.table(columns)
            writer = writer or pq.ParquetWriter(tmp, table.schema)
            writer.write_table(table)
            rows += X.shape[0]
    finally:
        if writer is not None:
            writer.close()
    if writer is None:
        raise InputError(f"{path}: no rows to write")
    tmp.replace(path)
    return rows


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
        m = X.shape[0]
        xm, ym = X.mean(dim=0), y.mean(dim=0)
        Xc, yc = X - xm, y - ym
        cxx, cxy, cyy = Xc.T @ Xc, Xc.T @ yc, yc.T @ yc
        if self.n == 0:
            self.n, self.x_mean, self.y_mean, self.Cxx, self.Cxy, self.Cyy = m, xm, ym, cxx, cxy, cyy
            return
        n = self.n + m
        dx, dy = xm - self.x_mean, ym - self.y_mean
        weight = self.n * m / n
        self.Cxx = self.Cxx + cxx + weight * torch.outer(dx, dx)
        self.Cxy = self.Cxy + cxy + weight * torch.outer(dx, dy)
        self.Cyy = self.Cyy + cyy + weight * torch.outer(dy, dy)
        self.x_mean = self.x_mean + dx * (m / n)
        self.y_mean = self.y_mean + dy * (m / n)
        self.n = n


def solve(moments: Moments, fit_intercept: bool = True) -> tuple[LinearFit, dict[str, Any]]:
    """The least-squares fit from the moments, with σ̂ and standard errors for the checks."""
    if not fit_intercept:
        raise InputError("streaming fits take an intercept (centred moments)")
    if moments.n == 0:
        raise InputError("no rows to fit")
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
    }  # fmt: skip
    return LinearFit(coef.T.contiguous(), bias), info


def peak_rss_bytes() -> int:
    """This process's memory high-water mark (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def stream_fit(chunks: Iterable[Chunk]) -> tuple[LinearFit, dict, float]:
    """Fit from chunks; returns the fit, its statistics and the wall time (reading included)."""
    start = time.perf_counter()
    moments = Moments()
    for X, y in chunks:
        moments.add(X, y)
    fit, info = solve(moments)
    return fit, info, time.perf_counter() - start


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
