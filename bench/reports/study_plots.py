"""The studies' pictures (conditioning, scaling), drawn from their tidy tables."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from bench.reports.figures import save_figure


def conditioning_plot(frame: pd.DataFrame, path: Path) -> Path:
    """Correct digits against κ per implementation and dtype, beside the −log10(eps·κ) lines."""
    fig, ax = plt.subplots(figsize=(7.5, 4.8))
    done = frame.dropna(subset=["digits"]) if "digits" in frame else frame.iloc[:0]
    colours = {impl: plt.get_cmap("tab10")(i % 10) for i, impl in enumerate(frame["impl"].unique())}
    for (impl, dtype), group in done.groupby(["impl", "dtype"], sort=False):
        ax.plot(group["cond"], group["digits"], marker="o", markersize=3, color=colours[impl],
                linestyle="-" if dtype == "float64" else "--", label=f"{impl} · {dtype}")  # fmt: skip
    conds = np.array(sorted(frame["cond"].unique()))
    for eps, name in ((np.finfo(np.float64).eps, "float64"), (np.finfo(np.float32).eps, "float32")):
        ax.plot(conds, np.clip(-np.log10(eps * conds), 0, None), color="grey", linewidth=0.8, linestyle=":")
        ax.annotate(f"−log10(eps·κ), {name}", (conds[0], -np.log10(eps * conds[0])), fontsize=7, color="grey")
    ax.set_xscale("log")
    ax.set_xlabel("condition number of [X 1]")
    ax.set_ylabel("correct digits (min LRE vs the true parameters)")
    ax.set_ylim(bottom=0)
    ax.set_title("Digits of agreement against conditioning (noise-free data)")
    ax.legend(fontsize=6.5, ncol=2)
    return save_figure(fig, path)


def scaling_plot(frame: pd.DataFrame, path: Path, d_for_n: int, n_for_d: int) -> Path:
    """Fit time against n (at d = d_for_n) and against d (at n = n_for_d), log-log."""
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.5))
    timed = frame[frame["status"] == "ok"]
    for ax, axis, fixed in ((axes[0], "n", f"d = {d_for_n}"), (axes[1], "d", f"n = {n_for_d:,}")):
        for impl, group in timed[timed["axis"] == axis].groupby("impl", sort=False):
            group = group.sort_values(axis)
            ax.errorbar(group[axis], group["time_median_s"], yerr=group["time_iqr_s"], marker="o", markersize=3,
                        label=impl, capsize=2)  # fmt: skip
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel(axis)
        ax.set_ylabel("fit time, median (s)")
        ax.set_title(f"time against {axis} ({fixed})")
    axes[0].legend(fontsize=7)
    return save_figure(fig, path)


def process_scaling_plot(measured: pd.DataFrame, model: pd.DataFrame | None, path: Path) -> Path:
    """Strong-scaling speed-up against the ideal line, and efficiency (strong solid, weak dashed)
    against the rank count, one colour and marker per implementation; the communication model's
    predictions hollow and dotted, in the colour of the implementation they model."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.5))
    ok = measured[measured["status"].isin(("ok", "not-recovered"))]
    impls = list(ok["impl"].unique())
    colours = {impl: plt.get_cmap("tab10")(i % 10) for i, impl in enumerate(impls)}
    markers = dict(zip(impls, "osD^v<>p*h", strict=False))
    ranks = sorted(ok["world_size"].unique())
    for impl in impls:
        rows = ok[ok["impl"] == impl]
        strong = rows[rows["mode"] == "strong"].sort_values("world_size")
        one = rows[rows["world_size"] == 1]
        weak = pd.concat([one, rows[rows["mode"] == "weak"]]).sort_values("world_size")  # from the one-rank run
        style = {"color": colours[impl], "marker": markers[impl]}
        left.plot(strong["world_size"], strong["speedup"], label=impl, **style)
        right.plot(strong["world_size"], strong["efficiency"], linestyle="-", label=f"{impl}, strong", **style)
        right.plot(weak["world_size"], weak["efficiency"], linestyle="--", label=f"{impl}, weak", **style)
    left.plot(ranks, ranks, color="grey", linestyle=":", linewidth=0.8, label="ideal")
    left.set_xticks(ranks)
    left.set_xlabel("ranks (processes, one thread each)")
    left.set_ylabel("speed-up T(1) / T(N), same n")
    left.set_title("strong scaling (measured)")
    left.legend(fontsize=7)
    if model is not None and not model.empty:
        for impl, group in model.groupby("impl", sort=False):
            modelled = ("normal-equation",) if impl == "normal-equation" else ("nn-linear", "manual-gradient")
            colour = next((c for name, c in colours.items() if name.startswith(modelled)), "grey")
            right.plot(group["world_size"], group["efficiency"], marker="o", markerfacecolor="none", linestyle=":",
                       color=colour, label=f"{impl}, weak (model, not measured)")  # fmt: skip
    right.set_xscale("log", base=2)
    right.set_ylim(0, 1.1)
    right.set_xlabel("ranks (processes)")
    right.set_ylabel("parallel efficiency")
    right.set_title("efficiency: measured here, and the α–β model beyond", fontsize=10)
    right.legend(fontsize=6.5, loc="lower left")
    return save_figure(fig, path)
