"""Reading results back: a run folder, its results.csv, or a pytest-benchmark JSON, into one frame."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from bench.errors import InputError
from bench.results.schema import results_frame

CASE_KEY = ["dataset", "impl", "device", "dtype"]


@dataclass(frozen=True)
class LoadedResults:
    """The tidy frame of one source, where it came from, and the machine it ran on."""

    frame: pd.DataFrame
    machine: dict[str, Any]
    origin: str


def samples(cell: Any) -> np.ndarray:
    """`time_samples_s` cells hold every round's time, space-separated."""
    if not isinstance(cell, str) or not cell.strip():
        return np.empty(0)
    return np.array([float(v) for v in cell.split()])


def _benchmark_row(bench: dict[str, Any], origin: str, require_samples: bool) -> dict[str, Any]:
    info = bench.get("extra_info") or {}
    stats = bench.get("stats") or {}
    data = stats.get("data")
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
        "time_median_s": stats.get("median"),
        "time_iqr_s": stats.get("iqr"),
        "rounds": stats.get("rounds"),
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
    if not isinstance(document, dict) or "benchmarks" not in document:
        raise InputError(f"{path}: not a pytest-benchmark JSON file (no 'benchmarks' list)")
    rows = [_benchmark_row(bench, str(path), require_samples) for bench in document["benchmarks"]]
    info = document.get("machine_info") or {}
    commit = document.get("commit_info") or {}
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
    try:
        frame = pd.read_csv(csv, dtype={"time_samples_s": str, "reason": str})
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise InputError(f"{csv}: not a readable results.csv ({exc})") from None
    missing = [c for c in (*CASE_KEY, "status", "time_samples_s") if c not in frame.columns]
    if missing:
        raise InputError(f"{csv}: not a linreg-bench results.csv (missing column {', '.join(missing)})")
    machine_file = csv.parent / "machine.json"
    machine = json.loads(machine_file.read_text()) if machine_file.is_file() else {}
    return LoadedResults(results_frame(frame.to_dict("records")), machine, str(path))


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
