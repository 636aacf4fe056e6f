"""A run folder on disk, written case by case and atomically: a crash never leaves half a file."""

from __future__ import annotations

import contextlib
import errno
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd
from filelock import FileLock, Timeout

from bench.atomic import write_atomic, write_json, write_text
from bench.errors import InputError
from bench.files import output_folder
from bench.harness.cases import model_file_name
from bench.harness.runner import Outcome
from bench.results.outputs import RUN, TEMPORARY, Outputs, known_names
from bench.results.schema import CURVE_COLUMNS, curve_rows, curves_frame, results_frame
from bench.results.validation import validated_rows
from impls import LinearFit

LOCK_NAME = ".lock"


def _clear(root: Path, outputs: Outputs) -> None:
    for name in outputs.files:
        path = root / name
        if path.is_file() or path.is_symlink():
            path.unlink()
    models = root / "models"
    if outputs.models is not None and models.is_dir():
        for path in models.iterdir():
            if path.is_file() and (outputs.models.match(path.name) or TEMPORARY.match(path.name)):
                path.unlink()
        with contextlib.suppress(OSError):
            models.rmdir()  # only when nothing of the user's is left in it
    for name in outputs.folders:
        sub = root / name
        if sub.is_dir():
            if outputs.command == "scale":  # scale --nproc's run folders, one per configuration
                for run in sub.iterdir():
                    if run.is_dir():
                        _clear(run, RUN)
                        with contextlib.suppress(OSError):
                            run.rmdir()
            else:
                _clear(sub, outputs)
            with contextlib.suppress(OSError):
                sub.rmdir()


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
        output_folder(self.root)
        lock = FileLock(self.root / LOCK_NAME)
        try:
            lock.acquire(timeout=0)
        except Timeout:
            raise InputError(f"{self.root}: another linreg-bench command is writing to this folder") from None
        except OSError as exc:
            raise InputError(f"{self.root}: cannot lock this folder ({exc.strerror or exc})") from None
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

    def claim(self, outputs: Outputs, overwrite: bool, refusal: str | None = None, anything: bool = False) -> None:
        """Decide, holding the lock, what happens to what an earlier command left here: another
        command's outputs are never mixed with these; this command's own are refused unless
        `overwrite`, which then removes exactly them (with `anything`, any file at all is refused
        without `overwrite`: `run`'s rule). Stale temporaries of a killed writer go once the folder
        is accepted: a refusal changes nothing."""
        names = {p.name for p in self.previous_outputs()}
        mine = {*outputs.files, *outputs.folders, *(["models"] if outputs.models is not None else [])}
        foreign = sorted((names & known_names()) - mine)
        if foreign:
            raise InputError(f"{self.root}: holds the outputs of another linreg-bench command ({', '.join(foreign)}); "
                             f"give {outputs.command} a folder of its own")  # fmt: skip
        earlier = sorted(names if anything else names & mine)
        if not earlier:
            self.remove_temporaries()
            return
        in_the_way = [name for name in outputs.files if (self.root / name).is_dir()]
        if in_the_way:  # found by tests/test_fuzz_cli.py: overwrite cleared the rest, then failed on it
            raise InputError(f"{self.root / in_the_way[0]}: is a folder where {outputs.command} writes a file; "
                             "move it away (nothing was changed)")  # fmt: skip
        if not overwrite:
            raise InputError(refusal or f"{self.root}: not empty (an earlier {outputs.command}: "
                             f"{', '.join(earlier[:4])}); --overwrite replaces it, or give another --out")  # fmt: skip
        self.remove_temporaries()
        self.clear(outputs)

    def remove_temporaries(self) -> None:
        """Half-written files of a writer that was killed (`.<name>.<random>.tmp`): never anyone's work."""
        for folder in (self.root, self.models):
            if folder.is_dir():
                for path in folder.iterdir():
                    if TEMPORARY.match(path.name) and path.is_file():
                        path.unlink()

    def clear(self, outputs: Outputs) -> None:
        """Remove what an earlier command of this kind wrote, by name (and under models/, by the
        pattern of its model files); anything else in the folder is left alone."""
        _clear(self.root, outputs)

    def load_finished(self, notes: list[str] | None = None) -> set[tuple[str, str, str, str]]:
        """Read back what an earlier (interrupted) run finished; those cases are not run again.
        Only whole rows count (`validated_rows`), and an `ok` case only with its model on disk:
        anything else is run again, with a line in `notes` saying why."""
        if not self.results_csv.is_file():
            return set()
        notes = [] if notes is None else notes
        rows, dropped = validated_rows(self.results_csv)
        notes += [f"{line}: run again" for line in dropped]
        kept = []
        for row in rows:
            if row["status"] == "error":  # an error is worth another try
                continue
            model = self.models / model_file_name(str(row["impl"]), str(row["device"]), str(row["dtype"]))
            if row["status"] == "ok" and not model.is_file():
                notes.append(f"{model}: missing, so {row['impl']} {row['device']} {row['dtype']} is run again")
                continue
            kept.append(row)
        self.rows = kept
        keep = {(r["impl"], r["device"], r["dtype"], r["dataset"]) for r in kept}
        self.curves = [
            r for r in self._curves_back(notes) if (r["impl"], r["device"], r["dtype"], r["dataset"]) in keep
        ]
        return keep

    def _curves_back(self, notes: list[str]) -> list[dict[str, Any]]:
        if not self.curves_csv.is_file():
            return []
        try:
            curves = pd.read_csv(self.curves_csv)
        except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, ValueError) as exc:
            notes.append(
                f"{self.curves_csv}: unreadable ({' '.join(str(exc).split())[:80]}); its loss curves are dropped"
            )
            return []
        if [c for c in CURVE_COLUMNS if c not in curves.columns]:
            notes.append(f"{self.curves_csv}: not a curves table; its loss curves are dropped")
            return []
        curves = curves[pd.to_numeric(curves["loss"], errors="coerce").notna()]
        return curves[CURVE_COLUMNS].to_dict("records")

    def results(self) -> pd.DataFrame:
        return results_frame(self.rows)

    def curves_table(self) -> pd.DataFrame:
        return curves_frame(self.curves)

    def add(self, outcome: Outcome) -> None:
        """Persist one finished case: its model (only a fit that passed its checks: a model file is
        something to use), then the tables that list it."""
        if outcome.fit is not None and outcome.row.get("status") == "ok":
            self.models.mkdir(parents=True, exist_ok=True)
            write_atomic(self.models / outcome.case.model_name, lambda path: _save_model(outcome.fit, path))
        self.rows.append(outcome.row)
        self.curves.extend(curve_rows(outcome.row, outcome.losses))
        write_atomic(self.results_csv, lambda p: self.results().to_csv(p, index=False))
        write_atomic(self.curves_csv, lambda p: self.curves_table().to_csv(p, index=False))

    def saved_fits(self, device: str = "cpu", dtype: str = "float64") -> dict[str, Any]:
        """The fits of this folder's `ok` cases on `device` in `dtype`, read back from models/: after
        a resume, the data-and-fits plot shows every case of the folder, not only those just run."""
        fits = {}
        for row in self.rows:
            if row.get("status") == "ok" and row.get("device") == device and row.get("dtype") == dtype:
                path = self.models / model_file_name(str(row["impl"]), device, dtype)
                with contextlib.suppress(OSError, ValueError, RuntimeError):  # unreadable: drawn without it
                    fits[str(row["impl"])] = LinearFit.load(path)
        return fits

    def recorded_peaks(self) -> dict[str, dict]:
        """The roofs an earlier run of this folder measured (machine.json), kept across a resume."""
        try:
            peaks = json.loads((self.root / "machine.json").read_text()).get("peaks")
        except (OSError, ValueError, AttributeError):
            return {}
        return peaks if isinstance(peaks, dict) else {}

    def remove_plots_not_drawn(self, drawn: list[str]) -> None:
        """A plot of `run` that this report did not draw (nothing to show now) is removed, PNG and
        SVG, so no picture of an older state sits beside the report as if it were current."""
        for name in RUN.files:
            stem = name.removesuffix(".png").removesuffix(".svg")
            if name.endswith((".png", ".svg")) and f"{stem}.png" not in drawn:
                with contextlib.suppress(FileNotFoundError):
                    (self.root / name).unlink()

    def write_json(self, name: str, data: dict[str, Any]) -> None:
        write_json(self.root / name, data)

    def write_text(self, name: str, text: str) -> None:
        write_text(self.root / name, text)

    def write_frame(self, name: str, frame: pd.DataFrame) -> None:
        write_atomic(self.root / name, lambda p: frame.to_csv(p, index=False))


def _save_model(fit: Any, path: Path) -> None:
    """`torch.save` reports a failed write (a full disk) as a RuntimeError of its stream writer: as
    an OSError it reaches the one-line message that names the file and says what is kept."""
    try:
        fit.save(path)
    except RuntimeError as exc:
        if "PytorchStreamWriter" not in str(exc):
            raise
        raise OSError(errno.EIO, f"could not write the model ({' '.join(str(exc).split())[:120]})", str(path)) from None
