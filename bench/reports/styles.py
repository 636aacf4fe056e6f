"""One look per series, never reused: a colour, a marker and a line style together, so two series
are told apart even past ten colours, in print and by readers who do not see colour.

Markers are never crosses or plus signs: those mean "not ok" on the plots that mark failures.
Reference lines (roofs, targets, floors) are black or grey, which no series uses."""

from __future__ import annotations

from itertools import product
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

MARKERS = ("o", "s", "^", "D", "v", "p", "*", "<", ">", "h")  # no "x", "X", "+", "P": the failure cross
LINESTYLES = ("-", "--", "-.", ":")
REFERENCE_COLOURS = ("black", "dimgrey", "darkgrey", "silver")  # roofs, targets: never a series' colour
SERIES_COLOURS = tuple(c for i, c in enumerate(plt.get_cmap("tab10").colors) if i != 7)  # tab10 less its grey
SERIES_COLOURS += ((0.0, 0.0, 0.5), (0.72, 0.53, 0.04), (0.42, 0.05, 0.68))  # navy, goldenrod, deep purple: 12


def series_styles(names: list[str]) -> dict[str, dict[str, Any]]:
    """Colour, marker and line style for each name: the first twelve differ in colour, the first
    48 in colour and marker together, and every later one in the colour–marker–line combination."""
    count = len(SERIES_COLOURS) * len(LINESTYLES)
    combos = [(SERIES_COLOURS[i % len(SERIES_COLOURS)], MARKERS[(i + i // len(SERIES_COLOURS)) % len(MARKERS)],
               LINESTYLES[(i // len(SERIES_COLOURS)) % len(LINESTYLES)]) for i in range(count)]  # fmt: skip
    combos += [combo for combo in product(SERIES_COLOURS, MARKERS, LINESTYLES) if combo not in combos]
    unique = list(dict.fromkeys(names))
    return {name: {"color": c, "marker": m, "linestyle": ls} for name, (c, m, ls) in zip(unique, combos, strict=False)}


def layered(index: int, count: int) -> dict[str, float]:
    """Line width and marker size for the `index`-th of `count` series drawn in order: earlier ones
    wider, so where a later line lies on top of an earlier one, the earlier still shows at its edges."""
    share = 1 - index / max(count - 1, 1)
    return {"linewidth": 1.1 + 1.6 * share, "markersize": 3.5 + 3.0 * share}


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


def coincident_on_log_axis(series: dict[str, np.ndarray], decades: float) -> list[list[str]]:
    """Names whose curves a reader cannot tell apart on a log axis: every point within `decades`
    of the first member's (same length). Groups keep the order of `series`."""
    groups: list[tuple[list[str], np.ndarray]] = []
    for name, values in series.items():
        logs = np.log10(np.clip(np.asarray(values, dtype=float), 1e-300, None))
        for names, first in groups:
            if first.shape == logs.shape and np.all(np.abs(first - logs) <= decades):
                names.append(name)
                break
        else:
            groups.append(([name], logs))
    return [names for names, _ in groups]


def visible_decades(values: np.ndarray, fraction: float = 0.006) -> float:
    """How many decades `fraction` of a log axis spanning `values` is: about two pixels of a plot
    four inches high, less than a line's width."""
    logs = np.log10(np.asarray(values, dtype=float)[np.asarray(values, dtype=float) > 0])
    span = float(logs.max() - logs.min()) if logs.size else 1.0
    return fraction * max(span, 1.0)
