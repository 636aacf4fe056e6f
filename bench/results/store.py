"""A run folder on disk, written case by case and atomically: a crash never leaves half a file."""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd
from filelock import FileLock, Timeout

from bench.atomic import write_atomic, write_json, write_text
from bench.errors import InputError
from bench.harness.runner import Outcome
from bench.results.schema import curve_rows, curves_frame, results_frame

LOCK_NAME = ".lock"


class RunFolder:
    """results.csv, curves.csv, models/ and machine.json under one folder."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self.models = self.root / "models"
        self.rows: list[dict[str, Any]] = []
        self.curves: list[dict[str, Any]] = []

    @property
    def results_csv(self) -> Path:
        return self.root / "results.csv"

    @property
    def curves_csv(self) -> Path:
        return self.root / "curves.csv"

    @contextmanager
    def locked(self) -> Iterator[RunFolder]:
        """Exclusive use of the folder for one command: a second one writing here at once is refused.
        filelock uses flock where the OS has it and a lock file of its own elsewhere (Windows)."""
        self.root.mkdir(parents=True, exist_ok=True)
        lock = FileLock(self.root / LOCK_NAME)
        try:
            lock.acquire(timeout=0)
        except Timeout:
            raise InputError(f"{self.root}: another linreg-bench command is writing to this folder") from None
        try:
            yield self
        finally:
            # Unlinked while still held: nobody can take the old inode's lock in between, and the
            # folder keeps no trace. (Windows cannot unlink an open file: there it stays.)
            with contextlib.suppress(OSError):
                os.unlink(self.root / LOCK_NAME)
            lock.release()

    def previous_outputs(self) -> list[Path]:
        """What a previous run left here (anything but the lock)."""
        if not self.root.is_dir():
            return []
        return sorted(p for p in self.root.iterdir() if p.name != LOCK_NAME)

    def clear(self, names: tuple[str, ...]) -> None:
        """Remove what a previous run of this kind wrote (files and folders named in `names`,
        and its plots); anything else in the folder is left alone."""
        for path in self.previous_outputs():
            if path.name in names or path.suffix in (".png", ".svg"):
                shutil.rmtree(path) if path.is_dir() else path.unlink()

    def load_finished(self) -> set[tuple[str, str, str, str]]:
        """Read back what an earlier (interrupted) run finished; those cases are not run again."""
        if not self.results_csv.is_file():
            return set()
        frame = pd.read_csv(self.results_csv, dtype={"time_samples_s": str, "reason": str, "lre_params": str})
        frame = frame[frame["status"] != "error"]  # an error is worth another try
        self.rows = frame.to_dict("records")
        if self.curves_csv.is_file():
            curves = pd.read_csv(self.curves_csv)
            keep = set(zip(frame["impl"], frame["device"], frame["dtype"], frame["dataset"], strict=True))
            self.curves = [
                r for r in curves.to_dict("records") if (r["impl"], r["device"], r["dtype"], r["dataset"]) in keep
            ]
        return {(r["impl"], r["device"], r["dtype"], r["dataset"]) for r in self.rows}

    def results(self) -> pd.DataFrame:
        return results_frame(self.rows)

    def curves_table(self) -> pd.DataFrame:
        return curves_frame(self.curves)

    def add(self, outcome: Outcome) -> None:
        """Persist one finished case: its model (only a fit that passed its checks: a model file is
        something to use), then the tables that list it."""
        if outcome.fit is not None and outcome.row.get("status") == "ok":
            self.models.mkdir(parents=True, exist_ok=True)
            write_atomic(self.models / outcome.case.model_name, outcome.fit.save)
        self.rows.append(outcome.row)
        self.curves.extend(curve_rows(outcome.row, outcome.losses))
        write_atomic(self.results_csv, lambda p: self.results().to_csv(p, index=False))
        write_atomic(self.curves_csv, lambda p: self.curves_table().to_csv(p, index=False))

    def write_json(self, name: str, data: dict[str, Any]) -> None:
        write_json(self.root / name, data)

    def write_text(self, name: str, text: str) -> None:
        write_text(self.root / name, text)

    def write_frame(self, name: str, frame: pd.DataFrame) -> None:
        write_atomic(self.root / name, lambda p: frame.to_csv(p, index=False))
