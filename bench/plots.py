"""Pictures drawn from the tidy tables (and, for the fit plot, the data and saved fits)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.ticker import MaxNLocator

from bench.problems import Problem
from bench.store import write_atomic
from impls import LinearFit

STATUS_COLOURS = {"ok": "tab:green", "not-recovered": "tab:orange", "diverged": "tab:red", "error": "tab:red"}


def save_figure(fig: plt.Figure, path: Path) -> Path:
    """Every plot of the project is written this way: laid out, PNG, atomically."""
    fig.tight_layout()
    write_atomic(path, lambda p: fig.savefig(p, dpi=110, format="png"))
    plt.close(fig)
    return path


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
