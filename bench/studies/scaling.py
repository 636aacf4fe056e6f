"""How each implementation's fit time grows with n and d: a log-log study with fitted exponents.

Iterative methods run one epoch with minibatches of n/100 rows (at least 10) and lr 0.01, so the
study measures their cost per epoch, not a convergence race (that is `linreg-bench sweep`).
An implementation whose fit passes the time budget is not run at larger sizes.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import torch

from bench.harness.cases import Case, ImplSpec
from bench.harness.preparation import prepare
from bench.harness.timing import TimingConfig, measure
from bench.problems.builtin import synthetic
from impls import implementation_class

DEFAULT_NS = (1_000, 10_000, 100_000, 1_000_000, 10_000_000)
DEFAULT_DS = (1, 10, 100, 1000)
D_FOR_N, N_FOR_D = 10, 10_000


def sizes(ns: tuple[int, ...], ds: tuple[int, ...]) -> list[tuple[str, int, int]]:
    return [("n", n, D_FOR_N) for n in ns] + [("d", N_FOR_D, d) for d in ds if d < N_FOR_D]


def study(
    specs: list[ImplSpec], ns: tuple[int, ...], ds: tuple[int, ...], budget_s: float, dtype: torch.dtype,
    on_row: Callable[[dict], None] | None = None,
) -> pd.DataFrame:  # fmt: skip
    rows: list[dict] = []
    over_budget: set[tuple[str, str]] = set()
    timing = TimingConfig(warmup=1, min_rounds=3, max_rounds=20, min_time=0.2)
    for axis, n, d in sizes(ns, ds):
        problem = synthetic(n=n, d=d, noise=0.1, seed=0)
        for spec in specs:
            iterative = implementation_class(spec.name).iterative
            row = {"impl": spec.label + (" (1 epoch)" if iterative else ""), "axis": axis, "n": n, "d": d}
            if (spec.label, axis) in over_budget:
                row.update(status="skipped", reason=f"a smaller size already took over {budget_s:g} s")
            else:
                overrides = {"epochs": 1, "batch_size": max(10, n // 100), "lr": 0.01}
                try:
                    prepared = prepare(problem, Case(spec, "cpu", dtype), overrides)
                    measured, _ = measure(prepared.fit, "cpu", timing)
                    row.update(status="ok", time_median_s=measured.median, time_iqr_s=measured.iqr,
                               rounds=measured.rounds)  # fmt: skip
                    if measured.median > budget_s:
                        over_budget.add((spec.label, axis))
                except Exception as exc:  # one size failing (memory, say) never stops the study
                    row.update(status="error", reason=f"{type(exc).__name__}: {' '.join(str(exc).split())}")
                    over_budget.add((spec.label, axis))
            rows.append(row)
            if on_row is not None:
                on_row(row)
        del problem
    return pd.DataFrame(rows)


def exponents(frame: pd.DataFrame) -> pd.DataFrame:
    """Slope of log(time) against log(size) over the largest three sizes each implementation ran:
    the small sizes are per-call overhead, not growth."""
    out = []
    timed = frame[frame["status"] == "ok"]
    for (impl, axis), group in timed.groupby(["impl", "axis"], sort=False):
        group = group.sort_values(axis).tail(3)
        if len(group) >= 2:
            slope = np.polyfit(np.log10(group[axis].astype(float)), np.log10(group["time_median_s"]), 1)[0]
            out.append({"impl": impl, "axis": axis, "exponent": float(slope),
                        "from": int(group[axis].min()), "to": int(group[axis].max())})  # fmt: skip
    return pd.DataFrame(out)


def fastest(frame: pd.DataFrame) -> pd.DataFrame:
    """At each size, the fastest implementation and how many times faster than the runner-up.
    Iterative rows are one epoch, not a converged fit: read them as a lower bound on their cost."""
    out = []
    timed = frame[frame["status"] == "ok"]
    for (axis, n, d), group in timed.groupby(["axis", "n", "d"], sort=False):
        ranked = group.sort_values("time_median_s")
        margin = ranked["time_median_s"].iloc[1] / ranked["time_median_s"].iloc[0] if len(ranked) > 1 else np.nan
        out.append({"axis": axis, "n": n, "d": d, "fastest": ranked["impl"].iloc[0],
                    "runner_up": ranked["impl"].iloc[1] if len(ranked) > 1 else "", "margin": margin})  # fmt: skip
    return pd.DataFrame(out)
