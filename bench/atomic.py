"""The project's one way of writing a file: to a temporary name beside it, then an atomic rename,
so a crash or Ctrl-C never leaves half a file (results, models, plots, caches, Parquet)."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

_RECORDINGS: list[list[Path]] = []  # the files written under each active `recording()`, innermost last


@contextmanager
def recording() -> Iterator[list[Path]]:
    """Every file written atomically while inside, in order (a command's closing line names them)."""
    written: list[Path] = []
    _RECORDINGS.append(written)
    try:
        yield written
    finally:
        _RECORDINGS.remove(written)


def recorded() -> list[Path]:
    """The files written so far under the innermost `recording()` (none outside one)."""
    return list(_RECORDINGS[-1]) if _RECORDINGS else []


@contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """A temporary path beside `path` that replaces it only once the writer has finished."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        handle, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:
        raise _named(exc, path) from None
    os.close(handle)
    try:
        yield Path(temp)
        os.chmod(temp, 0o666 & ~_umask())  # mkstemp makes 0600; a written file honours the umask
        os.replace(temp, path)
        for written in _RECORDINGS:
            written.append(path)
    except OSError as exc:  # a full disk, a lost permission: the error names the file we meant
        raise _named(exc, path) from None
    finally:
        if os.path.exists(temp):
            os.unlink(temp)


def _named(exc: OSError, path: Path) -> OSError:
    """The same error, naming the file being written (pandas and torch often name none, or the
    temporary); the file at `path`, if there was one, is untouched."""
    return OSError(exc.errno, exc.strerror or str(exc), str(path))


def _umask() -> int:
    """The process umask (reading it means setting it: put it straight back)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def write_atomic(path: str | Path, write: Callable[[Path], Any]) -> None:
    """`write(temporary_path)` produces the file; it appears at `path` whole or not at all."""
    with atomic_path(path) as temp:
        write(temp)


def write_text(path: str | Path, text: str) -> None:
    write_atomic(path, lambda p: p.write_text(text, encoding="utf-8"))


def write_json(path: str | Path, data: Any) -> None:
    write_text(path, json.dumps(data, indent=2, default=str) + "\n")
