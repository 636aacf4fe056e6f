"""The run report: the console table and report.md, both rendered from the tidy results frame."""

from __future__ import annotations

import json
from dataclasses import fields
from typing import Any

import pandas as pd

from bench.errors import InputError
from bench.harness.cases import ImplSpec
from bench.judge.reference import Reference
from bench.problems.problem import Problem
from bench.reports.format import digits_text, figure_text, human_time
from impls import implementation_class


def summary_table(results: pd.DataFrame) -> pd.DataFrame:
    """The columns a reader compares, formatted; the CSV keeps the raw numbers."""
    return pd.DataFrame(
        {
            "impl": results["impl"],
            "device": results["device"],
            "dtype": results["dtype"],
            "status": results["status"],
            **(
                {"why skipped": results["reason"].where(results["status"] == "skipped", "").fillna("")}
                if (results["status"] == "skipped").any()
                else {}
            ),
            "median": results["time_median_s"].map(human_time),
            "IQR": results["time_iqr_s"].map(human_time),
            "rounds": results["rounds"].map(figure_text),
            "train MSE": results["final_loss"].map(figure_text),
            "excess loss": results["excess_loss"].map(figure_text),
            "to optimum (SE)": results["opt_distance_se"].map(figure_text),
            "to truth (SE)": results["truth_error_se"].map(figure_text),
            "digits vs f64 optimum": results["digits_ref"].map(digits_text),
            "× roofline": results["time_vs_bound"].map(figure_text),
            **({"LRE vs certified": results["lre_min"].map(digits_text)} if results["lre_min"].notna().any() else {}),
            **(_parallel_columns(results) if "world_size" in results and results["world_size"].notna().any() else {}),
        }
    )


def _parallel_columns(results: pd.DataFrame) -> dict[str, pd.Series]:
    """A data-parallel run's ranks and the share of each round spent in collectives."""
    ranks = results["world_size"].map(lambda v: "" if pd.isna(v) else f"{int(v)} ({results['backend'].iloc[0]})")
    comm = results.get("comm_fraction", pd.Series(float("nan"), index=results.index))
    return {"ranks": ranks, "in collectives": comm.map(lambda v: "" if pd.isna(v) else f"{100 * v:.0f}%")}


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
    # hashable: option values may be dicts (optimizer_args)
    math = tuple(sorted((k, json.dumps(v, sort_keys=True) if isinstance(v, dict) else v) for k, v in options.items()))
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
        f"on data already on the device ({machine.get('torch_threads')} torch threads; one for fits under 5e7 flops, "
        "where a second can only wait: see `threads`). Distances are in "
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
    if machine.get("loaded"):
        load, cores = machine["load_average_1m"], machine.get("cpu_count")
        found.insert(0, f"- **the machine was busy** when the run started (load average {load} on {cores} cores): "
                        "others' work inflates and spreads the times")  # fmt: skip
    if found:
        parts += ["## Findings", "", *found, ""]
    if plots:
        parts += ["## Plots", "", *[f"![{name}]({name})" for name in plots], ""]
    parts += ["## Machine and software", "", pd.Series(machine, name="value").to_frame().to_markdown(), ""]
    return "\n".join(parts)
