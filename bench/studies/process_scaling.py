"""What going from 1 to N ranks buys: strong scaling (the same n split over more ranks) and weak
scaling (the same rows per rank), measured with `linreg-bench run --nproc N`, one run folder each.

Each configuration is a whole `run` (its own process group, its own judged rows), so a scaling
figure is never taken from a fit that errored or diverged; a `not-recovered` one counts (one SGD
epoch is not meant to converge) and its status stands beside the figure. Every rank runs one thread, the one-rank
baseline too: N ranks use N cores, and the speed-up is what the ranks buy, not extra threads.
Iterative methods run one epoch; under strong scaling the global batch stays fixed (each rank
takes batch / N rows per step), under weak scaling each rank keeps the batch.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from bench.harness.cases import ImplSpec
from impls import implementation_class

FINISHED = ("ok", "not-recovered")  # timed to the end; error, diverged and skipped runs have no figure


@dataclass(frozen=True)
class ScalingPlan:
    """The study: each implementation at each rank count, on synthetic data of n rows and d columns
    (iterative methods: `batch` rows per step in all, one epoch), in one dtype."""

    specs: tuple[ImplSpec, ...]
    nprocs: tuple[int, ...]
    n: int
    d: int
    batch: int
    dtype: str

    def configurations(self) -> list[tuple[str, int, int, int]]:
        """(mode, ranks, total rows, rows per step per rank) for every run of the study."""
        out = [("strong", k, self.n, max(1, self.batch // k)) for k in self.nprocs]
        return out + [("weak", k, self.n * k, self.batch) for k in self.nprocs if k > 1]


def run_one(plan: ScalingPlan, spec: ImplSpec, configuration: tuple[str, int, int, int], out: Path) -> dict:
    """One `python -m bench run --nproc` in `out` (the command a user would type, in its own
    process: a run's process group and threads never leak into the next); its row."""
    mode, ranks, n, batch = configuration
    iterative = implementation_class(spec.name).iterative
    argv = ["run", "--nproc", str(ranks), "--dataset", "synthetic", "--n", str(n), "--d", str(plan.d),
            "--impl", spec.label, "--device", "cpu", "--dtype", plan.dtype, "--rounds", "3", "--min-time", "0",
            "--threads", "1", "--no-plots", "--no-roofline", "--overwrite", "--out", str(out),
            *(["--epochs", "1", "--batch-size", str(batch)] if iterative else [])]  # fmt: skip
    done = subprocess.run([sys.executable, "-m", "bench", *argv], capture_output=True, text=True)
    code = done.returncode
    row = {"mode": mode, "impl": spec.label, "world_size": ranks, "n": n, "d": plan.d, "n_per_rank": n // ranks,
           "batch_per_rank": batch if iterative else pd.NA, "exit_code": code}  # fmt: skip
    results = out / "results.csv"
    if not results.is_file():
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return {**row, "status": "error", "reason": f"the run wrote no results (exit {code}): {last}"}
    found = pd.read_csv(results).iloc[0]
    row.update({key: found.get(key) for key in ("status", "reason", "time_median_s", "comm_s", "comm_fraction")})
    if ranks == 1:
        row.update(comm_s=0.0, comm_fraction=0.0)
    return row


def study(plan: ScalingPlan, out: Path, on_row: Callable[[dict], None] | None = None) -> pd.DataFrame:
    rows = []
    for spec in plan.specs:
        for configuration in plan.configurations():
            mode, ranks = configuration[:2]
            row = run_one(plan, spec, configuration, out / "runs" / f"{spec.file_stem}-{mode}-{ranks}")
            rows.append(row)
            if on_row is not None:
                on_row(row)
    return with_speedups(pd.DataFrame(rows))


def with_speedups(frame: pd.DataFrame) -> pd.DataFrame:
    """Speed-up T(1)/T(N) and efficiency: strong = speed-up / N, weak = T(1)/T(N) (the same work per
    rank, so ideal is flat time); against the one-rank run of the same implementation, for runs that
    finished (ok or not-recovered)."""
    frame = frame.copy()
    frame["speedup"] = float("nan")
    frame["efficiency"] = float("nan")
    for _, group in frame.groupby("impl", sort=False):
        base = group[(group["world_size"] == 1) & group["status"].isin(FINISHED)]
        if base.empty:
            continue
        t1 = float(base["time_median_s"].iloc[0])
        for index, row in group.iterrows():
            if row["status"] not in FINISHED:
                continue
            ratio = t1 / float(row["time_median_s"])
            frame.loc[index, "speedup"] = ratio if row["mode"] == "strong" else float("nan")
            frame.loc[index, "efficiency"] = ratio / row["world_size"] if row["mode"] == "strong" else ratio
    return frame
