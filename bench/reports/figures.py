"""Every picture of the project is saved one way: laid out, PNG for Markdown and viewers, SVG for
the HTML pages, both atomically."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from bench.atomic import write_atomic

matplotlib.rcParams["svg.fonttype"] = "none"  # text stays text in the SVG: smaller, searchable
matplotlib.rcParams["svg.hashsalt"] = "linreg-bench"  # the same plot gives the same file


def save_figure(fig: plt.Figure, path: Path) -> Path:
    """Write `path` (PNG) and the same figure beside it as SVG; returns the PNG's path."""
    fig.tight_layout()
    write_atomic(path, lambda p: fig.savefig(p, dpi=110, format="png", bbox_inches="tight"))
    write_atomic(path.with_suffix(".svg"), lambda p: fig.savefig(p, format="svg", bbox_inches="tight"))
    plt.close(fig)
    return path
