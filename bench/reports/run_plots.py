"""Pictures drawn from the tidy tables (and, for the fit plot, the data and saved fits)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator, NullFormatter

from bench.problems.problem import Problem
from bench.reports.figures import save_figure
from bench.reports.styles import (
    REFERENCE_COLOURS,
    coincident_on_log_axis,
    identical_groups,
    series_styles,
    visible_decades,
)
from impls import LinearFit

STATUS_COLOURS = {"ok": "tab:green", "not-recovered": "tab:orange", "diverged": "tab:red", "error": "tab:red"}


def _case_label(row: pd.Series) -> str:
    return f"{row['impl']} · {row['device']} · {row['dtype']}"


def _legend_outside(ax: plt.Axes, **kwargs) -> None:
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1), borderaxespad=0, **kwargs)


def case_group_label(cases: list[tuple[str, ...]]) -> str:
    """Cases that share one line, named compactly: "a, b · cpu · float32, float64" when they are every
    combination of their parts, else one case per line."""
    parts = [list(dict.fromkeys(case[i] for case in cases)) for i in range(len(cases[0]))]
    if len(cases) == int(np.prod([len(p) for p in parts])):
        return " · ".join(", ".join(p) for p in parts)
    return "\n≈ ".join(" · ".join(case) for case in cases)


def loss_curves(curves: pd.DataFrame, optimum_mse: float, path: Path, title: str) -> Path | None:
    """Training MSE against epoch, log scale, with the least-squares floor L* as a dashed line.
    Cases whose curves a reader could not tell apart at this scale share one line named with all
    of them, and the title counts the lines there are to see."""
    if curves.empty:
        return None
    grouped = curves.groupby(["impl", "device", "dtype"], sort=False)
    series = {keys: g.sort_values("epoch")["loss"].to_numpy(dtype=float) for keys, g in grouped}
    epochs = {keys: g.sort_values("epoch")["epoch"].to_numpy() for keys, g in grouped}
    every = np.concatenate([*series.values(), [optimum_mse]])
    groups = coincident_on_log_axis(series, visible_decades(every))
    labels = [textwrap.fill(case_group_label(group) + (f" ({len(group)}\u00a0cases)" if len(group) > 1 else ""), 44,
                            subsequent_indent="  ", break_on_hyphens=False) for group in groups]  # fmt: skip
    styles = series_styles(labels)
    fig, ax = plt.subplots(figsize=(9.5, 4.6))
    for group, label in zip(groups, labels, strict=True):
        ax.plot(epochs[group[0]], series[group[0]], markersize=4, label=label, **styles[label])
    floor = f"least-squares optimum\nL* = {optimum_mse:.3g}"
    ax.axhline(optimum_mse, color=REFERENCE_COLOURS[0], linestyle="--", linewidth=1, label=floor)
    ax.set_yscale("log")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("epoch")
    ax.set_ylabel("training MSE (log)")
    shown = f"{len(series)} case{'s' * (len(series) != 1)}, {len(groups)} visible curve{'s' * (len(groups) != 1)}"
    if len(groups) < len(series):
        shown += ": cases that coincide at this scale share a line, named together"
    ax.set_title(f"{title}\n{shown}", fontsize=10)
    _legend_outside(ax)
    return save_figure(fig, path)


def fit_times(results: pd.DataFrame, path: Path, title: str) -> Path | None:
    """Median fit time per case with its interquartile range, coloured by status."""
    timed = results.dropna(subset=["time_median_s"])
    if timed.empty:
        return None
    timed = timed.iloc[::-1]
    fig, ax = plt.subplots(figsize=(7, 0.4 * len(timed) + 1.2))
    labels = [_case_label(row) for _, row in timed.iterrows()]
    colours = [STATUS_COLOURS.get(s, "grey") for s in timed["status"]]
    ax.barh(labels, timed["time_median_s"], xerr=timed["time_iqr_s"], color=colours, capsize=3)
    ax.set_xscale("log")
    ax.set_xlabel("fit time, median of rounds (s, log); whiskers: interquartile range")
    shown = [s for s in STATUS_COLOURS if s in set(timed["status"])]
    ax.legend(handles=[Patch(color=STATUS_COLOURS[s], label=s) for s in shown], fontsize=7, loc="upper left",
              bbox_to_anchor=(1.01, 1), borderaxespad=0, title="status", title_fontsize=7)  # fmt: skip
    ax.set_title(title)
    return save_figure(fig, path)


def _roof(peak: dict, intensity: np.ndarray) -> np.ndarray:
    return np.minimum(peak["gemm_flops_s"], peak["bandwidth_bytes_s"] * intensity) / 1e9


def roofline_chart(results: pd.DataFrame, peaks: dict[str, dict], path: Path, title: str) -> Path | None:
    """Achieved GFLOP/s against arithmetic intensity (the work model's flops per byte) under this
    machine's roofs, min(GEMM peak, bandwidth × intensity), one roof per device and dtype: how far
    each case is from what the machine allows, and whether memory or arithmetic bounds it.

    The axes fit the points: roofs far above them are named in a note with their distance instead
    of leaving the points squeezed into a corner of an empty plot. Roofs are black and grey, which no
    series uses; no series' marker is a cross, which marks a case that is not ok."""
    rows = results.dropna(subset=["work_flops", "work_bytes", "time_median_s"])
    rows = rows[(rows["work_bytes"] > 0) & (rows["time_median_s"] > 0)]
    if rows.empty or not peaks:
        return None
    intensity = rows["work_flops"] / rows["work_bytes"]
    achieved = rows["work_flops"] / rows["time_median_s"] / 1e9
    span = np.logspace(np.log10(intensity.min() / 2), np.log10(intensity.max() * 2), 200)
    low, high = achieved.min() / 3, achieved.max() * 3
    fig, ax = plt.subplots(figsize=(8.5, 5.5))
    off_the_top = []
    looks = iter(zip(REFERENCE_COLOURS[:2] * 8, ["--", "-.", ":", (0, (6, 2, 1, 2))] * 4, strict=False))
    for key, peak in peaks.items():
        roof = _roof(peak, span)
        name = f"roof {key}: {peak['bandwidth_bytes_s'] / 1e9:.0f} GB/s, {peak['gemm_flops_s'] / 1e9:.0f} GFLOP/s"
        if roof.min() > high * 10:  # a roof a decade or more above every point: named, not drawn
            off_the_top.append((float(np.min(_roof(peak, intensity.to_numpy()) / achieved.to_numpy())), name))
            continue
        high = max(high, float(roof.max()) * 1.5)
        colour, dashes = next(looks)  # black and dark grey only: light greys vanish on white
        ax.plot(span, roof, linestyle=dashes, color=colour, linewidth=1.2, label=name)
    styles = series_styles(list(rows["impl"].unique()))
    failed = False
    for (_, row), x, y in zip(rows.iterrows(), intensity, achieved, strict=True):
        style = styles[row["impl"]]
        filled = row["dtype"] == "float32"
        x *= 0.94 if filled else 1.06
        ax.scatter(x, y, marker=style["marker"], s=46, alpha=0.85, linewidths=1.3, edgecolors=style["color"],
                   facecolors=style["color"] if filled else "none")  # fmt: skip
        if row["status"] != "ok":
            failed = True
            ax.scatter(x, y, marker="x", s=90, color="red", linewidths=1.6, zorder=5)
    for impl, style in styles.items():
        ax.scatter([], [], color=style["color"], marker=style["marker"], label=impl)
    if failed:
        ax.scatter([], [], marker="x", s=90, color="red", linewidths=1.6, label="not ok")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlim(span[0], span[-1])
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_ylim(low, high)
    ax.set_xlabel("arithmetic intensity of the work model (flop / byte)")
    ax.set_ylabel("achieved GFLOP/s (work-model flops / median time)")
    if off_the_top:
        lines = [f"{name}: {ratio:,.0f}× above the nearest point" for ratio, name in sorted(off_the_top)]
        ax.text(0, -0.13, "roofs above the plot (its axes fit the points):\n" + "\n".join(lines),
                transform=ax.transAxes, va="top", fontsize=8, color=REFERENCE_COLOURS[0])  # fmt: skip
    ax.set_title(f"{title}: roofline\nfilled float32, hollow float64 (nudged apart); red ×: not ok", fontsize=10)
    _legend_outside(ax)
    return save_figure(fig, path)


def data_and_fits(problem: Problem, fits: dict[str, LinearFit], path: Path) -> Path | None:
    """One feature: the data against each fitted line. More: fitted against observed, per target.
    Fits whose predictions agree to 1e-9 share one mark and one legend entry."""
    if not fits:
        return None
    X, y = problem.X.numpy(), problem.y.numpy()
    target_names = problem.target_names or (["y"] if problem.k == 1 else [f"y{j}" for j in range(problem.k)])
    if problem.d == 1 and problem.k == 1:
        grid = np.linspace(X.min(), X.max(), 50)[:, None]
        drawn = identical_groups({label: fit.predict(grid)[:, 0].numpy() for label, fit in fits.items()})
        styles = series_styles(list(drawn))
        fig, ax = plt.subplots(figsize=(8.5, 4.4))
        ax.scatter(X[:, 0], y[:, 0], color="black", s=14, label="data", zorder=3)
        for label, line in drawn.items():
            ax.plot(grid[:, 0], line, label=label.replace(" = ", "\n= "), markevery=7, markersize=4, **styles[label])
        ax.set_xlabel(problem.feature_names[0] if problem.feature_names else "x")
        ax.set_ylabel(target_names[0])
    else:
        # fits a reader cannot tell apart at this scale (within 0.1% of the targets' range) share a mark
        visible = 1e-3 * float(np.ptp(y))
        drawn = identical_groups({label: fit.predict(X).numpy() for label, fit in fits.items()}, rtol=0,
                                 atol=visible, joiner=" ≈ ")  # fmt: skip
        styles = series_styles(list(drawn))
        fig, axes = plt.subplots(1, problem.k, figsize=(4.6 * problem.k + 3, 4.4), squeeze=False)
        for j, ax in enumerate(axes[0]):
            for label, predicted in drawn.items():
                ax.scatter(y[:, j], predicted[:, j], s=10, alpha=0.6, color=styles[label]["color"],
                           marker=styles[label]["marker"], label=label.replace(" ≈ ", "\n≈ "),
                           rasterized=len(y) > 200)  # fmt: skip
            lo, hi = y[:, j].min(), y[:, j].max()
            ax.plot([lo, hi], [lo, hi], color="black", linestyle="--", linewidth=1, label="fitted = observed")
            ax.set_xlabel(f"observed {target_names[j]}")
            ax.set_ylabel(f"fitted {target_names[j]}")
        if len(drawn) < len(fits):
            fig.text(0.01, 0.01, "≈: predictions within 0.1% of the targets' range of each other", fontsize=7)
    _legend_outside(fig.axes[-1])
    fig.suptitle(f"{problem.name}: data and fits (float64, CPU)")
    return save_figure(fig, path)
