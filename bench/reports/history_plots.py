"""The history's pictures: every case's time over commits relative to its own median, and each case
that stepped, with its points, their spread and the levels the step detection found."""

from __future__ import annotations

import math
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import itertools

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.ticker import FixedLocator, FuncFormatter, NullLocator

from bench.reports.figures import save_figure
from bench.reports.styles import series_styles

SERIES_KEY = ["machine_key", "dataset", "impl", "device", "dtype"]
MAX_PANELS = 12
RATIO_TICKS = (0.25, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 1.0, 1.05, 1.1, 1.2, 1.3, 1.5, 2.0, 3.0, 4.0)


def _label(key: tuple) -> str:
    return " · ".join(str(part) for part in key[1:])


def _commit_ticks(ax: plt.Axes, points: pd.DataFrame) -> None:
    commits = points.drop_duplicates("position").sort_values("position")
    shown = commits if len(commits) <= 24 else commits.iloc[:: math.ceil(len(commits) / 24)]
    ax.set_xticks(shown["position"])
    ax.set_xticklabels([c[:7] + ("+" if d else "") for c, d in zip(shown["commit"], shown["dirty"], strict=True)],
                       rotation=60, ha="right", fontsize=7, family="monospace")  # fmt: skip


def overview(points: pd.DataFrame, steps: pd.DataFrame, path: Path) -> Path | None:
    """All series at once, each divided by its own median: a step anywhere stands out; the series
    that stepped are coloured and named, the others grey."""
    timed = points[np.isfinite(points["log_time"])]
    if timed.empty:
        return None
    stepped = {tuple(r) for r in steps[SERIES_KEY].itertuples(index=False)} if len(steps) else set()
    styles = series_styles([_label(k) for k in sorted(stepped)])
    fig, ax = plt.subplots(figsize=(10, 4.8))
    for key, series in timed.groupby(SERIES_KEY, sort=True):
        relative = np.exp(series["log_time"] - series["log_time"].median())
        if key in stepped:
            ax.plot(series["position"], relative, label=_label(key), linewidth=1.4, markersize=4, **styles[_label(key)])
        else:
            ax.plot(series["position"], relative, color="0.7", linewidth=0.7, marker=".", markersize=4, zorder=0)
    ax.axhline(1, color="black", linewidth=0.6)
    ax.set_yscale("log")
    ratio = FuncFormatter(lambda value, _: f"{value:.3g}×")
    ax.yaxis.set_major_formatter(ratio)
    ax.yaxis.set_minor_formatter(ratio)
    ax.tick_params(axis="y", which="minor", labelsize=7)
    low, high = ax.get_ylim()
    ticks = [t for t in RATIO_TICKS if low <= t <= high]
    if len(ticks) >= 3:  # log minor ticks leave 1×–2× unlabelled: name the ratios a reader looks for
        ax.yaxis.set_major_locator(FixedLocator(ticks))
        ax.yaxis.set_minor_locator(NullLocator())
    ax.set_ylabel("time / the case's median over the history (log)")
    ax.set_xlabel("commit (oldest left; + a run on uncommitted changes)")
    _commit_ticks(ax, timed)
    cases, commits = timed.groupby(SERIES_KEY).ngroups, timed["position"].nunique()
    which = (
        "no case stepped (every line grey)"
        if not stepped
        else (f"coloured: the {len(stepped)} that stepped" if len(stepped) > 1 else "coloured: the one that stepped")
    )
    ax.set_title(f"{cases} case{'s' * (cases != 1)} over {commits} commit{'s' * (commits != 1)}; {which}",
                 fontsize=10)  # fmt: skip
    if stepped:
        ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1), borderaxespad=0)
    return save_figure(fig, path)


def stepped_cases(points: pd.DataFrame, steps: pd.DataFrame, path: Path) -> Path | None:
    """One panel per case that stepped (the first twelve): each commit's median with ±2 SE, the
    levels between steps, and the step itself."""
    if steps.empty:
        return None
    keys = list(dict.fromkeys(tuple(r) for r in steps[SERIES_KEY].itertuples(index=False)))[:MAX_PANELS]
    columns = min(3, len(keys))
    rows = math.ceil(len(keys) / columns)
    fig, axes = plt.subplots(rows, columns, figsize=(4.6 * columns, 3.4 * rows), squeeze=False)
    for ax, key in zip(axes.flat, keys, strict=False):
        series = points[(points[SERIES_KEY].apply(tuple, axis=1) == key) & np.isfinite(points["log_time"])]
        times = np.exp(series["log_time"]) * 1e3
        spread = 2 * series["log_se"].fillna(0).to_numpy()
        ax.errorbar(series["position"], times, yerr=[times * (1 - np.exp(-spread)), times * (np.exp(spread) - 1)],
                    fmt="o", markersize=3, color="tab:blue", capsize=2, label="commit median ±2 SE")  # fmt: skip
        mine = steps[steps[SERIES_KEY].apply(tuple, axis=1) == key].sort_values("position")
        bounds = [series["position"].min() - 0.5, *(mine["position"] - 0.5), series["position"].max() + 0.5]
        for left, right in itertools.pairwise(bounds):
            inside = series[(series["position"] > left) & (series["position"] < right)]
            level = np.exp(inside["log_time"].median()) * 1e3
            ax.hlines(level, left, right, color="tab:orange", linewidth=1.5)
        for step in mine.itertuples():
            colour = "tab:red" if step.direction == "slower" else "tab:green"
            ax.axvline(step.position - 0.5, color=colour, linestyle="--", linewidth=1)
            ax.annotate(f"×{step.factor:.3g}", (step.position - 0.5, 1), xycoords=("data", "axes fraction"),
                        xytext=(3, -12), textcoords="offset points", color=colour, fontsize=8)  # fmt: skip
        ax.set_title(_label(key), fontsize=8)
        ax.set_ylabel("fit time (ms)")
        _commit_ticks(ax, series)
    for ax in list(axes.flat)[len(keys) :]:
        ax.set_visible(False)
    fig.suptitle("cases that stepped: points, levels between steps (orange), steps (red slower, green faster)",
                 fontsize=10)  # fmt: skip
    return save_figure(fig, path)
