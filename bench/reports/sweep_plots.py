"""The sweep's pictures, drawn from its tidy tables (sweep.csv, curves.csv).

Every plot takes the same `styles` (one colour, marker and line per optimizer, from the sweep's own
list), so an optimizer looks the same in every picture and on every page. Excess losses below the
float64 resolution of the loss are drawn at that floor, which the plots draw and name."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from bench.reports.figures import save_figure
from bench.reports.styles import REFERENCE_COLOURS, coincident_on_log_axis, layered, series_styles, visible_decades

# (L − L*)/L* below eps: the fit's float64 loss is L* itself, so nothing smaller can be seen in a loss
LOSS_RESOLUTION = float(np.finfo(np.float64).eps)
FLOOR_LABEL = f"float64 resolution of the loss ({LOSS_RESOLUTION:.1e}): lower is drawn on it"


def optimizer_styles(optimizers: list[str]) -> dict[str, dict[str, Any]]:
    """One look per optimizer, in the sweep's order, shared by every plot of the sweep."""
    return series_styles(list(optimizers))


def _floor(values: Any) -> Any:
    return np.clip(values, LOSS_RESOLUTION, None)


def _reference_lines(ax: plt.Axes, target: float) -> None:
    ax.axhline(target, color=REFERENCE_COLOURS[0], linestyle="--", linewidth=1, label=f"target {target:.3g}")
    ax.axhline(LOSS_RESOLUTION, color=REFERENCE_COLOURS[2], linestyle=":", linewidth=1.2, label=FLOOR_LABEL)


def _legend(ax: plt.Axes) -> None:
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1), borderaxespad=0)


