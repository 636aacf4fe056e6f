"""One look per series, never reused: a colour, a marker and a line style together, so two series
are told apart even past ten colours, in print and by readers who do not see colour."""

from __future__ import annotations

from itertools import product
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

MARKERS = ("o", "s", "^", "D", "v", "P", "X", "<", ">", "*")
LINESTYLES = ("-", "--", "-.", ":")


def series_styles(names: list[str]) -> dict[str, dict[str, Any]]:
    """Colour, marker and line style for each name: the first ten differ in colour and marker, and
    every later one in the colour–marker–line combination (10 × 10 × 4 before any repeats)."""
    colours = plt.get_cmap("tab10").colors
    combos = [(c, m, ls) for ls, shift in zip(LINESTYLES, range(len(LINESTYLES)), strict=True)
              for c, m in zip(colours, MARKERS[shift:] + MARKERS[:shift], strict=True)]  # fmt: skip
    combos += [combo for combo in product(colours, MARKERS, LINESTYLES) if combo not in combos]
    unique = list(dict.fromkeys(names))
    return {name: {"color": c, "marker": m, "linestyle": ls} for name, (c, m, ls) in zip(unique, combos, strict=False)}


def identical_groups(
    series: dict[str, np.ndarray], rtol: float = 1e-9, atol: float = 0.0, joiner: str = " = "
) -> dict[str, np.ndarray]:
    """Series with the same values drawn once, under all their names ("a = b"): overlapping lines
    otherwise hide each other and the legend promises lines the reader cannot find."""
    groups: list[tuple[list[str], np.ndarray]] = []
    for name, values in series.items():
        for names, first in groups:
            if first.shape == values.shape and np.allclose(first, values, rtol=rtol, atol=atol, equal_nan=True):
                names.append(name)
                break
        else:
            groups.append(([name], values))
    return {joiner.join(names): values for names, values in groups}
