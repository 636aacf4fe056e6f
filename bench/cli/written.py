"""Every command's closing line: the folder and every file the command wrote into it."""

from __future__ import annotations

import textwrap
from pathlib import Path

from bench.atomic import recorded

WIDTH = 120


def written_names(out: Path) -> list[str]:
    """What this command wrote under `out`, relative to it, in the order written (once each);
    models/ files folded into one entry with their count."""
    root = Path(out).resolve()
    names: list[str] = []
    for path in recorded():
        try:
            names.append(path.resolve().relative_to(root).as_posix())
        except ValueError:  # a cache elsewhere (the roofline peaks), not this folder's
            continue
    names = list(dict.fromkeys(names))
    models = [n for n in names if n.startswith("models/")]
    unique = [n for n in names if not n.startswith("models/")]
    if models:
        unique.append(f"models/*.pt ({len(models)} model{'s' if len(models) != 1 else ''})")
    return unique


def closing_line(out: Path) -> str:
    """`wrote DIR/: a, b, c`, wrapped at 120 characters; says so when nothing was written."""
    names = written_names(out)
    text = f"wrote {out}/: {', '.join(names)}" if names else f"wrote nothing to {out}/"
    return "\n".join(textwrap.wrap(text, WIDTH, subsequent_indent="  ", break_on_hyphens=False))
