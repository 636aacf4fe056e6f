"""Instruction counts of two revisions as a Markdown table with their verdicts."""

from __future__ import annotations

import pandas as pd


def instructions_markdown(
    comparison: pd.DataFrame, sides: tuple[str, str], min_factor: float, number: int, counts: int, stale: list[str]
) -> str:
    """`sides`: the (base, new) labels; `number` fits per case, the median of `counts` callgrind counts."""
    base, new = sides
    regressions = int(comparison["regression"].sum())
    verdicts = comparison["verdict"].value_counts()
    tally = ", ".join(f"{verdicts[v]} {v}" for v in verdicts.index) or "nothing to compare"
    table = pd.DataFrame({
        "case": comparison[["dataset", "impl", "device", "dtype"]].agg(" ".join, axis=1),
        "base": comparison["base_instructions"].map("{:,}".format),
        "new": comparison["new_instructions"].map("{:,}".format),
        "new/base": comparison["ratio"].map("{:.4f}×".format),
        "verdict": [f"**{v} (regression)**" if r else (f"{v}, {a}" if a else v)
                    for v, r, a in zip(comparison["verdict"], comparison["regression"], comparison["accepted"],
                                       strict=True)],
    })  # fmt: skip
    lines = [
        f"# linreg-bench ab --measure instructions: {base} → {new}",
        "",
        f"**{tally}; {regressions} regression(s)** — instructions of {number} fit(s) per case, the median of "
        f"{counts} callgrind counts (denoised, one thread); `more` / `fewer` beyond ×{min_factor:g}; `more` is a "
        "regression unless `accepted-regressions.toml` lets it through.",
        "",
        table.to_markdown(index=False),
        "",
    ]
    lines += [f"> accepted entry matched no change (remove it once its commit is in every base): {s}" for s in stale]
    return "\n".join(lines) + ("\n" if stale else "")
