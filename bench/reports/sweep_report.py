"""The optimizer comparison as Markdown and on the terminal: who reaches the target, how fast, how
reliably. Both show the columns under their summary.csv names (docs/columns.md); long notes go
below the table, numbered, so the table stays narrow."""

from __future__ import annotations

import textwrap
from typing import Any

import pandas as pd

from bench.problems.problem import Problem
from bench.reports.format import figure_text, human_time

CONSOLE_WIDTH = 120
PLOT_CAPTIONS = {
    "excess_vs_epoch": "excess loss against epoch",
    "excess_vs_seconds": "excess loss against time",
    "time_to_target": "time to the target",
    "lr_sensitivity": "final excess loss against learning rate",
}


def numbered_notes(summary: pd.DataFrame) -> tuple[list[str], list[str]]:
    """(a reference per row, "" or "[1]", and the distinct notes in order): a note shared by rows
    is written once."""
    notes: list[str] = []
    refs = []
    for note in summary.get("note", pd.Series([""] * len(summary))).fillna(""):
        if not note:
            refs.append("")
            continue
        if note not in notes:
            notes.append(note)
        refs.append(f"[{notes.index(note) + 1}]")
    return refs, notes


def _table(summary: pd.DataFrame, full: bool) -> pd.DataFrame:
    refs, _ = numbered_notes(summary)
    column = {"time_per_epoch_to_target_s": summary.get("time_per_epoch_to_target_s", pd.Series(dtype=float))}
    table = {
        "optimizer": [f"{o} {r}".strip() for o, r in zip(summary["optimizer"], refs, strict=True)],
        "batch_size": summary["batch_size"],
        "best_lr": summary["best_lr"].map(lambda v: f"{v:.3g}"),
        "reached": [f"{r}/{s}" for r, s in zip(summary["reached"], summary["seeds"], strict=True)],
        "time_to_target_s": summary.get("time_to_target_s", pd.Series(dtype=float)).map(human_time),
        "time_to_target_iqr_s": summary.get("time_to_target_iqr_s", pd.Series(dtype=float)).map(human_time),
        "epochs_to_target": summary.get("epochs_to_target", pd.Series(dtype=float)).map(figure_text),
        "final_excess_loss": summary.get("final_excess_loss", pd.Series(dtype=float)).map(figure_text),
        "time_per_epoch_to_target_s": column["time_per_epoch_to_target_s"].map(human_time),
        "time_per_epoch_s": summary.get("time_per_epoch_s", pd.Series(dtype=float)).map(human_time),
    }
    if not full:  # the terminal: what ranks them; the spread and per-epoch costs are in the files
        for name in ("time_to_target_iqr_s", "time_per_epoch_to_target_s", "time_per_epoch_s"):
            table.pop(name)
    return pd.DataFrame(table).reindex(range(len(summary))).astype(object).fillna("")


def verdict(summary: pd.DataFrame, target: float) -> str:
    reached = summary[summary["reached"] > 0]
    count = f"{len(reached)} of {len(summary)} optimizers reached the target"
    if reached.empty:
        lowest = summary["final_excess_loss"] if "final_excess_loss" in summary else pd.Series(dtype=float)
        best = summary.loc[lowest.idxmin(), "optimizer"] if lowest.notna().any() else "—"
        return f"No optimizer reached {target:.3g}; the lowest final excess loss was {best}."
    ranked = reached.sort_values("time_to_target_s")
    best = ranked.iloc[0]
    order = ", ".join(ranked["optimizer"])
    return (f"**Fastest to the target: {best['optimizer']}** (lr {best['best_lr']:.3g}, "
            f"{human_time(best['time_to_target_s'])}, {best['reached']}/{best['seeds']} seeds). {count}; "
            f"fastest first: {order}.")  # fmt: skip


def _setting(problem: Problem, config: Any) -> str:
    why = f" = {config.target_why}" if getattr(config, "target_why", "") else ""
    lrs = ", ".join(f"{lr:.3g}" for lr in config.lrs)
    return (f"{problem.description}. Target: excess loss (L − L*)/L* ≤ {config.target:.3g}{why}, against the "
            f"float64 closed-form optimum, within {config.epochs} epochs. Learning rate tuned per optimizer on "
            f"{lrs} (seed 0), then the best rerun over {config.seeds} seeds; time counts the optimizer's epochs "
            "only, not the evaluation of the curves.")  # fmt: skip


def _escaped(text: str) -> str:
    """L* as Markdown text: two bare asterisks would turn the words between them into italics."""
    return text.replace("L*", "L\\*")


def sweep_report(problem: Problem, config: Any, summary: pd.DataFrame, plots: list[str]) -> str:
    """The Markdown section of one sweep (sweep.md, sweep.html)."""
    scale = "standardised features (parameters mapped back)" if config.standardize else "raw features"
    lines = [f"## {problem.name}, {scale}", "", _escaped(_setting(problem, config)), ""]
    if summary.empty:
        return "\n".join([*lines, "No optimizer trained without diverging.", ""])
    _, notes = numbered_notes(summary)
    lines += [
        verdict(summary, config.target),
        "",
        _table(summary, full=True).to_markdown(index=False),
        "",
        *[f"[{i}] {_escaped(note)}  " for i, note in enumerate(notes, 1)],
        "",
        "Columns as in summary.csv (medians over the seeds of the best lr; docs/columns.md): *time_to_target_s* "
        "= *epochs_to_target* × *time_per_epoch_to_target_s* (over the seeds that reached it); "
        f"*time_per_epoch_s* averages all {config.epochs} epochs, which differ from the first ones where an "
        "optimizer's steps get cheaper (LBFGS stops early once converged).",
        "",
    ]
    for name in plots:  # one paragraph each: a figure of its own on the HTML page
        lines += [f"![{PLOT_CAPTIONS.get(name.rsplit('/', 1)[-1].removesuffix('.png'), name)}]({name})", ""]
    return "\n".join([*lines, ""])


def _wrap(text: str, indent: str = "") -> list[str]:
    return textwrap.wrap(text, CONSOLE_WIDTH, subsequent_indent=indent, break_on_hyphens=False) or [""]


def sweep_console(problem: Problem, config: Any, summary: pd.DataFrame) -> str:
    """The same section for a terminal: lines of at most 120 characters, no Markdown markup."""
    scale = "standardised features" if config.standardize else "raw features"
    lines = [f"{problem.name}, {scale}", *_wrap(_setting(problem, config)), ""]
    if summary.empty:
        return "\n".join([*lines, "No optimizer trained without diverging."])
    _, notes = numbered_notes(summary)
    lines += [*_wrap(verdict(summary, config.target).replace("**", "")), ""]
    lines += _table(summary, full=False).to_markdown(index=False, tablefmt="simple").splitlines()
    lines += [""] + [line for i, note in enumerate(notes, 1) for line in _wrap(f"[{i}] {note}", "    ")]
    return "\n".join(lines)
