"""The run report: the console table and report.md, both rendered from the tidy results frame."""

from __future__ import annotations

import json
from dataclasses import fields
from datetime import datetime, timezone
from typing import Any

import pandas as pd

from bench.errors import InputError
from bench.harness.cases import ImplSpec
from bench.judge.reference import Reference
from bench.problems.problem import Problem
from bench.reports.format import digits_text, figure_text, human_time
from impls import implementation_class

OVERHEAD_BOUND = 1000  # beyond this many times its roofline bound a fit's time is overhead, not arithmetic


def summary_table(results: pd.DataFrame) -> pd.DataFrame:
    """The cases that ran, formatted for comparing, under their results.csv names (docs/columns.md
    says what each is); the skipped ones are folded into one line per reason (`skipped_lines`), and
    the CSV keeps every raw number."""
    ran = results[results["status"] != "skipped"]
    return pd.DataFrame(
        {
            "impl": ran["impl"],
            "kind": ran["impl"].map(implementation_role),
            "device": ran["device"],
            "dtype": ran["dtype"],
            "status": ran["status"],
            "time_median_s": ran["time_median_s"].map(human_time),
            "time_iqr_s": ran["time_iqr_s"].map(human_time),
            "rounds": ran["rounds"].map(figure_text),
            "final_loss": ran["final_loss"].map(figure_text),
            "excess_loss": ran["excess_loss"].map(figure_text),
            "opt_distance_se": ran["opt_distance_se"].map(figure_text),
            "truth_error_se": ran["truth_error_se"].map(figure_text),
            "digits_ref": ran["digits_ref"].map(digits_text),
            "time_vs_bound": ran["time_vs_bound"].map(roofline_text),
            **({"lre_min": ran["lre_min"].map(digits_text)} if ran["lre_min"].notna().any() else {}),
            **(_objective_columns(ran) if pd.to_numeric(ran["objective_bias_se"]).notna().any() else {}),
            **(_parallel_columns(ran) if "world_size" in ran and ran["world_size"].notna().any() else {}),
        }
    )


def _objective_columns(ran: pd.DataFrame) -> dict[str, pd.Series]:
    """Where some fit estimates a penalised objective: what each was judged against, and how far that
    optimum lies from least squares (information, never a failure)."""
    return {
        "objective": ran["objective"].fillna(""),
        "objective_bias_se": pd.to_numeric(ran["objective_bias_se"]).map(figure_text),
    }


def roofline_text(ratio: Any) -> str:
    """Time over the work model's bound; blank where it is past `OVERHEAD_BOUND`: there the time is
    per-step Python and dispatch overhead, which a flop and byte count does not describe."""
    if ratio is None or pd.isna(ratio) or ratio > OVERHEAD_BOUND:
        return ""
    return f"{ratio:.3g}"


def implementation_role(label: str) -> str:
    """'tutorial loop' for a tutorial as written, 'fast form of X' for a faster form of tutorial X."""
    own, faster_form_of = _pairing_keys(label)
    if faster_form_of is not None:
        return f"fast form of {faster_form_of[0]}"
    if own is not None and own[0] in _TUTORIAL_LOOPS():
        return "tutorial loop"
    return ""


def _TUTORIAL_LOOPS() -> set[str]:
    from impls import available

    return {getattr(implementation_class(name), "tutorial", None) for name in available()} - {None}


def skipped_lines(results: pd.DataFrame) -> list[str]:
    """One line per reason a case did not run, its cases grouped (all CUDA rows in one line on a
    machine without a GPU)."""
    skipped = results[results["status"] == "skipped"]
    lines = []
    for reason, group in skipped.groupby("reason", sort=False):
        impls = ", ".join(dict.fromkeys(group["impl"]))
        where = " and ".join(dict.fromkeys(group["device"]))
        dtypes = " and ".join(dict.fromkeys(group["dtype"]))
        lines.append(f"- **{len(group)} skipped** ({where}, {dtypes}): {reason} — {impls}")
    return lines


def _parallel_columns(results: pd.DataFrame) -> dict[str, pd.Series]:
    """A data-parallel run's ranks and the share of each round spent in collectives."""
    ranks = results["world_size"].map(lambda v: "" if pd.isna(v) else f"{int(v)} ({results['backend'].iloc[0]})")
    comm = results.get("comm_fraction", pd.Series(float("nan"), index=results.index))
    return {"world_size": ranks, "comm_fraction": comm.map(lambda v: "" if pd.isna(v) else f"{100 * v:.0f}%")}


