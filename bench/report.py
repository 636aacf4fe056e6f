"""Showing results: the console table and report.md, both rendered from the tidy frame."""

from __future__ import annotations

import math
from dataclasses import fields
from typing import Any

import pandas as pd

from bench.cases import ImplSpec
from bench.errors import InputError
from bench.problems import Problem
from bench.reference import Reference
from impls import implementation_class


def human_time(seconds: Any) -> str:
    if seconds is None or pd.isna(seconds):
        return ""
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6)):
        if seconds >= scale:
            return f"{seconds / scale:.3g} {unit}"
    return f"{seconds / 1e-9:.3g} ns"


def _figure(value: Any) -> str:
    if value is None or pd.isna(value):
        return ""
    return f"{value:.3g}" if isinstance(value, float) and not math.isinf(value) else str(value)


def _digits(value: Any) -> str:
    return "" if value is None or pd.isna(value) else f"{value:.1f}"


def summary_table(results: pd.DataFrame) -> pd.DataFrame:
    """The columns a reader compares, formatted; the CSV keeps the raw numbers."""
    return pd.DataFrame(
        {
            "impl": results["impl"],
            "device": results["device"],
            "dtype": results["dtype"],
            "status": results["status"],
            "median": results["time_median_s"].map(human_time),
            "IQR": results["time_iqr_s"].map(human_time),
            "rounds": results["rounds"].map(_figure),
            "train MSE": results["final_loss"].map(_figure),
            "excess loss": results["excess_loss"].map(_figure),
            "to optimum (SE)": results["opt_distance_se"].map(_figure),
            "to truth (SE)": results["truth_error_se"].map(_figure),
            "digits vs f64 optimum": results["digits_ref"].map(_digits),
            "× roofline": results["time_vs_bound"].map(_figure),
            **({"LRE vs certified": results["lre_min"].map(_digits)} if results["lre_min"].notna().any() else {}),
        }
    )


def findings(results: pd.DataFrame) -> list[str]:
    """One sentence per case that is not simply `ok`, so nothing failing hides in a table."""
    lines = []
    skipped = results[results["status"] == "skipped"]
    for reason, group in skipped.groupby("reason", sort=False):
        cases = ", ".join(f"{r['impl']} · {r['device']} · {r['dtype']}" for _, r in group.iterrows())
        lines.append(f"- **skipped** ({len(group)}): {reason} — {cases}")
    for _, row in results.iterrows():
        has_reason = isinstance(row.get("reason"), str) and row["reason"] != ""
        if row["status"] == "skipped" or (row["status"] == "ok" and not has_reason):
            continue
        where = f"{row['impl']} · {row['device']} · {row['dtype']}"
        settings = ""
        if not pd.isna(row.get("lr")) and row["status"] == "not-recovered":
            settings = f" with lr {row['lr']:g}, batch {int(row['batch_size'])}, {int(row['epochs'])} epochs"
        lines.append(f"- **{where}**: {row['status']}{settings} — {row['reason']}")
    return lines


def _pairing_keys(label: str) -> tuple[tuple | None, tuple | None]:
    """(its own key when it is a tutorial-equivalent loop, the key of the tutorial it is a faster
    form of), from what the implementation declares (`tutorial`, `speed_options`); a key is
    (name, options that change the math). Labels from another harness version pair with nothing."""
    try:
        spec = ImplSpec.parse(label)
    except InputError:
        return None, None
    cls = implementation_class(spec.name)
    defaults = {f.name: f.default for f in fields(cls.Options)}
    options = dict(spec.options)
    speed = {k: options.pop(k) for k in getattr(cls, "speed_options", ()) if k in options}
    math = tuple(sorted(options.items(), key=lambda item: item[0]))
    plain = all(value == defaults.get(k) for k, value in speed.items())
    tutorial = getattr(cls, "tutorial", None)
    own = (spec.name, math) if plain else None
    faster_form_of = (tutorial, math) if tutorial is not None and (tutorial != spec.name or not plain) else None
    return own, faster_form_of


def tutorial_costs(results: pd.DataFrame) -> pd.DataFrame:
    """Each fast path beside its tutorial loop measured in the same run (same dataset, device and
    dtype): the speed-up, and what the tutorial's way costs per epoch (for nn-linear, the DataLoader)."""
    ok = results[(results["status"] == "ok") & results["time_median_s"].notna()]
    pairing = {label: _pairing_keys(label) for label in ok["impl"].unique()}
    setting = ["dataset", "device", "dtype"]
    plain = {(pairing[r["impl"]][0], *r[setting]): r for _, r in ok.iterrows() if pairing[r["impl"]][0] is not None}
    rows = []
    for _, fast in ok.iterrows():
        tutorial = plain.get((pairing[fast["impl"]][1], *fast[setting]))
        if tutorial is None:
            continue
        epochs = fast["epochs"] if not pd.isna(fast["epochs"]) else 1
        rows.append({
            **fast[setting].to_dict(),
            "tutorial loop": tutorial["impl"], "fast path": fast["impl"],
            "tutorial": human_time(tutorial["time_median_s"]), "fast": human_time(fast["time_median_s"]),
            "speed-up": f"{tutorial['time_median_s'] / fast['time_median_s']:.3g}×",
            "tutorial's extra cost per epoch": human_time((tutorial["time_median_s"] - fast["time_median_s"]) / epochs),
        })  # fmt: skip
    return pd.DataFrame(rows).sort_values(["dataset", "device", "dtype", "tutorial loop"]) if rows else pd.DataFrame()


