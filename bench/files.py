"""The one boundary between the commands and the file system: paths checked once, before anything
is read or written, and OS errors turned into one line that names the file (exit 2, no traceback).

A FIFO or a device given as input is refused where it would be read more than once or never end;
an output folder that cannot be one (an existing file, `/dev/null`, a path under `/proc`) is refused
before a single case runs."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from bench.errors import InputError


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def input_file(path: str | Path, what: str = "file", pipes: bool = False) -> Path:
    """`path` as an input file: it exists and is a regular file (or, with `pipes`, a FIFO, which the
    caller reads exactly once)."""
    path = Path(path)
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot be read ({exc.strerror})") from None
    if stat.S_ISREG(mode) or (pipes and stat.S_ISFIFO(mode)):
        return path
    raise InputError(f"{path}: is {_kind(mode)}, not a {what}")


def output_folder(path: str | Path) -> Path:
    """`path` as an output folder: an existing writable folder, or one that can be made."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        mode = os.stat(path).st_mode
        kind = "a file" if stat.S_ISREG(mode) else _kind(mode)
        raise InputError(f"{path}: is {kind}, not a folder; give --out a folder (new or empty)")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"{path}: cannot make this folder ({exc.strerror or exc})") from None
    if not os.access(path, os.W_OK | os.X_OK):
        raise InputError(f"{path}: this folder is not writable")
    return path


def os_error_line(exc: OSError, kept: str = "") -> str:
    """One line for an OS error while writing: the file, the system's reason, and what is kept."""
    name = exc.filename if exc.filename is not None else "a file"
    reason = exc.strerror or str(exc) or type(exc).__name__
    return f"{name}: {reason}" + (f"; {kept}" if kept else "")
