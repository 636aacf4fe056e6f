"""Steps, not point-to-point noise: a penalised piecewise-constant fit of log time over commits.

Each point is one commit's log median time with its own variance: the standard error of that median
(from the run's raw rounds) plus the run-to-run noise of the series (runs of one commit on a shared
machine differ by more than their rounds say). PELT (`ruptures`, exact for a per-segment additive
cost) minimises the inverse-variance weighted squared error plus a penalty per step. In those units
the error is χ²-distributed, so the penalty is the χ² quantile a split must beat by chance, with a
Bonferroni factor for the n − 1 places it could fall: a flat series of any length stays flat with
probability ≥ 1 − α, whatever its noise, because the noise is in the weights.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import ruptures
from ruptures.base import BaseCost
from scipy import stats

NORMAL_IQR = 1.349  # IQR of a standard normal: σ ≈ IQR / 1.349
MEDIAN_EFFICIENCY = 1.2533  # SE of a median ≈ 1.2533 σ / √n for normal data
MIN_RELATIVE_NOISE = 0.002  # no point is trusted to better than 0.2%: clocks, frequency, placement


class WeightedSquaredError(BaseCost):
    """Σ wᵢ (xᵢ − x̄_w)² over a segment, in O(1) from cumulative sums: the signal's columns are x, w."""

    model = "weighted-l2"
    min_size = 1

    def fit(self, signal: np.ndarray) -> WeightedSquaredError:
        self.signal = signal
        x, w = signal[:, 0], signal[:, 1]
        zero = np.zeros(1)
        self._w = np.concatenate([zero, np.cumsum(w)])
        self._wx = np.concatenate([zero, np.cumsum(w * x)])
        self._wxx = np.concatenate([zero, np.cumsum(w * x * x)])
        return self

    def error(self, start: int, end: int) -> float:
        w = self._w[end] - self._w[start]
        wx = self._wx[end] - self._wx[start]
        wxx = self._wxx[end] - self._wxx[start]
        return float(max(wxx - wx * wx / w, 0.0))


@dataclass(frozen=True)
class Step:
    """A change in level between point `index - 1` and point `index` of a series."""

    index: int
    factor: float  # level after / level before
    low: float  # 95% confidence interval of the factor
    high: float
    p_value: float
    before_points: int
    after_points: int


MAD_TO_SD = 1.4826  # σ = 1.4826 × median absolute deviation for normal data (1 / Φ⁻¹(3/4))


def log_median_se(samples: np.ndarray) -> float:
    """The standard error of the median log time of one run's rounds (robust: from their IQR)."""
    logs = np.log(samples[samples > 0])
    if len(logs) < 2:
        return float("nan")
    q1, q3 = np.percentile(logs, [25, 75])
    return float(MEDIAN_EFFICIENCY * (q3 - q1) / NORMAL_IQR / np.sqrt(len(logs)))


def series_noise(levels: np.ndarray, ses: np.ndarray) -> float:
    """Run-to-run noise beyond what each run's rounds say: from successive differences, whose
    median ignores the few that are steps."""
    if len(levels) < 3:
        return 0.0
    spread = MAD_TO_SD * float(np.median(np.abs(np.diff(levels)))) / np.sqrt(2)  # a difference has √2·σ
    within = float(np.nanmedian(ses**2)) if np.isfinite(ses).any() else 0.0
    return float(np.sqrt(max(spread**2 - within, 0.0)))


def _segment(levels: np.ndarray, variances: np.ndarray, pen: float) -> list[int]:
    signal = np.column_stack([levels, 1.0 / variances])
    ends = ruptures.Pelt(custom_cost=WeightedSquaredError(), min_size=1, jump=1).fit(signal).predict(pen=pen)
    return [0, *ends]


def _residual_noise(levels: np.ndarray, bounds: list[int], within: float) -> float:
    """Run-to-run noise pooled over the residuals inside the segments found."""
    residuals = np.concatenate([levels[a:b] - levels[a:b].mean() for a, b in itertools.pairwise(bounds)])
    dof = len(levels) - (len(bounds) - 1)
    return float(np.sqrt(max(float(residuals @ residuals) / max(dof, 1) - within, 0.0)))


def penalty(points: int, alpha: float) -> float:
    """What one more step must explain, in units of the points' variance: the F(1, ν) quantile at
    α / (places a step could fall), ν = points − 2, because that variance is itself estimated from
    the series (χ²₁ would treat it as known and fire several times too often on short series)."""
    return float(stats.f.isf(alpha / max(points - 1, 1), 1, max(points - 2, 1)))


def find_steps(levels: np.ndarray, ses: np.ndarray, alpha: float = 0.01) -> list[Step]:
    """The steps of a series of log times (oldest first) with their factors and confidence."""
    levels = np.asarray(levels, dtype=float)
    ses = np.asarray(ses, dtype=float)
    if len(levels) < 3:
        return []
    known = np.isfinite(ses)
    ses = np.where(known, ses, float(np.median(ses[known])) if known.any() else 0.0)  # one-round runs
    within = float(np.median(ses**2))
    pen = penalty(len(levels), alpha)
    # noise first from successive differences (robust to a few steps), then, with the segments found,
    # from the residuals inside them (efficient); the larger is kept, so noise is never under-counted
    tau = series_noise(levels, ses)
    bounds = _segment(levels, np.maximum(ses**2 + tau**2, MIN_RELATIVE_NOISE**2), pen)
    tau = max(tau, _residual_noise(levels, bounds, within))
    variances = np.maximum(ses**2 + tau**2, MIN_RELATIVE_NOISE**2)
    bounds = _segment(levels, variances, pen)
    weights = 1.0 / variances
    steps = []
    z = stats.norm.ppf(0.975)
    for left, at, right in zip(bounds, bounds[1:-1], bounds[2:], strict=False):
        before, after = slice(left, at), slice(at, right)
        w_before, w_after = weights[before].sum(), weights[after].sum()
        delta = (weights[after] @ levels[after]) / w_after - (weights[before] @ levels[before]) / w_before
        se = np.sqrt(1 / w_before + 1 / w_after)
        low, high = np.exp(delta - z * se), np.exp(delta + z * se)
        steps.append(Step(
            index=at, factor=float(np.exp(delta)), low=float(low), high=float(high),
            p_value=float(2 * stats.norm.sf(abs(delta) / se)), before_points=at - left, after_points=right - at,
        ))  # fmt: skip
    return steps
