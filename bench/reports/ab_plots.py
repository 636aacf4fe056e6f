"""The A/B's picture: per case, each worker pair's median ratio, the interval over pairs and the
band a `same` verdict must fall inside — why a case was decided, or why it was not."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.ticker import FuncFormatter

from bench.reports.figures import save_figure
from bench.results.readers import CASE_KEY, by_pair, samples

VERDICT_COLOURS = {"slower": "#c0392b", "faster": "#1f77b4", "same": "#2e8b57", "inconclusive": "#7f7f7f"}


def pair_ratios(base: pd.Series, new: pd.Series) -> list[float]:
    """Each worker pair's median ratio new / base, from one case's rows of both sides."""
    logs = np.log(samples(new["time_samples_s"])) - np.log(samples(base["time_samples_s"]))
    blocks = [int(b) for b in str(new["time_blocks"]).split()]
    return [float(np.exp(np.median(pair))) for pair in by_pair(logs, blocks)]


def ab_pairs_plot(comparison: pd.DataFrame, base: pd.DataFrame, new: pd.DataFrame, factor: float,
                  path: Path) -> Path | None:  # fmt: skip
    """One row per timed case: the pairs' medians (dots), the interval (bar), the band (shaded)."""
    keyed = {side: frame.set_index(list(CASE_KEY)) for side, frame in (("base", base), ("new", new))}
    rows = [r for _, r in comparison.iterrows() if pd.notna(r["ratio_low"]) and tuple(r[c] for c in CASE_KEY)
            in keyed["new"].index]  # fmt: skip
    if not rows:
        return None
    fig, ax = plt.subplots(figsize=(8, 1.0 + 0.55 * len(rows)))
    ax.axvspan(1 / factor, factor, color="#dddddd", zorder=0)
    ax.axvline(1.0, color="black", linewidth=0.8, zorder=1)
    labels = []
    for y, row in enumerate(rows):
        key = tuple(row[c] for c in CASE_KEY)
        ratios = pair_ratios(keyed["base"].loc[key], keyed["new"].loc[key])
        colour = VERDICT_COLOURS.get(row["verdict"], "#7f7f7f")
        ax.scatter(ratios, y + np.linspace(-0.15, 0.15, len(ratios)), s=14, color=colour, alpha=0.7, zorder=3)
        ax.plot([row["ratio_low"], row["ratio_high"]], [y, y], color=colour, linewidth=4, alpha=0.45, zorder=2)
        ax.plot([row["ratio"]], [y], marker="|", markersize=14, color=colour, zorder=4)
        labels.append(f"{row['impl']} · {row['dataset']} · {row['dtype']}\n{row['verdict']}, {len(ratios)} pairs")
    ax.set_yticks(range(len(rows)))
    ax.set_yticklabels(labels, fontsize=8)
    ax.xaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}×"))
    ax.set_xlabel("new / base (dots: one worker pair's median; bar: the interval over pairs; tick: its centre)")
    ax.set_ylim(-0.6, len(rows) - 0.4)
    ax.set_title(f"A/B worker pairs: {len(rows)} case(s); grey: the `same` band [1/{factor:g}, {factor:g}]",
                 fontsize=10)  # fmt: skip
    return save_figure(fig, path)
