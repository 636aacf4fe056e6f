"""Reading a results.csv back row by row against the schema: only whole rows are trusted.

A row cut short, a status that is not one of ours, a figure that is not a number or a key left
empty is never a finished case: `--resume` drops it (saying which line and why) and runs the case
again; `compare` and `history` refuse the file in one line. The rows kept parse exactly as
`pandas.read_csv` parses a good file."""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path
from typing import Any

import pandas as pd

from bench.errors import InputError
from bench.results.schema import INTEGER_COLUMNS, RESULT_COLUMNS, STATUSES, TEXT_COLUMNS

KEY_COLUMNS = ("impl", "device", "dtype", "dataset")
NUMERIC_COLUMNS = [c for c in RESULT_COLUMNS if c not in TEXT_COLUMNS]
TEXT_DTYPES = {"time_samples_s": str, "reason": str, "lre_params": str, "objective": str}


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _row_problem(values: dict[str, str]) -> str | None:
    """Why a row read back is not a whole row of ours, or None when it is."""
    empty = [c for c in KEY_COLUMNS if not values.get(c, "").strip()]
    if empty:
        return f"no {', '.join(empty)}"
    status = values.get("status", "")
    if status not in STATUSES:
        return f"status {status!r} is not one of {', '.join(STATUSES)}"
    for column in NUMERIC_COLUMNS:
        text = values.get(column, "").strip()
        if not text:
            continue
        number = _number(text)
        if number is None:
            return f"column {column!r} holds {text[:40]!r}, not a number"
        if column in INTEGER_COLUMNS and not (math.isfinite(number) and number.is_integer()):
            return f"column {column!r} holds {text[:40]!r}, not a whole number"
    samples = values.get("time_samples_s", "")
    if any(_number(t) is None for t in samples.split()):
        return f"column 'time_samples_s' holds {samples[:40]!r}, not round times"
    if status == "ok":
        median = _number(values.get("time_median_s", "").strip() or "nan")
        if median is None or not math.isfinite(median):
            return "an ok case without its median time"
    return None


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise InputError(f"{path}: not a readable results.csv (not UTF-8 text)") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot be read ({exc.strerror or exc})") from None


def validated_rows(path: Path) -> tuple[list[dict[str, Any]], list[str]]:
    """(the whole rows as `pandas.read_csv` reads them, one note per row dropped naming its line)."""
    text = _read_text(path)
    if "\0" in text:
        raise InputError(f"{path}: not a readable results.csv (it holds NUL bytes)")
    try:
        records = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as exc:
        raise InputError(f"{path}: not a readable results.csv ({exc})") from None
    if not records or not records[0]:
        raise InputError(f"{path}: not a linreg-bench results.csv (it is empty)")
    header = records[0]
    missing = [c for c in (*KEY_COLUMNS, "status") if c not in header]
    if missing:
        raise InputError(f"{path}: not a linreg-bench results.csv (missing column {', '.join(missing)})")
    if len(set(header)) != len(header):
        raise InputError(f"{path}: not a linreg-bench results.csv (a column is named twice in the header)")
    kept, dropped = [], []
    for number, record in enumerate(records[1:], start=2):
        if not record:
            continue
        if len(record) != len(header):
            problem = f"a half row ({len(record)} of {len(header)} fields)"
        else:
            problem = _row_problem(dict(zip(header, record, strict=True)))
        if problem is None:
            kept.append(record)
        else:
            dropped.append(f"{path}, line {number}: {problem}")
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(kept)
    buffer.seek(0)
    frame = pd.read_csv(buffer, dtype={c: t for c, t in TEXT_DTYPES.items() if c in header})
    return frame.to_dict("records"), dropped
