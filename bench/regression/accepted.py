"""Deliberate slowdowns: `accepted-regressions.toml` at the project root lets a change through the
gates when someone meant it, and says who and why. An entry covers one case up to a factor:

    [[accepted]]
    case = "d2l nn-linear cpu float32"    # dataset impl device dtype, as the reports print it
    factor = 1.05                         # new / base up to this passes; beyond it is a regression
    reason = "per-batch validation of shapes (issue 14)"
    commit = "6c56e9b"                    # the change that made it slower
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import tomllib

from bench.errors import InputError
from bench.harness.machine import PROJECT_ROOT

ACCEPTED_FILE = PROJECT_ROOT / "accepted-regressions.toml"
FIELDS = {"case": str, "factor": float, "reason": str, "commit": str}


@dataclass(frozen=True)
class Accepted:
    case: str
    factor: float
    reason: str
    commit: str

    def covers(self, case: str, ratio: float) -> bool:
        return case == self.case and ratio <= self.factor

    def note(self) -> str:
        return f"accepted up to ×{self.factor:g} ({self.commit}: {self.reason})"


def case_name(case: dict[str, str]) -> str:
    return " ".join(case[key] for key in ("dataset", "impl", "device", "dtype"))


def load_accepted(path: Path = ACCEPTED_FILE) -> list[Accepted]:
    """The entries, each checked; no file is no entries."""
    if not path.is_file():
        return []
    try:
        document = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{path}: not valid TOML ({exc})") from None
    entries = document.get("accepted", [])
    if not isinstance(entries, list):
        raise InputError(f"{path}: 'accepted' must be an array of tables ([[accepted]])")
    return [_entry(path, number, entry) for number, entry in enumerate(entries, start=1)]


def _entry(path: Path, number: int, entry: dict) -> Accepted:
    where = f"{path}: entry {number}"
    missing = [name for name in FIELDS if name not in entry]
    if missing:
        raise InputError(f"{where}: missing {', '.join(missing)} (each entry needs {', '.join(FIELDS)})")
    unknown = sorted(set(entry) - set(FIELDS))
    if unknown:
        raise InputError(f"{where}: unknown field {', '.join(unknown)} (fields: {', '.join(FIELDS)})")
    for name, kind in FIELDS.items():
        value = entry[name]
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, kind) or (kind is str and not value.strip()):
            raise InputError(f"{where}: {name} must be a non-empty {kind.__name__}, got {entry[name]!r}")
    if len(entry["case"].split()) != 4:
        raise InputError(f"{where}: case must be 'dataset impl device dtype', got {entry['case']!r}")
    if not entry["factor"] > 1:
        raise InputError(f"{where}: factor must be > 1 (the largest new/base let through), got {entry['factor']}")
    return Accepted(entry["case"], float(entry["factor"]), entry["reason"], entry["commit"])
