"""Base vs new timings, per case: ratio with a confidence interval, and a rank test.

As in asv, a change is a regression only when it is both statistically significant (p < alpha)
and larger than a minimum factor: shared CI machines move by tens of per cent, so a fixed
percentage threshold alone raises false alarms. Two designs:
- unpaired (`compare` of two runs): Mann-Whitney U on the raw rounds, ratio of medians;
- paired (`ab`, rounds interleaved ABBA): round i of each side ran back to back, so the machine's
  drift and load hit both alike. The test is then Wilcoxon's signed-rank on the per-pair log ratios,
  the ratio their median (exp), its interval a bootstrap over pairs: the pairing removes the
  between-round noise that an unpaired test has to see through.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from bench.errors import InputError
from bench.results.readers import CASE_KEY, LoadedResults, samples

MACHINE_KEYS = ("cpu", "cpu_count", "torch_threads", "torch", "numpy", "sklearn", "python", "cuda_device")
COMPARISON_COLUMNS = [*CASE_KEY, "base_median_s", "new_median_s", "ratio", "ratio_low", "ratio_high",
                      "p_value", "base_rounds", "new_rounds", "verdict", "regression"]  # fmt: skip


@dataclass(frozen=True)
class CompareConfig:
    alpha: float = 0.002  # asv's default significance level
    min_factor: float = 1.10
    confidence: float = 0.95  # of the ratio's interval, shown, not used to decide
    resamples: int = 2000
    seed: int = 0
    paired: bool = False  # round i of base and new ran back to back (ab's ABBA order)

    def __post_init__(self) -> None:
        if not 0 < self.alpha < 1:
            raise InputError(f"--alpha must be in (0, 1), got {self.alpha}")
        if self.min_factor < 1:
            raise InputError(f"--min-factor must be >= 1, got {self.min_factor}")


def smallest_p_value(base_rounds: int, new_rounds: int, paired: bool = False) -> float:
    """The smallest two-sided p the exact test can give for these sample sizes. Mann-Whitney (every
    base round on one side of every new round): 2 / C(n₁ + n₂, n₁). Signed-rank over n pairs (every
    pair moved the same way): 2 / 2ⁿ."""
    if paired:
        return min(1.0, 2.0 / 2.0 ** min(base_rounds, new_rounds))
    return min(1.0, 2.0 / math.comb(base_rounds + new_rounds, base_rounds))


def rounds_needed(alpha: float, paired: bool = False) -> int:
    """Rounds per side below which a gate at `alpha` can never fire (at 0.002: 7 unpaired, 10 paired)."""
    rounds = 2
    while smallest_p_value(rounds, rounds, paired) >= alpha:
        rounds += 1
    return rounds


def check_rounds_can_fire(base_rounds: int, new_rounds: int, alpha: float, where: str, paired: bool = False) -> None:
    """A gate that can never fire is refused (exit 2), never run and reported `same`."""
    smallest = smallest_p_value(base_rounds, new_rounds, paired)
    if smallest >= alpha:
        test = "signed-rank test" if paired else "rank test"
        raise InputError(
            f"{where}: with {base_rounds} and {new_rounds} rounds the {test}'s smallest p is {smallest:.2g}, "
            f"never below --alpha {alpha:g}: give at least {rounds_needed(alpha, paired)} rounds a side, "
            "or a larger --alpha"
        )


def ratio_interval(base: np.ndarray, new: np.ndarray, config: CompareConfig) -> tuple[float, float]:
    """Bootstrap percentile interval of median(new) / median(base)."""
    if len(base) < 2 or len(new) < 2:
        return float("nan"), float("nan")

    def ratio(b: np.ndarray, n: np.ndarray, axis: int = -1) -> np.ndarray:
        return np.median(n, axis=axis) / np.median(b, axis=axis)

    result = stats.bootstrap(
        (base, new), ratio, n_resamples=config.resamples, confidence_level=config.confidence,
        method="percentile", vectorized=True, random_state=np.random.default_rng(config.seed),
    )  # fmt: skip
    return float(result.confidence_interval.low), float(result.confidence_interval.high)


def paired_ratio(base: np.ndarray, new: np.ndarray, config: CompareConfig) -> tuple[float, float, float, float]:
    """(ratio, low, high, p) from the per-pair log ratios: exp of their median, a bootstrap interval
    over pairs, and the exact two-sided Wilcoxon signed-rank p (ties and zeros by scipy's rules)."""
    logs = np.log(new) - np.log(base)
    ratio = float(np.exp(np.median(logs)))
    if len(logs) < 2 or not np.any(logs):
        return ratio, float("nan"), float("nan"), 1.0
    interval = stats.bootstrap(
        (logs,), np.median, n_resamples=config.resamples, confidence_level=config.confidence,
        method="percentile", vectorized=True, random_state=np.random.default_rng(config.seed),
    ).confidence_interval  # fmt: skip
    p_value = float(stats.wilcoxon(logs, alternative="two-sided").pvalue)
    return ratio, float(np.exp(interval.low)), float(np.exp(interval.high)), p_value


def change_verdict(ratio: float, p_value: float, config: CompareConfig) -> str:
    """`slower` / `faster` only when the change is both significant and at least the factor either way
    (asv's rule): A/A runs here are often "significant" at 1–3%, since two sets of processes differ by
    that much for reasons that are not the code, and a headline of "2 faster" for them misleads."""
    if p_value >= config.alpha:
        return "same"
    if ratio >= config.min_factor:
        return "slower"
    if ratio <= 1 / config.min_factor:
        return "faster"
    return "same"


def compare_samples(base: np.ndarray, new: np.ndarray, config: CompareConfig) -> dict[str, Any]:
    if config.paired and len(base) == len(new):
        ratio, low, high, p_value = paired_ratio(base, new, config)
    else:
        ratio = float(np.median(new) / np.median(base))
        low, high = ratio_interval(base, new, config)
        p_value = float(stats.mannwhitneyu(base, new, alternative="two-sided").pvalue)
    verdict = change_verdict(ratio, p_value, config)
    return {
        "base_median_s": float(np.median(base)), "new_median_s": float(np.median(new)),
        "ratio": ratio, "ratio_low": low, "ratio_high": high, "p_value": p_value,
        "base_rounds": len(base), "new_rounds": len(new), "verdict": verdict,
        "regression": verdict == "slower",
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


def check_gate_can_fire(base: LoadedResults, new: LoadedResults, alpha: float) -> None:
    """Every case timed on both sides has enough rounds for the rank test to reach `alpha`."""
    base_cases, new_cases = _timed(base.frame, base.origin), _timed(new.frame, new.origin)
    for key, times in base_cases.items():
        other = new_cases.get(key)
        if other is not None and times.size and other.size:
            check_rounds_can_fire(times.size, other.size, alpha, f"case {' '.join(map(str, key))}")


def compare(base: LoadedResults, new: LoadedResults, config: CompareConfig | None = None) -> pd.DataFrame:
    """One row per case. A case that errors on the new side where the base ran is a regression
    (`error`, flagged); one that errored on the base side only is `error` too, not flagged."""
    config = config or CompareConfig()
    base_cases, new_cases = _timed(base.frame, base.origin), _timed(new.frame, new.origin)
    rows = []
    for key in [*base_cases, *(k for k in new_cases if k not in base_cases)]:
        row: dict[str, Any] = dict(zip(CASE_KEY, key, strict=True))
        base_times, new_times = base_cases.get(key), new_cases.get(key)
        if new_times is None:
            row.update(verdict="gone", regression=False, base_median_s=_median(base_times))
        elif base_times is None:
            row.update(verdict="new", regression=False, new_median_s=_median(new_times))
        elif base_times is ERRORED or new_times is ERRORED:
            worse = new_times is ERRORED and base_times is not ERRORED
            row.update(verdict="error", regression=worse, base_median_s=_median(base_times),
                       new_median_s=_median(new_times))  # fmt: skip
        else:
            row.update(compare_samples(base_times, new_times, config))
        rows.append(row)
    if not any(key in new_cases for key in base_cases):  # a gate that compared nothing must not pass
        raise InputError(f"{base.origin} and {new.origin} have no case in common: nothing was compared "
                         f"({len(base_cases)} timed case(s) in one, {len(new_cases)} in the other)")  # fmt: skip
    return pd.DataFrame(rows, columns=COMPARISON_COLUMNS)


def _median(times: np.ndarray) -> float:
    return float(np.median(times)) if times.size else float("nan")


def machine_differences(base: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """What differs between the two machines or software stacks (the timings may not be comparable)."""

    def short(value: Any) -> str:
        text = repr(value)
        return text if len(text) <= 60 else text[:57] + "..."

    return [f"{key}: {short(base[key])} vs {short(new[key])}" for key in MACHINE_KEYS
            if key in base and key in new and base[key] != new[key]]  # fmt: skip
