"""A user's CSV as a problem: checked once here, with errors that name file, column and line."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from bench.certified import load_certified
from bench.errors import InputError
from bench.problems import D2L_TRAINING, Problem


def _first_bad(mask: pd.Series) -> int:
    """1-based file line of the first True in a row mask (line 1 is the header)."""
    return int(np.flatnonzero(mask.to_numpy())[0]) + 2


def _header(path: Path) -> list[str]:
    """The header as written: pandas renames a repeated name to 'name.1', which would hide it."""
    with path.open(newline="", encoding="utf-8", errors="replace") as handle:
        return [name.strip() for name in next(csv.reader(handle), [])]


def load_csv(
    path: str | Path, targets: list[str], certified: str | Path | None = None, name: str | None = None
) -> Problem:
    """Features are the columns that are not targets; `certified` is a JSON of certified values
    (bench/data/strd format) whose `intercept` flag sets whether the model has one."""
    path = Path(path)
    if not targets:
        raise InputError(f"{path}: give at least one --target column")
    duplicated = sorted({t for t in targets if targets.count(t) > 1})
    if duplicated:
        raise InputError(f"{path}: target column {', '.join(map(repr, duplicated))} given more than once")
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, skipinitialspace=True)
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except pd.errors.EmptyDataError:
        raise InputError(f"{path}: the file is empty") from None
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: not a readable CSV file ({str(exc).strip().splitlines()[0]})") from None

    header = _header(path)
    repeated = sorted({c for c in header if header.count(c) > 1})
    if repeated:
        raise InputError(f"{path}: column {', '.join(map(repr, repeated))} appears more than once in the header")
    columns = list(frame.columns)
    missing = [t for t in targets if t not in columns]
    if missing:
        raise InputError(
            f"{path}: no target column {', '.join(map(repr, missing))} (columns: {', '.join(map(str, columns))})"
        )
    features = [c for c in columns if c not in targets]
    if not features:
        raise InputError(f"{path}: no feature columns left after the targets {', '.join(targets)}")
    if len(frame) < 2:
        raise InputError(f"{path}: needs at least 2 data rows, found {len(frame)}")

    numeric = {}
    for column in columns:
        text = frame[column].str.strip()
        values = pd.to_numeric(text, errors="coerce")
        blank = text == ""
        if blank.any():
            raise InputError(f"{path}: column {column!r}, line {_first_bad(blank)}: empty cell")
        bad = values.isna() & ~text.str.lower().isin(["nan"])
        if bad.any():
            line = _first_bad(bad)
            raise InputError(f"{path}: column {column!r}, line {line}: non-numeric value {text.iloc[line - 2]!r}")
        not_finite = ~np.isfinite(values.to_numpy(dtype=float))
        if not_finite.any():
            line = int(np.flatnonzero(not_finite)[0]) + 2
            raise InputError(f"{path}: column {column!r}, line {line}: {text.iloc[line - 2]} is not a finite number")
        numeric[column] = values.to_numpy(dtype=np.float64)

    X = torch.from_numpy(np.column_stack([numeric[c] for c in features]))
    y = torch.from_numpy(np.column_stack([numeric[t] for t in targets]))
    values = load_certified(certified, tuple(features), tuple(targets)) if certified is not None else None
    return Problem(
        name or path.stem,
        X,
        y,
        description=f"{path.name}: {len(frame)} rows, features {', '.join(features)} -> {', '.join(targets)}",
        training=dict(D2L_TRAINING),
        feature_names=tuple(features),
        target_names=tuple(targets),
        certified=values,
        fit_intercept=values.intercept if values is not None else True,
    )
