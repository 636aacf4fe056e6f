"""Every picture of the project is saved one way: laid out, PNG, atomically."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from bench.atomic import write_atomic


def save_figure(fig: plt.Figure, path: Path) -> Path:
    """Every plot of the project is written this way: laid out, PNG, atomically."""
    fig.tight_layout()
    write_atomic(path, lambda p: fig.savefig(p, dpi=110, format="png"))
    plt.close(fig)
    return path
