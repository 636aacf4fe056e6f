"""The sweep's pictures, drawn from its tidy tables (sweep.csv, curves.csv)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from bench.reports.figures import save_figure
from bench.reports.styles import identical_groups, series_styles


def convergence(curves: pd.DataFrame, x: str, target: float, path: Path, title: str) -> Path | None:
    """Excess loss against epoch or seconds: median over seeds at the best lr, seed range as a band."""
    seeds = curves[curves["phase"] == "seeds"]
    if seeds.empty:
        return None
    fig, ax = plt.subplots(figsize=(9.5, 4.5))
    curves_by_name = {}
    for optimizer, group in seeds.groupby("optimizer", sort=False):
        by_epoch = group.groupby("epoch")
        mid = by_epoch["excess_loss"].median()
        xs = by_epoch[x].median() if x == "seconds" else mid.index.to_series()
        low, high = (by_epoch["excess_loss"].agg(f).clip(lower=1e-17) for f in ("min", "max"))
        curves_by_name[f"{optimizer} (lr {group['lr'].iloc[0]:.3g})"] = (xs.to_numpy(), mid.to_numpy(), low, high)
    # against epochs, optimizers doing the same math draw the same curve: drawn once, names grouped
    grouped = identical_groups({name: np.concatenate([c[0], c[1]]) for name, c in curves_by_name.items()})
    styles = series_styles(list(grouped))
    for label in grouped:
        xs, mid, low, high = curves_by_name[label.split(" = ")[0]]
        (line,) = ax.plot(xs, np.clip(mid, 1e-17, None), label=label.replace(" = ", "\n= "), markersize=4,
                          markevery=max(1, len(xs) // 10), **styles[label])  # fmt: skip
        ax.fill_between(xs, low, high, color=line.get_color(), alpha=0.15)
    ax.axhline(target, color="black", linestyle="--", linewidth=1, label=f"target {target:g}")
    ax.set_yscale("log")
    if x == "seconds":
        ax.set_xscale("log")
    ax.set_xlabel("epoch" if x == "epoch" else "seconds of optimizer time (curve evaluation not charged)")
    ax.set_ylabel("excess loss (L − L*) / L*")
    ax.set_title(title)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1), borderaxespad=0)
    return save_figure(fig, path)


def time_to_target(summary: pd.DataFrame, path: Path, title: str) -> Path | None:
    if summary.empty:
        return None
    fig, ax = plt.subplots(figsize=(7, 0.42 * len(summary) + 1.4))
    labels = [f"{r.optimizer} (batch {r.batch_size})" for r in summary.itertuples()]
    times = summary["time_to_target_median_s"].to_numpy(dtype=float)
    reached = np.isfinite(times)
    ax.barh(labels, np.where(reached, times, 0), xerr=np.where(reached, summary["time_to_target_iqr_s"], 0),
            color=["tab:green" if ok else "lightgrey" for ok in reached], capsize=3)  # fmt: skip
    for i, (ok, row) in enumerate(zip(reached, summary.itertuples(), strict=True)):
        note = f"{row.reached}/{row.seeds} seeds" if ok else f"not reached (0/{row.seeds} seeds)"
        right = times[i] + summary["time_to_target_iqr_s"].iloc[i] if ok else 0  # past the whisker
        ax.annotate(note, (right, i), xytext=(6, 0), textcoords="offset points", va="center",
                    fontsize=7)  # fmt: skip
    ax.set_xlabel("time to target, median over seeds (s); bars: IQR")
    ax.set_title(title)
    return save_figure(fig, path)


def lr_sensitivity(sweep: pd.DataFrame, path: Path, title: str) -> Path | None:
    tune = sweep[sweep["phase"] == "tune"]
    if tune.empty:
        return None
    fig, ax = plt.subplots(figsize=(9.5, 4.5))
    styles = series_styles(list(tune["optimizer"].unique()))
    for optimizer, group in tune.groupby("optimizer", sort=False):
        group = group.sort_values("lr")
        finals = group["final_excess_loss"].where(group["status"] != "diverged")
        (line,) = ax.plot(group["lr"], finals.clip(lower=1e-17), markersize=4, label=optimizer, **styles[optimizer])
        blown = group[group["status"] == "diverged"]
        ax.scatter(blown["lr"], np.full(len(blown), 1e6), marker="x", color=line.get_color())
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("learning rate")
    ax.set_ylabel("final excess loss (x at the top: diverged)")
    ax.set_title(title)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1), borderaxespad=0)
    return save_figure(fig, path)
