"""Pictures drawn from the tidy tables (and, for the fit plot, the data and saved fits)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.ticker import MaxNLocator

from bench.problems.problem import Problem
from bench.reports.figures import save_figure
from impls import LinearFit

STATUS_COLOURS = {"ok": "tab:green", "not-recovered": "tab:orange", "diverged": "tab:red", "error": "tab:red"}


def _case_label(row: pd.Series) -> str:
    return f"{row['impl']} · {row['device']} · {row['dtype']}"


def loss_curves(curves: pd.DataFrame, optimum_mse: float, path: Path, title: str) -> Path | None:
    """Training MSE against epoch, log scale, with the least-squares floor L* as a dashed line."""
    if curves.empty:
        return None
    fig, ax = plt.subplots(figsize=(7, 4.2))
    for keys, group in curves.groupby(["impl", "device", "dtype"], sort=False):
        ax.plot(group["epoch"], group["loss"], marker="o", markersize=3, label=" · ".join(keys))
    ax.axhline(
        optimum_mse, color="black", linestyle="--", linewidth=1, label=f"least-squares optimum L* = {optimum_mse:.3g}"
    )
    ax.set_yscale("log")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("epoch")
    ax.set_ylabel("training MSE")
    ax.set_title(title)
    ax.legend(fontsize=7)
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
    ax.set_xlabel("fit time, median of rounds (s); bars: IQR; green ok, orange not recovered, red failed")
    ax.set_title(title)
    return save_figure(fig, path)


def roofline_chart(results: pd.DataFrame, peaks: dict[str, dict], path: Path, title: str) -> Path | None:
    """Achieved GFLOP/s against arithmetic intensity (the work model's flops per byte) under this
    machine's roofs, min(GEMM peak, bandwidth × intensity), one roof per device and dtype: how far
    each case is from what the machine allows, and whether memory or arithmetic bounds it."""
    rows = results.dropna(subset=["work_flops", "work_bytes", "time_median_s"])
    rows = rows[(rows["work_bytes"] > 0) & (rows["time_median_s"] > 0)]
    if rows.empty or not peaks:
        return None
    intensity = rows["work_flops"] / rows["work_bytes"]
    achieved = rows["work_flops"] / rows["time_median_s"] / 1e9
    span = np.logspace(np.log10(intensity.min() / 4), np.log10(intensity.max() * 4), 200)
    fig, ax = plt.subplots(figsize=(8, 5.5))
    for key, peak in peaks.items():
        roof = np.minimum(peak["gemm_flops_s"], peak["bandwidth_bytes_s"] * span) / 1e9
        ax.plot(span, roof, "--", label=f"roof {key}: {peak['bandwidth_bytes_s'] / 1e9:.0f} GB/s, "
                f"{peak['gemm_flops_s'] / 1e9:.0f} GFLOP/s")  # fmt: skip
    markers = {"float32": "o", "float64": "s"}
    colours = dict(zip(rows["impl"].unique(), plt.rcParams["axes.prop_cycle"].by_key()["color"] * 4, strict=False))
    for (_, row), x, y in zip(rows.iterrows(), intensity, achieved, strict=True):
        colour = colours[row["impl"]]
        ax.scatter(x, y, marker=markers.get(row["dtype"], "^"), s=40, edgecolors=colour,
                   facecolors=colour if row["status"] == "ok" else "none")  # fmt: skip
    for impl, colour in colours.items():
        ax.scatter([], [], color=colour, label=impl)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("arithmetic intensity of the work model (flop / byte)")
    ax.set_ylabel("achieved GFLOP/s (work-model flops / median time)")
    ax.set_title(f"{title}: roofline\ncircles float32, squares float64; hollow: not ok", fontsize=10)
    ax.legend(fontsize=7, loc="best")
    return save_figure(fig, path)


def data_and_fits(problem: Problem, fits: dict[str, LinearFit], path: Path) -> Path | None:
    """One feature: the data against each fitted line. More: fitted against observed, per target."""
    if not fits:
        return None
    X, y = problem.X.numpy(), problem.y.numpy()
    if problem.d == 1 and problem.k == 1:
        fig, ax = plt.subplots(figsize=(6, 4.2))
        ax.scatter(X[:, 0], y[:, 0], color="black", s=14, label="data", zorder=3)
        grid = np.linspace(X.min(), X.max(), 50)[:, None]
        for label, fit in fits.items():
            ax.plot(grid[:, 0], fit.predict(grid)[:, 0].numpy(), label=label)
        ax.set_xlabel(problem.feature_names[0] if problem.feature_names else "x")
        ax.set_ylabel(problem.target_names[0] if problem.target_names else "y")
    else:
        fig, axes = plt.subplots(1, problem.k, figsize=(4.5 * problem.k, 4.2), squeeze=False)
        for j, ax in enumerate(axes[0]):
            for label, fit in fits.items():
                ax.scatter(y[:, j], fit.predict(X)[:, j].numpy(), s=10, label=label, alpha=0.7)
            lo, hi = y[:, j].min(), y[:, j].max()
            ax.plot([lo, hi], [lo, hi], color="black", linestyle="--", linewidth=1)
            ax.set_xlabel(f"observed {problem.target_names[j] if problem.target_names else j}")
            ax.set_ylabel("fitted")
    fig.axes[0].legend(fontsize=7)
    fig.suptitle(f"{problem.name}: data and fits")
    return save_figure(fig, path)
