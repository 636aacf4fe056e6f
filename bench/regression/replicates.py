"""Timing verdicts on their real unit of replication.

Rounds inside one process share that process's offset (memory layout, the core it settled on, what
the other vCPU does), so they are not independent replicates: a test over rounds reads the offset
as the code's. In `ab` the replicate is the worker pair — one base and one new process timed in
ABBA order: each pair gives one figure, the median log ratio of its rounds, and the test and the
interval are over pairs (a t on pair means; Kalibera & Jones 2013, "Rigorous benchmarking in
reasonable time", two-level design). Between separate runs the replicate is the run: with one run
a side the between-run variance is unknown, and a comparison can only hold the ratio against a
stated noise band.

The A/B is sequential: pairs are added until the interval of the ratio lies wholly above the
factor (`slower`), wholly below its inverse (`faster`) or wholly inside the band (`same`, an
equivalence verdict), or the maximum is reached (`inconclusive`). The repeated looks spend α
uniformly over the planned looks (Bonferroni: each look at α / looks), so the chance of any wrong
`slower`/`faster` over the whole sequence stays at most α — conservative next to Pocock's or
O'Brien–Fleming's boundaries, but exact for any number of looks and needing no tables.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats

SLOWER, FASTER, SAME, INCONCLUSIVE, TOO_FEW = "slower", "faster", "same", "inconclusive", "too-few-rounds"
MIN_PAIRS = 3  # a t over pairs needs at least two degrees of freedom to say anything
DEFAULT_ROUNDS_PER_PAIR = 64  # when the variance components cannot choose (one pair, no spread)
# A worker pair costs ~3 s to start and a 5 ms round ~10 ms, so K&J's optimum often exceeds 100;
# past this the pair's own offset dominates and more pairs, not rounds, buy precision.
MAX_ROUNDS_PER_PAIR = 400


@dataclass(frozen=True)
class PairedEstimate:
    """The ratio new / base from per-pair median log ratios, and the variance split."""

    ratio: float
    low: float
    high: float
    p_value: float
    pairs: int
    between_sd: float  # sd of the pair medians (log scale): process-to-process, with what rounds leave
    within_sd: float  # pooled sd of round log ratios inside a pair
    icc: float  # share of a round's variance that belongs to its pair (intra-class correlation)


def pair_estimate(pairs: list[np.ndarray], level: float) -> PairedEstimate:
    """`pairs`: per worker pair, the log ratios log(new/base) of its ABBA round pairs. The interval is
    the two-sided `level` t interval over pair medians; p is the t test of no change."""
    medians = np.array([float(np.median(p)) for p in pairs])
    count = len(medians)
    within = _pooled_sd(pairs)
    between = float(np.std(medians, ddof=1)) if count > 1 else float("nan")
    icc = _icc(pairs)
    centre = float(np.mean(medians))
    if count < 2 or not np.isfinite(between):
        return PairedEstimate(math.exp(centre), math.nan, math.nan, math.nan, count, between, within, icc)
    se = between / math.sqrt(count)
    if se == 0:
        p_value = 0.0 if centre != 0 else 1.0
        return PairedEstimate(math.exp(centre), math.exp(centre), math.exp(centre), p_value, count, 0.0, within, icc)
    quantile = float(stats.t.ppf(0.5 + level / 2, count - 1))
    p_value = float(2 * stats.t.sf(abs(centre) / se, count - 1))
    low, high = math.exp(centre - quantile * se), math.exp(centre + quantile * se)
    return PairedEstimate(math.exp(centre), low, high, p_value, count, between, within, icc)


def _pooled_sd(pairs: list[np.ndarray]) -> float:
    sizes = np.array([len(p) for p in pairs])
    if (sizes < 2).all():
        return float("nan")
    squares = sum(float(((p - p.mean()) ** 2).sum()) for p in pairs if len(p) > 1)
    return math.sqrt(squares / max(1, int((sizes - 1).clip(min=0).sum())))


def _icc(pairs: list[np.ndarray]) -> float:
    """One-way random-effects intra-class correlation ICC(1) from the ANOVA mean squares."""
    sizes = np.array([len(p) for p in pairs], dtype=float)
    if len(pairs) < 2 or (sizes < 2).any():
        return float("nan")
    grand = float(np.concatenate(pairs).mean())
    k = float(sizes.mean())
    between = sum(n * (p.mean() - grand) ** 2 for n, p in zip(sizes, pairs, strict=True)) / (len(pairs) - 1)
    within = sum(float(((p - p.mean()) ** 2).sum()) for p in pairs) / float((sizes - 1).sum())
    denominator = between + (k - 1) * within
    return float((between - within) / denominator) if denominator > 0 else float("nan")


@dataclass(frozen=True)
class SequentialDesign:
    """Looks after each worker pair from `min_pairs` to `max_pairs`, α spent uniformly over them."""

    alpha: float = 0.05
    factor: float = 1.025
    min_pairs: int = MIN_PAIRS + 1
    max_pairs: int = 16

    @property
    def looks(self) -> int:
        return self.max_pairs - self.min_pairs + 1

    @property
    def level(self) -> float:
        """The confidence level of each look's interval."""
        return 1 - self.alpha / self.looks

    def verdict(self, estimate: PairedEstimate) -> str | None:
        """`slower`, `faster` or `same` once the interval decides it; `inconclusive` at the last
        look; None while more pairs could still decide."""
        if estimate.pairs >= self.min_pairs and math.isfinite(estimate.low):
            if estimate.low > self.factor:
                return SLOWER
            if estimate.high < 1 / self.factor:
                return FASTER
            if estimate.low >= 1 / self.factor and estimate.high <= self.factor:
                return SAME
        return INCONCLUSIVE if estimate.pairs >= self.max_pairs else None


