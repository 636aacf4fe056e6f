"""Reading results back: a run folder, its results.csv, or a pytest-benchmark JSON, into one frame."""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from bench.errors import InputError
from bench.results.schema import results_frame
from bench.results.validation import validated_rows

CASE_KEY = ["dataset", "impl", "device", "dtype"]


@dataclass(frozen=True)
class LoadedResults:
    """The tidy frame of one source, where it came from, and the machine it ran on."""

    frame: pd.DataFrame
    machine: dict[str, Any]
    origin: str


def by_pair(values: np.ndarray, blocks: list[int]) -> list[np.ndarray]:
    """An ab case's rounds split by worker pair (`time_blocks`: rounds per pair, in order)."""
    edges = np.cumsum([0, *blocks])
    return [values[a:b] for a, b in itertools.pairwise(edges) if b > a]


def samples(cell: Any) -> np.ndarray:
    """`time_samples_s` cells hold every round's time, space-separated (checked on reading)."""
    if not isinstance(cell, str) or not cell.strip():
        return np.empty(0)
    try:
        return np.array([float(v) for v in cell.split()])
    except ValueError:
        raise InputError(f"time_samples_s {cell[:40]!r}: not round times in seconds") from None


def _statistic(value: Any, origin: str, name: str, key: str) -> float | None:
    """A pytest-benchmark statistic: a number or absent; anything else names the file and benchmark."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InputError(f"{origin}: benchmark {name!r}: statistic {key!r} is {value!r}, not a number"[:400])
    return value


def _benchmark_row(bench: Any, origin: str, require_samples: bool) -> dict[str, Any]:
    if not isinstance(bench, dict):
        raise InputError(f"{origin}: a 'benchmarks' entry is {type(bench).__name__}, not an object")
    name = str(bench.get("fullname", bench.get("name")))
    info = bench.get("extra_info") or {}
    stats = bench.get("stats") or {}
    if not isinstance(info, dict) or not isinstance(stats, dict):
        raise InputError(f"{origin}: benchmark {name!r}: 'stats' and 'extra_info' must be objects")
    data = stats.get("data")
    if data is not None and (not isinstance(data, list) or
                             any(_statistic(t, origin, name, "data") is None for t in data)):  # fmt: skip
        raise InputError(f"{origin}: benchmark {name!r}: 'data' must be a list of round times in seconds")
    if data is None and require_samples:
        raise InputError(
            f"{origin}: benchmark {bench.get('fullname', bench.get('name'))!r} has no raw round times; "
            "write them with --benchmark-json, or --benchmark-save together with --benchmark-save-data"
        )
    row = {
        # Benchmarks that are not ours still compare: the test name stands in for the case.
        "impl": info.get("impl", bench.get("name")),
        "device": info.get("device", ""),
        "dtype": info.get("dtype", ""),
        "dataset": info.get("dataset", bench.get("group") or ""),
        **{k: v for k, v in info.items() if k not in ("impl", "device", "dtype", "dataset")},
        "time_median_s": _statistic(stats.get("median"), origin, name, "median"),
        "time_iqr_s": _statistic(stats.get("iqr"), origin, name, "iqr"),
        "rounds": _statistic(stats.get("rounds"), origin, name, "rounds"),
        "time_samples_s": " ".join(f"{t:.6g}" for t in data or ()),
    }
    row.setdefault("status", "ok")
    return row


def read_benchmark_json(path: Path, require_samples: bool = True) -> LoadedResults:
    """A pytest-benchmark JSON file; without `require_samples`, files saved without raw rounds read too
    (their spread then comes from the stored IQR alone)."""
    try:
        document = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"{path}: not a readable pytest-benchmark JSON file ({exc})") from None
    if not isinstance(document, dict) or not isinstance(document.get("benchmarks"), list):
        raise InputError(f"{path}: not a pytest-benchmark JSON file (no 'benchmarks' list)")
    if not document["benchmarks"]:
        raise InputError(f"{path}: the 'benchmarks' list is empty: nothing was measured")
    rows = [_benchmark_row(bench, str(path), require_samples) for bench in document["benchmarks"]]
    info = document.get("machine_info") or {}
    commit = document.get("commit_info") or {}
    if not isinstance(info, dict) or not isinstance(commit, dict) or not isinstance(info.get("linreg_bench", {}), dict):
        raise InputError(f"{path}: 'machine_info' and 'commit_info' must be objects")
    machine = {**info, **info.get("linreg_bench", {})}  # our conftest adds the harness's own record
    machine["git_commit"] = commit.get("id") or machine.get("git_commit")  # the run's, not the conftest import's
    machine["git_dirty"] = bool(commit.get("dirty")) if commit else None
    machine["time_utc"] = document.get("datetime") or machine.get("time_utc")
    return LoadedResults(results_frame(rows), machine, str(path))


def read_run(path: Path) -> LoadedResults:
    csv = path / "results.csv" if path.is_dir() else path
    if not csv.is_file():
        raise InputError(
            f"{path}: no results.csv here (give a run folder, its results.csv, or a pytest-benchmark JSON)"
        )
    frame = read_results_csv(csv)
    machine_file = csv.parent / "machine.json"
    machine = _machine(machine_file) if machine_file.is_file() else {}
    return LoadedResults(frame, machine, str(path))


def _machine(path: Path) -> dict[str, Any]:
    try:
        machine = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"{path}: not a readable machine record ({exc})") from None
    if not isinstance(machine, dict):
        raise InputError(f"{path}: not a machine record (a JSON object)")
    return machine


def read_results_csv(csv: Path) -> pd.DataFrame:
    """A results.csv whose every row is whole (`validated_rows`); a bad row is bad input here,
    where `--resume` instead drops it and runs it again."""
    rows, dropped = validated_rows(csv)
    if dropped:
        raise InputError(dropped[0])
    return results_frame(rows)


def load_results(path: str | Path) -> LoadedResults:
    """A run folder, a results.csv or a pytest-benchmark JSON: the same frame from each."""
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: no such file or folder")
    if path.is_file() and path.suffix == ".json":
        return read_benchmark_json(path)
    return read_run(path)


def load_runs(path: str | Path) -> list[LoadedResults]:
    """One run (a run folder, a results.csv, a pytest-benchmark JSON), or every run a folder holds:
    pytest-benchmark storage (its JSON files, machine folders included) or run folders side by
    side. Several runs a side are what a comparison can test at the run level."""
    path = Path(path)
    if not path.is_dir() or (path / "results.csv").is_file():
        return [load_results(path)]
    files = sorted(path.rglob("*.json"))
    runs = [read_benchmark_json(f) for f in files if not f.name.startswith(("machine", "run"))]
    runs += [read_run(folder) for folder in sorted(p.parent for p in path.glob("*/results.csv"))]
    if not runs:
        raise InputError(f"{path}: no run here (no results.csv, no pytest-benchmark JSON, no run folders)")
    return runs
