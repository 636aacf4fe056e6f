"""A user's CSV as a problem: checked once here, with errors that name file, column and line."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from bench.errors import InputError
from bench.files import input_file
from bench.problems.certified import load_certified
from bench.problems.problem import D2L_TRAINING, Problem


def load_csv(
    path: str | Path,
    targets: list[str],
    certified: str | Path | None = None,
    name: str | None = None,
    weight: str | None = None,
) -> Problem:
    """Features are the columns that are neither targets nor the `weight` column (sample weights,
    >= 0); `certified` is a JSON of certified values (bench/problems/data/strd format) whose
    `intercept` flag sets whether the model has one."""
    path = Path(path)
    _check_targets_given(path, targets)
    data = _read_once(input_file(path, "CSV file", pipes=True))
    frame = _read_text_table(path, data)
    _check_header(path, frame, targets, weight, header_names(data))
    features = [c for c in frame.columns if c not in targets and c != weight]
    numeric = {column: _numeric_column(path, frame, column) for column in frame.columns}
    X = torch.from_numpy(np.column_stack([numeric[c] for c in features]))
    y = torch.from_numpy(np.column_stack([numeric[t] for t in targets]))
    values = load_certified(certified, tuple(features), tuple(targets)) if certified is not None else None
    sample_weight = _sample_weight(path, weight, numeric[weight]) if weight else None
    return Problem(
        name or path.stem,
        X,
        y,
        description=f"{path.name}: {len(frame)} rows, features {', '.join(features)} -> {', '.join(targets)}"
        + (f", weighted by {weight}" if weight else ""),
        training=dict(D2L_TRAINING),
        feature_names=tuple(features),
        target_names=tuple(targets),
        certified=values,
        fit_intercept=values.intercept if values is not None else True,
        sample_weight=sample_weight,
    )


def _sample_weight(path: Path, column: str, values: np.ndarray) -> torch.Tensor:
    negative = values < 0
    if negative.any():
        raise InputError(f"{path}: column {column!r}, line {_first_bad_line(negative)}: a weight must be >= 0")
    if not values.sum() > 0:
        raise InputError(f"{path}: column {column!r}: every weight is zero")
    return torch.from_numpy(values)


def _check_targets_given(path: Path, targets: list[str]) -> None:
    if not targets:
        raise InputError(f"{path}: give at least one --target column")
    duplicated = sorted({t for t in targets if targets.count(t) > 1})
    if duplicated:
        raise InputError(f"{path}: target column {', '.join(map(repr, duplicated))} given more than once")


def _read_once(path: Path) -> bytes:
    """The whole file, read once: a FIFO (`--csv <(...)`) cannot be read twice."""
    try:
        return path.read_bytes()
    except OSError as exc:
        raise InputError(f"{path}: cannot be read ({exc.strerror or exc})") from None


def _read_text_table(path: Path, data: bytes) -> pd.DataFrame:
    """Every cell as text, so each one can be checked and named before it becomes a number."""
    try:
        return pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False, skipinitialspace=True)
    except pd.errors.EmptyDataError:
        raise InputError(f"{path}: the file is empty") from None
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: not a readable CSV file ({str(exc).strip().splitlines()[0]})") from None


def header_names(data: bytes) -> list[str]:
    """The header as written: pandas renames a repeated name to 'name.1', which would hide it."""
    first = data.split(b"\n", 1)[0].decode("utf-8", errors="replace").removeprefix("\ufeff")
    return [name.strip() for name in next(csv.reader(io.StringIO(first)), [])]


def check_unique_header(path: Path, header: list[str]) -> None:
    """A column named twice is refused (by `run` and `stream` alike), never silently renamed."""
    repeated = sorted({c for c in header if header.count(c) > 1})
    if repeated:
        raise InputError(f"{path}: column {', '.join(map(repr, repeated))} appears more than once in the header")


def _check_header(path: Path, frame: pd.DataFrame, targets: list[str], weight: str | None, header: list[str]) -> None:
    check_unique_header(path, header)
    columns = list(frame.columns)
    missing = [t for t in targets if t not in columns]
    if missing:
        raise InputError(
            f"{path}: no target column {', '.join(map(repr, missing))} (columns: {', '.join(map(str, columns))})"
        )
    if weight is not None and weight not in columns:
        raise InputError(f"{path}: no weight column {weight!r} (columns: {', '.join(map(str, columns))})")
    if weight is not None and weight in targets:
        raise InputError(f"{path}: column {weight!r} cannot be both a target and the weight")
    if not [c for c in columns if c not in targets and c != weight]:
        raise InputError(f"{path}: no feature columns left after the targets {', '.join(targets)}")
    if len(frame) < 2:
        raise InputError(f"{path}: needs at least 2 data rows, found {len(frame)}")


def _first_bad_line(mask: pd.Series | np.ndarray) -> int:
    """1-based file line of the first True in a row mask (line 1 is the header)."""
    return int(np.flatnonzero(np.asarray(mask))[0]) + 2


def _numeric_column(path: Path, frame: pd.DataFrame, column: str) -> np.ndarray:
    """The column as float64; the first empty, non-numeric or non-finite cell is named by line."""
    text = frame[column].str.strip()
    blank = text == ""
    if blank.any():
        raise InputError(f"{path}: column {column!r}, line {_first_bad_line(blank)}: empty cell")
    values = pd.to_numeric(text, errors="coerce")
    bad = values.isna() & ~text.str.lower().isin(["nan"])
    if bad.any():
        line = _first_bad_line(bad)
        raise InputError(f"{path}: column {column!r}, line {line}: non-numeric value {text.iloc[line - 2]!r}")
    numbers = values.to_numpy(dtype=float)
    not_finite = ~np.isfinite(numbers)
    if not_finite.any():
        line = _first_bad_line(not_finite)
        raise InputError(f"{path}: column {column!r}, line {line}: {text.iloc[line - 2]} is not a finite number")
    return numbers.astype(np.float64)