def markdown_report(
    problem: Problem, reference: Reference, results: pd.DataFrame, machine: dict[str, Any], plots: list[str]
) -> str:
    counts = results["status"].value_counts()
    tally = ", ".join(f"{counts[s]} {s}" for s in counts.index)
    parts = [
        f"# linreg-bench run: {problem.name}",
        "",
        f"{problem.description}. n = {problem.n}, d = {problem.d}, k = {problem.k}. "
        f"Least-squares optimum (float64): training MSE L* = {reference.mse:.6g}, rank {reference.rank}.",
        "",
        f"**{len(results)} cases: {tally}.** Times are the median and interquartile range of fit rounds "
        f"on data already on the device ({machine.get('torch_threads')} torch threads). Distances are in "
        "standard errors of the least-squares estimate; a fit passes when it lies inside the optimum's 99.9% "
        "confidence region and, where the truth is known, each parameter is within its Bonferroni bound.",
        "",
        summary_table(results).to_markdown(index=False),
        "",
    ]
    costs = tutorial_costs(results)
    if len(costs):
        parts += ["## What the tutorial loops cost", "",
                  "The same math, the same shuffling order and the same parameters, measured in this run; for "
                  "nn-linear the difference is the DataLoader.", "", costs.to_markdown(index=False), ""]  # fmt: skip
    found = findings(results)
    if found:
        parts += ["## Findings", "", *found, ""]
    if plots:
        parts += ["## Plots", "", *[f"![{name}]({name})" for name in plots], ""]
    parts += ["## Machine and software", "", pd.Series(machine, name="value").to_frame().to_markdown(), ""]
    return "\n".join(parts)


def comparison_table(comparison: pd.DataFrame) -> pd.DataFrame:
    def ratio(row: pd.Series) -> str:
        if pd.isna(row["ratio"]):
            return ""
        interval = "" if pd.isna(row["ratio_low"]) else f" [{row['ratio_low']:.3f}, {row['ratio_high']:.3f}]"
        return f"{row['ratio']:.3f}×{interval}"

    verdicts = [
        f"**{v} (regression)**" if r else v
        for v, r in zip(comparison["verdict"], comparison["regression"], strict=True)
    ]
    return pd.DataFrame({
        "dataset": comparison["dataset"],
        "impl": comparison["impl"],
        "device": comparison["device"],
        "dtype": comparison["dtype"],
        "base": comparison["base_median_s"].map(human_time),
        "new": comparison["new_median_s"].map(human_time),
        "new/base (95% CI)": comparison.apply(ratio, axis=1) if len(comparison) else [],
        "p": comparison["p_value"].map(lambda p: "" if pd.isna(p) else f"{p:.2g}"),
        "verdict": verdicts,
    })  # fmt: skip


def comparison_markdown(
    comparison: pd.DataFrame, base: str, new: str, warnings: list[str], alpha: float, min_factor: float
) -> str:
    regressions = int(comparison["regression"].sum())
    counts = comparison["verdict"].value_counts()
    tally = ", ".join(f"{counts[v]} {v}" for v in counts.index) or "nothing to compare"
    lines = [
        f"# linreg-bench compare: {base} → {new}",
        "",
        f"**{tally}; {regressions} regression(s)** — slower with Mann-Whitney p < {alpha:g} and by at least "
        f"{min_factor:g}×. Ratios are medians of the raw rounds, new / base, with a bootstrap 95% interval.",
        "",
    ]
    lines += [f"> warning: base and new ran on different machines or software — {w}" for w in warnings]
    if warnings:
        lines.append("")
    lines += [comparison_table(comparison).to_markdown(index=False), ""]
    return "\n".join(lines)


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
        "epochs to target": summary["epochs_to_target_median"].map(_figure),
        "final excess loss": summary["final_excess_median"].map(_figure),
        "time / epoch": summary["time_per_epoch_median_s"].map(human_time),
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
    lines += [verdict, "", table.to_markdown(index=False), ""]
    lines += [f"![{name}]({name})" for name in plots]
    return "\n".join([*lines, ""])
