"""Base vs new timings, per case, on the unit of replication each source has (replicates.py):

- `ab` (worker pairs, rounds interleaved ABBA): a t over the worker pairs' median log ratios,
  judged by the sequential design's interval (slower / faster / same / inconclusive);
- several runs a side (folders of runs, pytest-benchmark storage): Welch's t over the runs'
  median log times, significant (p < alpha) and beyond the factor, as asv's rule;
- one run a side: the between-run variance is unknown, so no p is computed from rounds; the ratio
  of medians is held against a stated noise band (`--noise`), and the report says so.

A case with fewer than MIN_ROUNDS rounds on a side (pytest-benchmark's default is 5) is
`too-few-rounds`; the others are judged.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from bench.errors import InputError
from bench.harness.machine_state import slow_state_share
from bench.regression.replicates import (
    FASTER,
    SAME,
    SLOWER,
    TOO_FEW,
    SequentialDesign,
    noise_verdict,
    pair_estimate,
    run_level,
)
from bench.results.readers import CASE_KEY, LoadedResults, by_pair, samples

MACHINE_KEYS = ("cpu", "cpu_count", "torch_threads", "torch", "numpy", "sklearn", "python", "cuda_device")
COMPARISON_COLUMNS = [*CASE_KEY, "base_median_s", "new_median_s", "ratio", "ratio_low", "ratio_high",
                      "p_value", "base_rounds", "new_rounds", "replicates", "method", "verdict", "regression",
                      "accepted"]  # fmt: skip
MIN_ROUNDS = 7  # a median of fewer rounds moves with a single outlier (pytest-benchmark's default is 5)
# One run a side: 10 pairs of same-commit `run` folders and 10 of pytest-benchmark JSON files, each
# pair minutes apart on the shared 2-core VM, gave 60 case ratios up to ×3.27 either way (×1.72
# with the machine otherwise idle): a band that lets none of them through (docs/regression-gates.md,
# scripts/calibrate_ab.py). One run a side sees only changes larger than this; `ab` sees 5%.
NOISE_FACTOR = 3.5


@dataclass(frozen=True)
class CompareConfig:
    alpha: float = 0.002  # asv's default significance level (several runs a side)
    min_factor: float = 1.10
    confidence: float = 0.95  # of the ratio's interval where replicates give one
    noise: float = NOISE_FACTOR  # one run a side: the band a ratio must leave to be a change
    paired: bool = False  # ab's worker pairs
    design: SequentialDesign = field(default_factory=SequentialDesign)  # ab's looks and factor

    def __post_init__(self) -> None:
        if not 0 < self.alpha < 1:
            raise InputError(f"--alpha must be in (0, 1), got {self.alpha}")
        if self.min_factor < 1:
            raise InputError(f"--min-factor must be >= 1, got {self.min_factor}")
        if not self.noise >= 1:
            raise InputError(f"--noise must be >= 1, got {self.noise}")


def change_verdict(ratio: float, p_value: float, config: CompareConfig) -> str:
    """`slower` / `faster` only when the change is both significant and at least the factor either way
    (asv's rule): two sets of processes differ by a few per cent for reasons that are not the code."""
    if not p_value < config.alpha:
        return SAME
    if ratio >= config.min_factor:
        return SLOWER
    if ratio <= 1 / config.min_factor:
        return FASTER
    return SAME


def _empty_row() -> dict[str, Any]:
    nan = float("nan")
    return {"ratio": nan, "ratio_low": nan, "ratio_high": nan, "p_value": nan}


def compare_runs(base: list[np.ndarray], new: list[np.ndarray], config: CompareConfig) -> dict[str, Any]:
    """One case, unpaired: `base` and `new` hold each run's rounds."""
    base_rounds, new_rounds = min(len(t) for t in base), min(len(t) for t in new)
    row = {**_empty_row(), "base_median_s": float(np.median(np.concatenate(base))),
           "new_median_s": float(np.median(np.concatenate(new))), "base_rounds": sum(map(len, base)),
           "new_rounds": sum(map(len, new)), "replicates": f"{len(base)} vs {len(new)} run(s)"}  # fmt: skip
    if base_rounds < MIN_ROUNDS or new_rounds < MIN_ROUNDS:
        return {**row, "method": f"fewer than {MIN_ROUNDS} rounds in a run", "verdict": TOO_FEW, "regression": False}
    base_medians = np.array([np.median(t) for t in base])
    new_medians = np.array([np.median(t) for t in new])
    if len(base) >= 2 and len(new) >= 2:
        ratio, low, high, p_value = run_level(base_medians, new_medians, config.confidence)
        verdict = change_verdict(ratio, p_value, config)
        method = "Welch t over the runs' medians"
        row.update(ratio=ratio, ratio_low=low, ratio_high=high, p_value=p_value)
    else:
        ratio = float(np.exp(np.log(new_medians).mean() - np.log(base_medians).mean()))
        verdict = noise_verdict(ratio, config.noise)
        method = f"one run a side: noise band ×{config.noise:g}"
        row.update(ratio=ratio)
    return {**row, "method": method, "verdict": verdict, "regression": verdict == SLOWER}


def compare_pairs(base: np.ndarray, new: np.ndarray, blocks: list[int], config: CompareConfig) -> dict[str, Any]:
    """One case of an `ab`: round i of each side ran back to back inside worker pair j."""
    logs = np.log(new) - np.log(base)
    pairs = by_pair(logs, blocks)
    design = config.design
    estimate = pair_estimate(pairs, design.level)
    verdict = design.verdict(estimate) or "undecided"
    return {
        "base_median_s": float(np.median(base)), "new_median_s": float(np.median(new)),
        "ratio": estimate.ratio, "ratio_low": estimate.low, "ratio_high": estimate.high,
        "p_value": estimate.p_value, "base_rounds": len(base), "new_rounds": len(new),
        "replicates": f"{estimate.pairs} worker pair(s)",
        "method": f"t over worker pairs, {100 * design.level:.3g}% interval vs ×{design.factor:g}",
        "between_sd": estimate.between_sd, "within_sd": estimate.within_sd, "icc": estimate.icc,
        "slow_state_share": slow_state_share(base, new, blocks), "verdict": verdict, "regression": verdict == SLOWER,
    }  # fmt: skip


ERRORED = np.empty(0)  # a case that errored on a side: it has no times, and says so in the verdict


def _timed(frame: pd.DataFrame, origin: str) -> dict[tuple, np.ndarray]:
    """Each case's raw round times; an `error` row maps to ERRORED, a skipped one is left out."""
    cases = {}
    for _, row in frame.iterrows():
        key = tuple(row[c] for c in CASE_KEY)
        if row["status"] == "skipped":
            continue
        if row["status"] == "error":
            cases[key] = ERRORED
            continue
        times = samples(row["time_samples_s"])
        if times.size == 0:
            raise InputError(f"{origin}: case {' '.join(map(str, key))} has no raw round times to compare")
        if not (np.isfinite(times).all() and (times > 0).all()):
            raise InputError(f"{origin}: case {' '.join(map(str, key))} has round times that are not finite "
                             "positive seconds: nothing to compare")  # fmt: skip
        cases[key] = times
    return cases


AB_COLUMNS = ("pairs_to_verdict", "seconds_to_verdict", "pinned_cpu")  # what ab's new side adds per case


def _ab_facts(frame: pd.DataFrame) -> dict[tuple, dict[str, Any]]:
    """Per case, how ab reached its verdict (pairs, seconds) and where it ran, for the comparison rows."""
    present = [c for c in AB_COLUMNS if c in frame]
    return {tuple(row[c] for c in CASE_KEY): {c: row[c] for c in present} for _, row in frame.iterrows()}


def _blocks(frame: pd.DataFrame) -> dict[tuple, list[int]]:
    """ab's rounds per worker pair, per case (`time_blocks`); one block when a source has none."""
    if "time_blocks" not in frame:
        return {}
    return {tuple(row[c] for c in CASE_KEY): [int(v) for v in str(row["time_blocks"]).split()]
            for _, row in frame.iterrows() if isinstance(row["time_blocks"], str)}  # fmt: skip


def compare(
    base: LoadedResults | list[LoadedResults],
    new: LoadedResults | list[LoadedResults],
    config: CompareConfig | None = None,
) -> pd.DataFrame:
    """One row per case over every run of each side. A case that errors on the new side where the
    base ran is a regression (`error`, flagged); one that errored on the base side only is `error`
    too, not flagged."""
    config = config or CompareConfig()
    base_runs, new_runs = _as_runs(base), _as_runs(new)
    base_cases = [_timed(run.frame, run.origin) for run in base_runs]
    new_cases = [_timed(run.frame, run.origin) for run in new_runs]
    keys = list(dict.fromkeys(key for side in (base_cases, new_cases) for run in side for key in run))
    blocks = _blocks(new_runs[0].frame) if config.paired else {}
    facts = _ab_facts(new_runs[0].frame) if config.paired else {}
    rows = []
    for key in keys:
        row: dict[str, Any] = dict(zip(CASE_KEY, key, strict=True))
        base_times = [run[key] for run in base_cases if key in run]
        new_times = [run[key] for run in new_cases if key in run]
        if not new_times:
            row.update(verdict="gone", regression=False, base_median_s=_median(base_times))
        elif not base_times:
            row.update(verdict="new", regression=False, new_median_s=_median(new_times))
        elif any(t is ERRORED for t in base_times + new_times):
            worse = any(t is ERRORED for t in new_times) and not any(t is ERRORED for t in base_times)
            row.update(verdict="error", regression=worse, base_median_s=_median(base_times),
                       new_median_s=_median(new_times))  # fmt: skip
        elif config.paired and len(base_times) == len(new_times) == 1 and len(base_times[0]) == len(new_times[0]):
            row.update(compare_pairs(base_times[0], new_times[0], blocks.get(key, [len(new_times[0])]), config))
            row.update(facts.get(key, {}))
        else:
            row.update(compare_runs(base_times, new_times, config))
        rows.append(row)
    common = {key for run in base_cases for key in run} & {key for run in new_cases for key in run}
    if not common:  # a gate that compared nothing must not pass
        raise InputError(f"{side_origin(base_runs)} and {side_origin(new_runs)} have no case in common: nothing was "
                         f"compared ({len(keys)} timed case(s) in all)")  # fmt: skip
    frame = pd.DataFrame(rows)
    for column in COMPARISON_COLUMNS:
        if column not in frame:
            frame[column] = pd.NA if column != "regression" else False
    frame["regression"] = frame["regression"].fillna(False).astype(bool)
    return frame[COMPARISON_COLUMNS + [c for c in frame.columns if c not in COMPARISON_COLUMNS]]


def side_origin(runs: list[LoadedResults]) -> str:
    return runs[0].origin if len(runs) == 1 else f"{len(runs)} runs ({runs[0].origin} …)"


def _as_runs(side: LoadedResults | list[LoadedResults]) -> list[LoadedResults]:
    return [side] if isinstance(side, LoadedResults) else list(side)


def _median(times: list[np.ndarray]) -> float:
    found = [t for t in times if t.size]
    return float(np.median(np.concatenate(found))) if found else float("nan")


def apply_accepted(comparison: pd.DataFrame, accepted: list) -> pd.DataFrame:
    """`accepted-regressions.toml` in every gate: a slower case within an entry's factor passes, and
    the row says which entry let it through."""
    comparison = comparison.copy()
    for index, row in comparison.iterrows():
        case = " ".join(str(row[c]) for c in CASE_KEY)
        entry = next((a for a in accepted if a.case == case), None)
        if entry is None:
            continue
        ratio = row["ratio"]
        if row["verdict"] == SLOWER and pd.notna(ratio) and entry.covers(case, float(ratio)):
            comparison.at[index, "regression"] = False
            comparison.at[index, "accepted"] = entry.note()
    return comparison


def machine_differences(base: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """What differs between the two machines or software stacks (the timings may not be comparable)."""

    def short(value: Any) -> str:
        text = repr(value)
        return text if len(text) <= 60 else text[:57] + "..."

    return [f"{key}: {short(base[key])} vs {short(new[key])}" for key in MACHINE_KEYS
            if key in base and key in new and base[key] != new[key]]  # fmt: skip
