"""The history as Markdown: the steps, newest first, and every change in accuracy."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from bench.reports.format import human_time


def _commits(row: pd.Series) -> str:
    first = row["first_after"][:10] + ("+dirty" if row.get("first_after_dirty") else "")
    return f"`{row['last_before'][:10]}` → `{first}`"


def steps_table(steps: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({
        "case": steps["dataset"] + " · " + steps["impl"] + " · " + steps["device"] + " · " + steps["dtype"],
        "between commits": steps.apply(_commits, axis=1) if len(steps) else [],
        "first commit at the new level": steps["subject"].str.slice(0, 60),
        "new / old (95% CI)": [f"{f:.3f}× [{lo:.3f}, {hi:.3f}]" for f, lo, hi in
                               zip(steps["factor"], steps["factor_low"], steps["factor_high"], strict=True)],
        "p": steps["p_value"].map(lambda p: f"{p:.1g}"),
        "commits before / after": [f"{b} / {a}" for b, a in zip(steps["points_before"], steps["points_after"],
                                                                  strict=True)],
        "verdict": [("**regression**" if r else d) for d, r in zip(steps["direction"], steps["regression"],
                                                                   strict=True)],
    })  # fmt: skip


def accuracy_table(changes: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({
        "case": changes["dataset"] + " · " + changes["impl"] + " · " + changes["device"] + " · " + changes["dtype"],
        "between commits": changes.apply(_commits, axis=1) if len(changes) else [],
        "what": changes["what"],
        "before → after": changes["before"].astype(str) + " → " + changes["after"].astype(str),
        "verdict": ["**regression**" if r else "better" for r in changes["regression"]],
    })  # fmt: skip


@dataclass(frozen=True)
class HistoryScope:
    """What a history covers and by which rule: the revision whose commits order it, the step
    test's α and minimum factor, the runs left out (`skipped`: why; `outside`: their commits)."""

    revision: str
    alpha: float
    min_factor: float
    skipped: list[str]
    outside: list[str]


def history_markdown(
    points: pd.DataFrame, steps: pd.DataFrame, changes: pd.DataFrame, scope: HistoryScope, plots: list[str]
) -> str:
    revision, alpha, min_factor = scope.revision, scope.alpha, scope.min_factor
    series = points.groupby(["machine_key", "dataset", "impl", "device", "dtype"]).ngroups
    commits = points["position"].nunique()
    machines = points.drop_duplicates("machine_key")
    regressions = int(steps["regression"].sum()) + int(changes["regression"].sum())
    lines = [
        f"# linreg-bench history: {commits} commits of {revision}",
        "",
        f"**{len(steps)} step(s) in time, {len(changes)} change(s) in accuracy; {regressions} regression(s)** "
        f"over {series} case(s) on {len(machines)} machine(s). Newest first.",
        "",
        "A *step* is a change of level that a penalised piecewise-constant fit of log time finds (PELT, "
        "each commit weighted by the spread of its rounds plus the run-to-run noise of the series; the "
        f"penalty is what a step explains by chance at α = {alpha:g}, Bonferroni over the places it could "
        f"fall), not a point-to-point difference. A slower step is a **regression** when it is ≥ {min_factor:g}× "
        "and its 95% interval excludes 1. Accuracy is not noise: any loss of correct digits (certified LRE, "
        "or digits against the float64 optimum) beyond 0.05 and any status that stops being `ok` is a "
        "regression whatever its size.",
        "",
    ]
    lines += ["## Steps in time", ""]
    lines += [steps_table(steps).to_markdown(index=False), ""] if len(steps) else ["No step in any case.", ""]
    lines += ["## Changes in accuracy", ""]
    lines += [accuracy_table(changes).to_markdown(index=False), ""] if len(changes) else [
        "No digits lost or gained, no status changed.", ""]  # fmt: skip
    if plots:
        captions = {
            "history_overview.png": "every case's time over the commits, relative to its own median",
            "history_steps.png": "the cases that stepped: each commit's median, the levels, the steps",
        }
        for name in plots:
            lines += [f"![{captions.get(name, name)}]({name})", ""]
    latest = points.sort_values("position").groupby(["machine_key", "dataset", "impl", "device", "dtype"]).tail(1)
    lines += ["## The newest commit's figures", "", pd.DataFrame({
        "case": latest["dataset"] + " · " + latest["impl"] + " · " + latest["device"] + " · " + latest["dtype"],
        "commit": latest["commit"].str.slice(0, 10) + latest["dirty"].map({True: "+dirty", False: ""}),
        "time": latest["time_median_s"].map(human_time),
        "runs": latest["runs"], "status": latest["status"],
        "lre_min": latest["lre_min"].map(lambda v: "" if pd.isna(v) else f"{v:.1f}"),
        "digits_ref": latest["digits_ref"].map(lambda v: "" if pd.isna(v) else f"{v:.1f}"),
    }).to_markdown(index=False), ""]  # fmt: skip
    machine_table = pd.DataFrame({"key": machines["machine_key"], "machine": machines["machine"]})
    lines += ["## Machines", "", machine_table.to_markdown(index=False), "",
              "Each machine's cases are a series of their own: a key is the CPU, its cores, torch and its BLAS, "
              "and the GPU — never the time, the load or the host name.", ""]  # fmt: skip
    return "\n".join(lines + _left_out(scope))


def _left_out(scope: HistoryScope) -> list[str]:
    if not (scope.outside or scope.skipped):
        return []
    lines = ["## Left out", ""]
    lines += [f"- runs at commit `{c[:10]}`: not in the history of {scope.revision} (give `--rev`)"
              for c in scope.outside]  # fmt: skip
    return [*lines, *(f"- {why}" for why in scope.skipped), ""]