def rounds_per_pair(between_var: float, within_var: float, pair_cost_s: float, round_cost_s: float) -> int:
    """Kalibera & Jones's optimal repetitions at the inner level: r* = √((c_pair / c_round) · σ²_w / σ²_b),
    the rounds per worker pair that buy the most precision per second (between 2 and MAX_ROUNDS_PER_PAIR)."""
    if not (within_var > 0 and round_cost_s > 0):
        return DEFAULT_ROUNDS_PER_PAIR
    if not between_var > 0:  # no offset between processes seen: rounds are the cheap replicate
        return MAX_ROUNDS_PER_PAIR
    optimum = math.sqrt(pair_cost_s / round_cost_s * within_var / between_var)
    return int(min(MAX_ROUNDS_PER_PAIR, max(2, 2 * round(optimum / 2))))


def noise_verdict(ratio: float, noise: float) -> str:
    """One run a side: the between-run variance is unknown, so the ratio is held against the
    stated noise band, never against a p computed from the rounds of one process."""
    if ratio > noise:
        return SLOWER
    if ratio < 1 / noise:
        return FASTER
    return SAME


def run_level(base_medians: np.ndarray, new_medians: np.ndarray, level: float) -> tuple[float, float, float, float]:
    """Several runs a side: each run's median is one replicate. (ratio, low, high, p): Welch's t on
    log medians, its `level` interval of the ratio of geometric means."""
    base, new = np.log(base_medians), np.log(new_medians)
    diff = float(new.mean() - base.mean())
    var_b, var_n = base.var(ddof=1) / len(base), new.var(ddof=1) / len(new)
    se = math.sqrt(var_b + var_n)
    if se == 0:
        return math.exp(diff), math.exp(diff), math.exp(diff), 0.0 if diff else 1.0
    dof = (var_b + var_n) ** 2 / (var_b**2 / (len(base) - 1) + var_n**2 / (len(new) - 1))
    quantile = float(stats.t.ppf(0.5 + level / 2, dof))
    p_value = float(2 * stats.t.sf(abs(diff) / se, dof))
    return math.exp(diff), math.exp(diff - quantile * se), math.exp(diff + quantile * se), p_value
