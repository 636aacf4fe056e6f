"""The optimizer comparison as Markdown: who reaches the target, how fast, how reliably."""

from __future__ import annotations

from typing import Any

import pandas as pd

from bench.problems.problem import Problem
from bench.reports.format import figure_text, human_time


def sweep_report(problem: Problem, config: Any, summary: pd.DataFrame, plots: list[str]) -> str:
    """The optimizer comparison: who reaches the target, how fast, how reliably."""
    scale = "standardised features (parameters mapped back)" if config.standardize else "raw features"
    lines = [
        f"## {problem.name}, {scale}",
        "",
        f"{problem.description}. Target: excess loss (L − L*)/L* ≤ {config.target:g} against the float64 "
        f"closed-form optimum, within {config.epochs} epochs. Learning rate tuned per optimizer on "
        f"{', '.join(f'{lr:g}' for lr in config.lrs)} (seed 0), then the best rerun over {config.seeds} seeds; "
        "time counts the optimizer's epochs only, not the evaluation of the curves.",
        "",
    ]
    if summary.empty:
        return "\n".join([*lines, "No optimizer trained without diverging.", ""])
    table = pd.DataFrame({
        "optimizer": summary["optimizer"],
        "batch": summary["batch_size"],
        "best lr": summary["best_lr"].map(lambda v: f"{v:.3g}"),
        "reached": [f"{r}/{s}" for r, s in zip(summary["reached"], summary["seeds"], strict=True)],
        "time to target (median)": summary["time_to_target_median_s"].map(human_time),
        "IQR": summary["time_to_target_iqr_s"].map(human_time),
        "epochs to target": summary["epochs_to_target_median"].map(figure_text),
        "final excess loss": summary["final_excess_median"].map(figure_text),
        "time / epoch to the target": summary["time_per_epoch_to_target_s"].map(human_time)
        if "time_per_epoch_to_target_s" in summary else "",
        "time / epoch over the budget": summary["time_per_epoch_median_s"].map(human_time),
        "note": summary["note"].fillna(""),
    })  # fmt: skip
    reached = summary[summary["reached"] > 0]
    if reached.empty:
        verdict = f"No optimizer reached {config.target:g}; the lowest final excess loss was " + (
            f"{summary.loc[summary['final_excess_median'].idxmin(), 'optimizer']}."
            if summary["final_excess_median"].notna().any()
            else "—."
        )
    else:
        best = reached.loc[reached["time_to_target_median_s"].idxmin()]
        verdict = (
            f"**Fastest to the target: {best['optimizer']}** (lr {best['best_lr']:.3g}, "
            f"{human_time(best['time_to_target_median_s'])}, {best['reached']}/{best['seeds']} seeds)."
        )
    lines += [
        verdict,
        "",
        table.to_markdown(index=False),
        "",
        "*time to target* = *epochs to target* × *time / epoch to the target* (medians over the seeds that "
        f"reached it); *time / epoch over the budget* averages all {config.epochs} epochs, which differ from "
        "the first ones where an optimizer's steps get cheaper (LBFGS stops early once converged).",
        "",
    ]
    captions = {
        "excess_vs_epoch": "excess loss against epoch",
        "excess_vs_seconds": "excess loss against time",
        "time_to_target": "time to the target",
        "lr_sensitivity": "final excess loss against learning rate",
    }
    for name in plots:  # one paragraph each: a figure of its own on the HTML page
        lines += [f"![{captions.get(name.rsplit('/', 1)[-1].removesuffix('.png'), name)}]({name})", ""]
    return "\n".join([*lines, ""])
