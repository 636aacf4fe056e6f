"""Calibrate the timing gates on this machine: A/A and injected-slowdown `ab` runs, and `compare` of
same-commit run folders and pytest-benchmark JSON files made minutes apart.

    python scripts/calibrate_ab.py --out results/calibration     # ~1 h on a quiet 2-core machine

Every A/A alarm is false (HEAD against a clean working tree); every injected run should fail the gate.
The jobs are interleaved, so the run folders and JSON files of one pair are minutes apart, and the
script resumes: a job whose output exists is not run again. Run it with nothing else on the machine
and a clean working tree; `calibration.md` in --out holds the figures docs/regression-gates.md quotes.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats
from tqdm import tqdm

IMPL = "manual-gradient"
CASE = ["--dataset", "d2l", "--device", "cpu", "--dtype", "float32"]
RUN_CASES = ["--impl", "manual-gradient", "--impl", "normal-equation", "--impl", "sklearn"]
BENCHMARKS = "cpu and float32 and d2l and not d2l-reference and (manual-gradient or normal-equation or sklearn)"


def jobs(aa: int, injected: int, pairs: int) -> list[tuple[str, int]]:
    """Interleaved: each A/A, then the injected runs and one run folder and JSON file of a pair."""
    plan = []
    for i in range(max(aa, injected, 2 * pairs)):
        plan += [("aa", i)] if i < aa else []
        plan += [("slow5", i), ("slow10", i)] if i < injected else []
        plan += [("run", i), ("json", i)] if i < 2 * pairs else []
    return plan


def command(kind: str, target: Path) -> list[str]:
    if kind == "run":
        return ["linreg-bench", "run", *RUN_CASES, *CASE, "--no-plots", "--out", str(target)]
    if kind == "json":
        return [sys.executable, "-m", "pytest", "tests/benchmarks/test_fit.py", "--benchmark-only", "-q",
                "-p", "no:cacheprovider", "-p", "no:xdist", "-k", BENCHMARKS, f"--benchmark-json={target}"]  # fmt: skip
    injected = {"slow5": ["--inject-slowdown", f"{IMPL}=1.05"], "slow10": ["--inject-slowdown", f"{IMPL}=1.10"]}
    ab = ["linreg-bench", "ab", "--base", "HEAD", "--impl", IMPL, *CASE]
    return [*ab, *injected.get(kind, []), "--out", str(target)]


def run_job(kind: str, index: int, out: Path) -> dict:
    target = out / (f"{kind}-{index:02d}.json" if kind == "json" else f"{kind}-{index:02d}")
    log = out / "jobs.jsonl"
    if target.exists():
        return {}
    load = os.getloadavg()[0]
    begun = time.perf_counter()
    done = subprocess.run(command(kind, target), capture_output=True, text=True)
    record = {"kind": kind, "index": index, "rc": done.returncode, "seconds": time.perf_counter() - begun,
              "load_before": load, "load_after": os.getloadavg()[0], "error": done.stderr.strip()[-300:]}  # fmt: skip
    if done.returncode != 0:
        raise SystemExit(f"calibrate: {' '.join(command(kind, target))} exited {done.returncode}: {record['error']}")
    with log.open("a") as stream:
        stream.write(json.dumps(record) + "\n")
    return record


def ab_summary(out: Path) -> tuple[pd.DataFrame, list[str]]:
    rows = []
    for folder in sorted(out.glob("[as]*-[0-9][0-9]")):
        kind = folder.name.rsplit("-", 1)[0]
        row = pd.read_csv(folder / "comparison.csv").iloc[0]
        rows.append({"kind": kind, "verdict": row["verdict"], "p": row["p_value"], "ratio": row["ratio"],
                     "pairs": row["pairs_to_verdict"], "seconds": row["seconds_to_verdict"],
                     "slow_state_share": row["slow_state_share"], "between_sd": row["between_sd"]})  # fmt: skip
    frame = pd.DataFrame(rows)
    lines = []
    for kind, group in frame.groupby("kind") if len(frame) else []:
        counts = group["verdict"].value_counts().to_dict()
        seconds, pairs, slow = group["seconds"].median(), group["pairs"].median(), group["slow_state_share"].median()
        line = (f"- {kind}: {len(group)} runs, verdicts {counts}; time to verdict median {seconds:.0f} s "
                f"(pairs {pairs:.0f}); slow-state rounds {100 * slow:.0f}%")  # fmt: skip
        if kind == "aa":
            line += f"; KS of p against uniform: p = {stats.kstest(group['p'].dropna(), 'uniform').pvalue:.3g}"
        lines.append(line)
    return frame, lines


def compare_summary(out: Path, pairs: int) -> list[str]:
    """Run k against run k+1 (and JSON k against k+1) at the default noise band, and the band needed."""
    lines = []
    for kind, suffix in (("run", ""), ("json", ".json")):
        regressions, ratios = 0, []
        for k in range(pairs):
            a, b = out / f"{kind}-{2 * k:02d}{suffix}", out / f"{kind}-{2 * k + 1:02d}{suffix}"
            if not (a.exists() and b.exists()):
                continue
            target = out / f"compare-{kind}-{k:02d}"
            if not target.exists():
                subprocess.run(["linreg-bench", "compare", str(a), str(b), "--out", str(target)], capture_output=True,
                               check=True)  # fmt: skip
            frame = pd.read_csv(target / "comparison.csv")
            regressions += int(frame["regression"].sum())
            ratios += list(frame["ratio"].dropna())
        if ratios:
            worst = float(np.exp(np.abs(np.log(ratios)).max()))
            lines.append(f"- compare of {kind} pairs: {regressions} regression(s) over {pairs} pairs; "
                         f"{len(ratios)} case ratios, the farthest from 1 ×{worst:.3f} (either way)")  # fmt: skip
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--aa", type=int, default=40)
    parser.add_argument("--injected", type=int, default=20)
    parser.add_argument("--pairs", type=int, default=10, help="compare: pairs of run folders and of JSON files")
    args = parser.parse_args()
    if subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], capture_output=True,
                      text=True).stdout.strip():  # fmt: skip
        print("calibrate: the working tree differs from HEAD, so an A/A would not be A/A", file=sys.stderr)
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    for kind, index in tqdm(jobs(args.aa, args.injected, args.pairs), desc="calibration jobs", file=sys.stderr):
        run_job(kind, index, args.out)
    frame, lines = ab_summary(args.out)
    frame.to_csv(args.out / "calibration.csv", index=False)
    lines += compare_summary(args.out, args.pairs)
    text = "\n".join(["# Timing-gate calibration", "", *lines, ""])
    (args.out / "calibration.md").write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
