"""The comparison of two runs (or two revisions) as a Markdown table with its verdicts."""

from __future__ import annotations

import pandas as pd

from bench.reports.format import human_time


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
    comparison: pd.DataFrame,
    base: str,
    new: str,
    warnings: list[str],
    alpha: float,
    min_factor: float,
    paired: bool = False,
    machines: tuple[dict, dict] | None = None,
) -> str:
    regressions = int(comparison["regression"].sum())
    if paired:
        test = "Wilcoxon signed-rank (paired rounds)"
        ratios = ("Rounds ran in ABBA pairs; a ratio is the median of the pairs' new / base, with a bootstrap "
                  "95% interval over pairs.")  # fmt: skip
    else:
        test = "Mann-Whitney"
        ratios = "Ratios are medians of the raw rounds, new / base, with a bootstrap 95% interval."
    counts = comparison["verdict"].value_counts()
    tally = ", ".join(f"{counts[v]} {v}" for v in counts.index) or "nothing to compare"
    lines = [
        f"# linreg-bench compare: {base} → {new}",
        "",
        f"**{tally}; {regressions} regression(s)** — slower (or faster) with {test} p < {alpha:g} and by at "
        f"least {min_factor:g}× (or 1/{min_factor:g}×): a significant change smaller than that is `same`, its p "
        f"shown. A regression is a slower case, or an `error` on the new side where the base ran. {ratios}",
        "",
    ]
    lines += [f"> warning: base and new ran on different machines or software — {w}" for w in warnings]
    if warnings:
        lines.append("")
    lines += [comparison_table(comparison).to_markdown(index=False), ""]
    if machines is not None:
        lines += ["## Machines and commits", "", machines_table(*machines).to_markdown(index=False), ""]
    return "\n".join(lines)


def machines_table(base: dict, new: dict) -> pd.DataFrame:
    """Where each side ran and at which commit, side by side."""
    keys = ("git_commit", "time_utc", "cpu", "cpu_count", "torch", "torch_blas", "cuda_device", "host")
    return pd.DataFrame({"": keys, "base": [base.get(k, "") for k in keys], "new": [new.get(k, "") for k in keys]})
