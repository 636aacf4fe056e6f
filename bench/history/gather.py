"""Every stored result under some paths, as one tidy frame: a row per (run, case), keyed by commit
and machine, placed in the git history.

Sources are pytest-benchmark's own storage (`--benchmark-save` / `--benchmark-autosave`:
`.benchmarks/<machine>/NNNN_*.json`, or any `--benchmark-json` file) and `linreg-bench run` folders.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from bench.errors import InputError
from bench.history.commits import CommitOrder
from bench.history.machines import machine_key, machine_label
from bench.history.steps import MEDIAN_EFFICIENCY, NORMAL_IQR, log_median_se
from bench.results.readers import CASE_KEY, LoadedResults, read_benchmark_json, read_run, samples

HISTORY_COLUMNS = [
    "machine_key", "machine", *CASE_KEY, "commit", "dirty", "position", "subject", "commit_date", "run_date",
    "status", "time_median_s", "time_iqr_s", "rounds", "log_se", "lre_min", "digits_ref", "source",
]  # fmt: skip


@dataclass
class Gathered:
    """The tidy frame and what could not be used, said in words for the report."""

    frame: pd.DataFrame
    skipped: list[str] = field(default_factory=list)


def source_files(paths: list[Path]) -> tuple[list[Path], list[str]]:
    """The JSON files and run folders named or found under the paths (a named file that does not
    exist is an error; a folder is searched)."""
    found: list[Path] = []
    for path in paths:
        if not path.exists():
            raise InputError(f"{path}: no such file or folder")
        if path.is_file():
            found.append(path)
            continue
        found += sorted(p for p in path.rglob("*.json") if p.name not in ("machine.json", "run.json"))
        found += sorted(p.parent for p in path.rglob("results.csv"))
    return list(dict.fromkeys(found)), []


def _load(path: Path) -> LoadedResults:
    if path.is_file() and path.suffix == ".json":
        return read_benchmark_json(path, require_samples=False)
    return read_run(path)


def _log_se(row: pd.Series) -> float:
    """The SE of log median time: from the raw rounds where kept, else from the stored IQR."""
    kept = samples(row["time_samples_s"])
    if len(kept) >= 2:
        return log_median_se(kept)
    median, iqr, rounds = row["time_median_s"], row["time_iqr_s"], row["rounds"]
    if pd.isna(median) or pd.isna(iqr) or pd.isna(rounds) or median <= 0 or rounds < 2:
        return float("nan")
    return float(MEDIAN_EFFICIENCY * (iqr / median) / NORMAL_IQR / np.sqrt(rounds))


def _commit_of(machine: dict) -> tuple[str | None, bool]:
    commit = machine.get("git_commit")
    if not isinstance(commit, str) or not commit:
        return None, False
    dirty = commit.endswith("-dirty") or bool(machine.get("git_dirty"))
    return commit.removesuffix("-dirty"), dirty


def gather(paths: list[Path], order: CommitOrder) -> Gathered:
    """One row per (source, case) with a time or a status; sources that cannot be read are named in
    `skipped` when they were found in a folder, and an error when they were named outright."""
    files, skipped = source_files(paths)
    named = {p.resolve() for p in paths if p.is_file()}
    frames = []
    for path in files:
        try:
            loaded = _load(path)
        except InputError as exc:
            if path.resolve() in named:
                raise
            skipped.append(str(exc))
            continue
        commit, dirty = _commit_of(loaded.machine)
        if commit is None:
            skipped.append(f"{path}: records no git commit, so it has no place in the history")
            continue
        full = order.locate(commit) or commit
        frame = loaded.frame[loaded.frame["status"] != "skipped"].copy()
        if frame.empty:
            continue
        frame["log_se"] = frame.apply(_log_se, axis=1)
        frame["machine_key"] = machine_key(loaded.machine)
        frame["machine"] = machine_label(loaded.machine)
        frame["commit"] = full
        frame["dirty"] = dirty
        frame["position"] = order.position.get(full, np.nan)
        frame["subject"] = order.subject.get(full, "")
        frame["commit_date"] = order.date.get(full, "")
        frame["run_date"] = str(loaded.machine.get("time_utc") or "")
        frame["source"] = str(path)
        frames.append(frame[HISTORY_COLUMNS])
    if not frames:
        raise InputError(f"no stored results with a git commit under {', '.join(map(str, paths))}"
                         + (f" ({skipped[0]})" if skipped else ""))  # fmt: skip
    frame = pd.concat(frames, ignore_index=True)
    frame = frame.sort_values(["position", "dirty", "commit_date", "run_date"], na_position="last", kind="stable")
    return Gathered(frame.reset_index(drop=True), skipped)
