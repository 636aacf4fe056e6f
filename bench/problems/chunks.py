"""Problems too large for memory, as chunks of (X, y) float64 tensors: generated (each chunk from
its own seed, so no row is ever held twice) or read from CSV and Parquet, checked chunk by chunk
with errors that name the column and the line or row.

Each source can be read by one rank of a data-parallel job for its `Shard` alone: synthetic chunks
by index, Parquet by row group, CSV by byte range (a line belongs to the range holding its first
byte), so no rank reads, parses or holds another rank's rows."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import torch

from bench.atomic import write_atomic
from bench.errors import InputError
from bench.problems.csv_file import check_unique_header, header_names

Chunk = tuple[torch.Tensor, torch.Tensor]


@dataclass(frozen=True)
class Shard:
    """The part of a source one rank reads: chunk or row group i when i % world == rank, or the
    rank-th of `world` equal byte ranges of a CSV body."""

    rank: int = 0
    world: int = 1

    def owns(self, index: int) -> bool:
        return index % self.world == self.rank

    @property
    def whole(self) -> bool:
        return self.world == 1


WHOLE = Shard()


@dataclass(frozen=True)
class SyntheticStream:
    """y = Xw + b + N(0, noise²) with X ~ N(0, 1), n rows in chunks of `chunk_rows`; w and b ~ N(0, 1)
    drawn from `seed`, each chunk from a seed of its own (so a shard generates only its chunks)."""

    n: int
    d: int
    k: int = 1
    noise: float = 0.1
    seed: int = 0
    chunk_rows: int = 1_000_000
    dtype: torch.dtype = torch.float64


def synthetic_chunks(
    stream: SyntheticStream, shard: Shard = WHOLE
) -> tuple[Iterator[Chunk], torch.Tensor, torch.Tensor]:
    """(chunks, true weight (k, d), true bias (k,)) of `stream`: the chunks `shard` owns, the same
    rows the whole stream has at those places."""
    n, d, k, noise, seed, chunk_rows, dtype = (stream.n, stream.d, stream.k, stream.noise, stream.seed,
                                               stream.chunk_rows, stream.dtype)  # fmt: skip
    g = torch.Generator().manual_seed(seed + 1)
    weight = torch.randn(k, d, generator=g, dtype=torch.float64)
    bias = torch.randn(k, generator=g, dtype=torch.float64)

    def chunks() -> Iterator[Chunk]:
        for index, start in enumerate(range(0, n, chunk_rows)):
            if not shard.owns(index):
                continue
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


def csv_chunks(path: str | Path, targets: list[str], chunk_rows: int, shard: Shard = WHOLE) -> Iterator[Chunk]:
    """A CSV read `chunk_rows` at a time; every chunk checked as `--csv` checks a whole file."""
    path = Path(path)
    check_unique_header(path, _first_line(path))
    if not shard.whole:
        yield from _csv_shard_chunks(path, targets, chunk_rows, shard)
        return
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


def _first_line(path: Path) -> list[str]:
    try:
        with open(path, "rb") as file:
            return header_names(file.readline())
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot be read ({exc.strerror or exc})") from None


def _csv_shard_lines(path: Path, shard: Shard, chunk_rows: int) -> Iterator[tuple[bytes, int, list[bytes]]]:
    """(header, byte offset of the first line, lines) batches of this shard's byte range of the body."""
    with open(path, "rb") as file:
        header = file.readline()
        body = file.tell()
        span = file.seek(0, io.SEEK_END) - body
        start, end = body + span * shard.rank // shard.world, body + span * (shard.rank + 1) // shard.world
        file.seek(max(start - 1, body))
        if start > body and file.read(1) != b"\n":
            file.readline()  # the line under way at `start` began in the range before: its rank's
        position, lines, first = file.tell(), [], file.tell()
        while position < end:
            line = file.readline()
            if not line:
                break
            lines.append(line)
            position += len(line)
            if len(lines) == chunk_rows:
                yield header, first, lines
                lines, first = [], position
        if lines:
            yield header, first, lines


def _line_number(path: Path, offset: int) -> int:
    """The 1-based line number of the line starting at byte `offset` (counted only when needed)."""
    count, remaining = 0, offset
    with open(path, "rb") as file:
        while remaining > 0:
            block = file.read(min(remaining, 1 << 24))
            if not block:
                break
            count += block.count(b"\n")
            remaining -= len(block)
    return count + 1


def _csv_shard_chunks(path: Path, targets: list[str], chunk_rows: int, shard: Shard) -> Iterator[Chunk]:
    try:
        for header, offset, lines in _csv_shard_lines(path, shard, chunk_rows):
            frame = pd.read_csv(io.BytesIO(header + b"".join(lines)))
            if (problem := _missing_targets(frame.columns, targets)) is not None:
                raise InputError(f"{path}: {problem}")
            values = frame.apply(pd.to_numeric, errors="coerce").to_numpy(np.float64)
            try:
                yield _checked_chunk(values, list(frame.columns), targets,
                                     lambda row, at=offset: f"line {_line_number(path, at) + row}")  # fmt: skip
            except InputError as exc:
                raise InputError(f"{path}: {exc}") from None
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: not a readable CSV file ({str(exc).strip().splitlines()[0]})") from None


def parquet_chunks(path: str | Path, targets: list[str], chunk_rows: int, shard: Shard = WHOLE) -> Iterator[Chunk]:
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
    groups = range(file.num_row_groups)
    firsts = np.cumsum([0] + [file.metadata.row_group(g).num_rows for g in groups]) + 1
    owned = [g for g in groups if shard.owns(g)]
    # a whole file is read across row groups; a shard reads its own groups, one at a time
    passes = [(None, 1)] if shard.whole else [([g], int(firsts[g])) for g in owned]
    for row_groups, first_row in passes:
        for batch in file.iter_batches(batch_size=chunk_rows, row_groups=row_groups):
            values = np.empty((batch.num_rows, batch.num_columns))
            for j, column in enumerate(batch.columns):  # nulls arrive as NaN
                values[:, j] = column.to_numpy(zero_copy_only=False)
            try:
                yield _checked_chunk(values, batch.schema.names, targets, lambda row, f=first_row: f"row {f + row}")
            except InputError as exc:
                raise InputError(f"{path}: {exc}") from None
            first_row += batch.num_rows


def write_parquet(chunks: Iterable[Chunk], path: str | Path, feature_prefix: str = "x", target: str = "y") -> int:
    """Chunks written as one Parquet file, a row group per chunk (how a larger-than-memory
    example file is made without holding it); returns the row count."""
    rows = 0

    def write(tmp: Path) -> None:
        nonlocal rows
        writer = None
        try:
            for X, y in chunks:
                columns = {f"{feature_prefix}{j}": X[:, j].numpy() for j in range(X.shape[1])}
                columns.update(
                    {target if y.shape[1] == 1 else f"{target}{j}": y[:, j].numpy() for j in range(y.shape[1])}
                )
                table = pa.table(columns)
                writer = writer or pq.ParquetWriter(tmp, table.schema)
                writer.write_table(table)
                rows += X.shape[0]
        finally:
            if writer is not None:
                writer.close()
        if writer is None:
            raise InputError(f"{path}: no rows to write")

    write_atomic(path, write)
    return rows