def findings(results: pd.DataFrame) -> list[str]:
    """One sentence per case that is not simply `ok`, so nothing failing hides in a table."""
    lines = []
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


PLOT_CAPTIONS = {
    "loss_curves.png": "training MSE after each epoch against the least-squares optimum",
    "fit_times.png": "median fit time of each case, with its interquartile range",
    "data_and_fits.png": "the data and each float64 CPU fit",
    "roofline.png": "achieved GFLOP/s against arithmetic intensity under this machine's roofs",
}


def plot_links(plots: list[str], image_base: str | None = None) -> list[str]:
    """Markdown image lines; with `image_base` (a URL prefix) the links are absolute, so a page that
    is not beside the files (a CI job summary) can show them."""
    base = image_base.rstrip("/") + "/" if image_base else ""
    return [f"![{PLOT_CAPTIONS.get(name, name)}]({base}{name})" for name in plots]


def machine_tables(machine: dict[str, Any]) -> list[str]:
    """The machine as a person reads it: its scalar facts, then the measured peaks and the native
    thread pools as small tables of their own (never a raw dict in a cell)."""
    scalars = {k: v for k, v in machine.items() if not isinstance(v, (dict, list))}
    parts = [pd.Series(scalars, name="value").to_frame().to_markdown(), ""]
    peaks = machine.get("peaks") or {}
    if peaks:
        table = pd.DataFrame([{
            "roof": key, "GEMM GFLOP/s": f"{p['gemm_flops_s'] / 1e9:.1f}",
            "bandwidth GB/s": f"{p['bandwidth_bytes_s'] / 1e9:.1f}",
            "threads": p.get("threads", ""), "library": p.get("library", "torch"),
            "measured": datetime.fromtimestamp(p["measured_at"], timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
            if p.get("measured_at") else "",
        } for key, p in peaks.items()])  # fmt: skip
        parts += ["Measured peaks (the roofs of `time_vs_bound`; probed once per machine, kept 30 days):", "",
                  table.to_markdown(index=False), ""]  # fmt: skip
    pools = machine.get("native_pools") or []
    if pools:
        columns = ["user_api", "internal_api", "prefix", "version", "num_threads", "threading_layer"]
        parts += ["Native thread pools (threadpoolctl):", "",
                  pd.DataFrame(pools).reindex(columns=columns).fillna("").to_markdown(index=False), ""]  # fmt: skip
    return parts


def shape_text(problem: Problem) -> str:
    """n, d and k, less what the problem's description already says (d2l's names its n)."""
    parts = [f"{name} = {value}" for name, value in (("n", problem.n), ("d", problem.d), ("k", problem.k))
             if f"{name} = {value}" not in problem.description]  # fmt: skip
    return f"{', '.join(parts)}." if parts else ""


def markdown_report(
    problem: Problem,
    reference: Reference,
    results: pd.DataFrame,
    machine: dict[str, Any],
    plots: list[str],
    image_base: str | None = None,
) -> str:
    counts = results["status"].value_counts()
    tally = ", ".join(f"{counts[s]} {s}" for s in counts.index)
    table = summary_table(results)
    parts = [
        f"# linreg-bench run: {problem.name}",
        "",
        f"{problem.description}. {shape_text(problem)} "
        f"Least-squares optimum (float64): training MSE L* = {reference.mse:.6g}, rank {reference.rank}.",
        "",
        f"**{len(results)} cases: {tally}.** Times are the median and interquartile range of fit rounds "
        f"on data already on the device ({machine.get('torch_threads')} torch threads; one for fits under 5e7 flops, "
        "where a second can only wait: see `threads`). Distances are in "
        "standard errors of the least-squares estimate; a fit passes when it lies inside the optimum's 99.9% "
        "confidence region and, where the truth is known, each parameter is within its Bonferroni bound.",
        "",
        table.to_markdown(index=False) if len(table) else "No case ran.",
        "",
        *skipped_lines(results),
        "",
        "Columns are results.csv's, formatted (times with units; docs/columns.md says what each is). "
        f"*kind*: the tutorial's own loop, or a faster form of it (same math, same order). *time_vs_bound*: the "
        "median time over the least time this machine's measured peaks allow for the work the fit must do "
        "(its flops and bytes, from the implementation's work model; `roofline.png`): 1 is the machine's limit. "
        f"Left blank past {OVERHEAD_BOUND}×, where the time is per-step Python and dispatch overhead that no "
        "flop or byte count describes.",
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
        parts += ["## Plots", "", *plot_links(plots, image_base), ""]
    parts += ["## Machine and software", "", *machine_tables(machine)]
    return "\n".join(parts)
