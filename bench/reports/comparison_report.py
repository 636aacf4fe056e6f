"""The comparison of two runs (or two revisions) as a Markdown table with its verdicts."""

from __future__ import annotations

from typing import Any

import pandas as pd

from bench.harness.machine_state import SLOW_STATE_FACTOR
from bench.reports.format import human_time


def comparison_table(comparison: pd.DataFrame) -> pd.DataFrame:
    def ratio(row: pd.Series) -> str:
        if pd.isna(row["ratio"]):
            return ""
        interval = "" if pd.isna(row["ratio_low"]) else f" [{row['ratio_low']:.3f}, {row['ratio_high']:.3f}]"
        return f"{row['ratio']:.3f}×{interval}"

    verdicts = [
        f"**{v} (regression)**" if r else (f"{v} ({a})" if isinstance(a, str) and a else v)
        for v, r, a in zip(comparison["verdict"], comparison["regression"], comparison["accepted"], strict=True)
    ]
    return pd.DataFrame({
        "dataset": comparison["dataset"],
        "impl": comparison["impl"],
        "device": comparison["device"],
        "dtype": comparison["dtype"],
        "base": comparison["base_median_s"].map(human_time),
        "new": comparison["new_median_s"].map(human_time),
        "new/base (interval)": comparison.apply(ratio, axis=1) if len(comparison) else [],
        "p": comparison["p_value"].map(lambda p: "" if pd.isna(p) else f"{p:.2g}"),
        "replicates": _replicates(comparison),
        "verdict": verdicts,
    })  # fmt: skip


def _replicates(comparison: pd.DataFrame) -> pd.Series:
    """ab's cases say how long their verdict took (the sequential design stops each when it knows)."""
    text = comparison["replicates"].fillna("")
    if "seconds_to_verdict" not in comparison:
        return text
    seconds = pd.to_numeric(comparison["seconds_to_verdict"], errors="coerce")
    return pd.Series([f"{t}, {s:.0f} s" if pd.notna(s) else t for t, s in zip(text, seconds, strict=True)],
                     index=comparison.index)  # fmt: skip


def comparison_markdown(
    comparison: pd.DataFrame,
    base: str,
    new: str,
    warnings: list[str],
    config: Any,
    machines: tuple[dict, dict] | None = None,
) -> str:
    """The verdicts, and in words what each comparison can and cannot know."""
    regressions = int(comparison["regression"].sum())
    counts = comparison["verdict"].value_counts()
    tally = ", ".join(f"{counts[v]} {v}" for v in counts.index) or "nothing to compare"
    lines = [f"# linreg-bench compare: {base} → {new}", "", f"**{tally}; {regressions} regression(s).**", ""]
    methods = set(comparison["method"].dropna())
    if config.paired:
        design = config.design
        lines.append(
            f"The replicate is the worker pair (one base and one new process, rounds in ABBA order): a pair gives one "
            f"figure, the median of its rounds' log ratios; the interval is a t interval over pairs at "
            f"{100 * design.level:.3g}% (α = {design.alpha:g} spent evenly over {design.looks} look(s)). `slower`: "
            f"the interval lies above ×{design.factor:g}; `faster`: below 1/{design.factor:g}; `same`: inside "
            f"[1/{design.factor:g}, {design.factor:g}]; `inconclusive`: none of these by the last pair. Only `slower` "
            "fails the gate. Worker pairs and rounds per pair, and how the variance splits between and within "
            "pairs, are in comparison.csv (`between_sd`, `within_sd`, `icc`)."
        )
        lines.append(_state_sentence(comparison))
    if any(m.startswith("one run a side") for m in methods):
        lines.append(
            f"**One run a side cannot separate the code from the machine's state**: the rounds of one run share its "
            f"process, its memory layout and whatever else ran then, so their spread says nothing of how far two runs "
            f"differ. No p-value is computed from rounds; a ratio beyond the noise band ×{config.noise:g} (either way) "
            "is called a change. Give several runs a side (a folder of runs, or pytest-benchmark storage) to test."
        )
    if any(m.startswith("Welch") for m in methods):
        lines.append(
            f"Several runs a side: each run's median is one replicate; Welch's t on their logs, `slower` / `faster` "
            f"when p < {config.alpha:g} and the ratio is at least ×{config.min_factor:g} (or 1/{config.min_factor:g})."
        )
    if (comparison["verdict"] == "too-few-rounds").any():
        lines.append("`too-few-rounds`: a run had fewer than 7 rounds of that case; the other cases are judged.")
    if comparison["accepted"].notna().any():
        lines.append("Let through by `accepted-regressions.toml`: the entry is named beside the verdict.")
    lines += ["A regression is a `slower` case, or an `error` on the new side where the base ran.", ""]
    lines += [f"> warning: base and new ran on different machines or software — {w}" for w in warnings]
    if warnings:
        lines.append("")
    lines += [comparison_table(comparison).to_markdown(index=False), ""]
    if machines is not None:
        lines += ["## Machines and commits", "", machines_table(*machines).to_markdown(index=False), ""]
    return "\n".join(lines)


def _state_sentence(comparison: pd.DataFrame) -> str:
    """What the machine did during the rounds: a verdict read without it would credit the code."""
    share = comparison.get("slow_state_share", pd.Series(dtype=float)).dropna()
    text = ("Both sides ran pinned to one vCPU, so each ABBA round pair saw the same machine state. "
            if "pinned_cpu" in comparison and comparison["pinned_cpu"].notna().any() else "")  # fmt: skip
    if share.size:
        text += (
            f"Rounds in the machine's slow state (over ×{SLOW_STATE_FACTOR:g} the pair's fast rounds): "
            f"{100 * share.min():.0f}–{100 * share.max():.0f}% of a case's rounds (`slow_state_share`); pairing "
            "cancels a state both sides see, and what it leaves widens the interval rather than moving the ratio."
        )
    return text


def machines_table(base: dict, new: dict) -> pd.DataFrame:
    """Where each side ran and at which commit, side by side."""
    keys = ("git_commit", "time_utc", "cpu", "cpu_count", "torch", "torch_blas", "cuda_device", "host")
    return pd.DataFrame({"": keys, "base": [base.get(k, "") for k in keys], "new": [new.get(k, "") for k in keys]})