def convergence(curves: pd.DataFrame, x: str, target: float, path: Path, title: str,
                styles: dict[str, dict[str, Any]] | None = None) -> Path | None:  # fmt: skip
    """Excess loss against epoch or seconds: median over seeds at the best lr, seed range as a band.
    Optimizers whose curves a reader could not tell apart share one line named with all of them,
    and the title counts the lines to be seen."""
    seeds = curves[curves["phase"] == "seeds"]
    if seeds.empty:
        return None
    styles = styles or optimizer_styles(list(seeds["optimizer"].unique()))
    fig, ax = plt.subplots(figsize=(9.5, 4.8))
    drawn: dict[str, tuple] = {}
    for optimizer, group in seeds.groupby("optimizer", sort=False):
        by_epoch = group.groupby("epoch")
        mid = by_epoch["excess_loss"].median()
        xs = by_epoch[x].median() if x == "seconds" else mid.index.to_series()
        low, high = (_floor(by_epoch["excess_loss"].agg(f)) for f in ("min", "max"))
        drawn[optimizer] = (xs.to_numpy(), _floor(mid.to_numpy()), low, high, group["lr"].iloc[0])
    every = np.concatenate([c[1] for c in drawn.values()] + [[target]])
    decades = visible_decades(every)
    # a line hides another only where both share their x: against epochs, not against seconds
    series = {name: c[1] for name, c in drawn.items()}
    groups = coincident_on_log_axis(series, decades) if x == "epoch" else [[name] for name in drawn]
    for index, group in enumerate(groups):
        xs, mid, low, high, _ = drawn[group[0]]
        label = "\n≈ ".join(f"{name} (lr {drawn[name][4]:.3g})" for name in group)
        step = max(1, len(xs) // 10)  # markers staggered: lines that cross still show whose is whose
        (line,) = ax.plot(xs, mid, label=label, markevery=(index % step, step), **layered(index, len(groups)),
                          **styles[group[0]])  # fmt: skip
        ax.fill_between(xs, low, high, color=line.get_color(), alpha=0.15)
    _reference_lines(ax, target)
    ax.set_yscale("log")
    if x == "seconds":
        ax.set_xscale("log")
    ax.set_xlabel("epoch" if x == "epoch" else "seconds of optimizer time (curve evaluation not charged)")
    ax.set_ylabel("excess loss (L − L*) / L*")
    shown = f"{len(drawn)} optimizers, {len(groups)} visible lines"
    if len(groups) < len(drawn):
        shown += " (≈: curves that coincide at this scale share a line)"
    ax.set_title(f"{title}: median over seeds, band = seed range\n{shown}", fontsize=10)
    _legend(ax)
    return save_figure(fig, path)


def time_to_target(summary: pd.DataFrame, path: Path, title: str,
                   styles: dict[str, dict[str, Any]] | None = None) -> Path | None:  # fmt: skip
    """Median time to the target per optimizer, whiskers the IQR; not reached is said, not drawn."""
    if summary.empty:
        return None
    styles = styles or optimizer_styles(list(summary["optimizer"]))
    fig, ax = plt.subplots(figsize=(7.5, 0.42 * len(summary) + 1.6))
    labels = [f"{r.optimizer} (batch {r.batch_size})" for r in summary.itertuples()]
    times = summary["time_to_target_s"].to_numpy(dtype=float)
    q1, q3 = (summary.get(f"time_to_target_{q}_s", pd.Series(np.nan, index=summary.index)).to_numpy(dtype=float)
              for q in ("q1", "q3"))  # fmt: skip
    reached = np.isfinite(times)
    ax.barh(labels, np.where(reached, times, 0), color=[styles[name]["color"] for name in summary["optimizer"]])
    whiskers = reached & np.isfinite(q1) & np.isfinite(q3)
    ax.errorbar(times[whiskers], np.flatnonzero(whiskers), xerr=[times[whiskers] - q1[whiskers],
                q3[whiskers] - times[whiskers]], fmt="none", ecolor="black", capsize=3)  # fmt: skip
    for i, (ok, row) in enumerate(zip(reached, summary.itertuples(), strict=True)):
        note = f"{row.reached}/{row.seeds} seeds" if ok else f"not reached (0/{row.seeds} seeds)"
        right = (q3[i] if np.isfinite(q3[i]) else times[i]) if ok else 0  # past the whisker
        ax.annotate(note, (right, i), xytext=(6, 0), textcoords="offset points", va="center", fontsize=7)
    ax.set_xlabel("time to target, median over the seeds that reached it (s); whiskers: 25th to 75th percentile")
    ax.set_title(f"{title}: time to the target", fontsize=10)
    return save_figure(fig, path)


def lr_sensitivity(sweep: pd.DataFrame, path: Path, title: str, styles: dict[str, dict[str, Any]] | None = None,
                   target: float | None = None, notes: list[str] = ()) -> Path | None:  # fmt: skip
    """Final excess loss against the learning rate, per optimizer; diverged settings as crosses at
    the top; `notes` say what the shapes come from (under the plot)."""
    tune = sweep[sweep["phase"] == "tune"]
    if tune.empty:
        return None
    styles = styles or optimizer_styles(list(tune["optimizer"].unique()))
    fig, ax = plt.subplots(figsize=(9.5, 4.8))
    curves = {}
    for optimizer, group in tune.groupby("optimizer", sort=False):
        group = group.sort_values("lr")
        curves[optimizer] = (group["lr"].to_numpy(), _floor(group["final_excess_loss"].where(
            group["status"] != "diverged").to_numpy(dtype=float)), group[group["status"] == "diverged"])  # fmt: skip
    # same grid, same finals (diverged counted as 1e6): one line under every name it stands for
    keyed = {name: np.concatenate([lrs, np.nan_to_num(finals, nan=1e6)]) for name, (lrs, finals, _) in curves.items()}
    groups = coincident_on_log_axis(keyed, visible_decades(np.concatenate(list(keyed.values()))))
    for index, group in enumerate(groups):
        lrs, finals, blown = curves[group[0]]
        label = " ≈ ".join(group)
        ax.plot(lrs, finals, label=label, **layered(index, len(groups)), **styles[group[0]])
        ax.scatter(blown["lr"], np.full(len(blown), 1e6), marker="x", color=styles[group[0]]["color"])
    if target is not None:
        _reference_lines(ax, target)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("learning rate")
    ax.set_ylabel("final excess loss (× at the top: diverged)")
    shown = f"{len(curves)} optimizers, {len(groups)} visible lines" + (
        " (≈: lines that coincide share one)" if len(groups) < len(curves) else "")  # fmt: skip
    ax.set_title(f"{title}: final excess loss after the budget, seed 0\n{shown}", fontsize=10)
    for i, note in enumerate(notes):
        ax.text(0, -0.14 - 0.06 * i, note, transform=ax.transAxes, va="top", fontsize=7)
    _legend(ax)
    return save_figure(fig, path)
