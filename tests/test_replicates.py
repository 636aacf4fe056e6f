"""The unit of replication, by simulation: rounds that share a per-process offset are not
independent, and a test over them raises false alarms far above its α; the worker pair as the
replicate keeps them at α. Seeded, so the figures are the same on any machine."""

import numpy as np
import pytest
from scipy import stats

from bench.regression.replicates import (
    FASTER,
    INCONCLUSIVE,
    MAX_ROUNDS_PER_PAIR,
    SAME,
    SLOWER,
    SequentialDesign,
    noise_verdict,
    pair_estimate,
    rounds_per_pair,
    run_level,
)

ALPHA = 0.05


def ab_logs(rng, pairs=5, rounds=8, effect=0.0, process_sd=0.02, round_sd=0.01) -> list[np.ndarray]:
    """log(new/base) per round, per worker pair: each process has its own offset (memory layout, the
    core it settled on), shared by all its rounds; rounds add their own noise."""
    offsets = rng.normal(0, process_sd, (pairs, 2))
    return [effect + (o[1] - o[0]) + rng.normal(0, round_sd * np.sqrt(2), rounds) for o in offsets]


def test_a_test_over_rounds_raises_false_alarms_far_above_alpha_and_one_over_pairs_does_not():
    rng = np.random.default_rng(0)
    trials, over_rounds, over_pairs = 2000, 0, 0
    for _ in range(trials):
        pairs = ab_logs(rng)
        over_rounds += stats.wilcoxon(np.concatenate(pairs)).pvalue < ALPHA  # the old analysis: 40 "replicates"
        over_pairs += pair_estimate(pairs, 0.95).p_value < ALPHA
    assert over_rounds / trials > 6 * ALPHA  # the shared offsets read as the code's (0.47 with this seed)
    assert over_pairs / trials <= ALPHA + 3 * np.sqrt(ALPHA * (1 - ALPHA) / trials)  # at α, within sampling


def test_the_interval_over_pairs_covers_the_true_ratio_at_its_level():
    rng = np.random.default_rng(1)
    covered = [(e := pair_estimate(ab_logs(rng, effect=0.1), 0.9)).low <= np.exp(0.1) <= e.high for _ in range(2000)]
    assert abs(np.mean(covered) - 0.9) < 3 * np.sqrt(0.9 * 0.1 / 2000)


def test_the_variance_split_finds_the_process_share():
    rng = np.random.default_rng(2)
    estimate = pair_estimate(ab_logs(rng, pairs=200, rounds=8, process_sd=0.02, round_sd=0.01), 0.95)
    # per round: between-pair variance 2·0.02², within 2·0.01²: ICC = 0.0008 / (0.0008 + 0.0002) = 0.8
    assert estimate.icc == pytest.approx(0.8, abs=0.05)
    assert estimate.within_sd == pytest.approx(0.01 * np.sqrt(2), rel=0.05)


def sequential(rng, effect: float, design: SequentialDesign) -> tuple[str, int]:
    pairs = []
    for _ in range(design.max_pairs):
        pairs.append(ab_logs(rng, pairs=1, effect=effect)[0])
        verdict = design.verdict(pair_estimate(pairs, design.level))
        if verdict is not None:
            return verdict, len(pairs)
    raise AssertionError("the design always ends by max_pairs")


def test_the_sequential_design_keeps_its_error_rate_over_every_look_and_catches_a_real_change():
    design = SequentialDesign(alpha=ALPHA, factor=1.03, max_pairs=16)
    rng = np.random.default_rng(3)
    aa = [sequential(rng, 0.0, design) for _ in range(1000)]
    wrong = sum(v in (SLOWER, FASTER) for v, _ in aa) / len(aa)
    assert wrong <= ALPHA  # the repeated looks spend α, they do not multiply it
    slow = [sequential(rng, np.log(1.10), design) for _ in range(200)]
    assert sum(v == SLOWER for v, _ in slow) / len(slow) >= 0.95
    assert np.median([n for _, n in slow]) < design.max_pairs  # it stops as soon as it knows


def test_the_design_waits_for_enough_pairs_and_ends_inconclusive_at_its_maximum():
    design = SequentialDesign(min_pairs=4, max_pairs=6)
    flat = [np.array([0.5, 0.5])] * 3
    assert design.verdict(pair_estimate(flat, design.level)) is None  # 3 pairs: not yet looked at
    noisy = [np.array([v]) for v in (0.1, -0.1, 0.1, -0.1, 0.1, -0.1)]
    assert design.verdict(pair_estimate(noisy, design.level)) == INCONCLUSIVE


def test_one_run_a_side_is_held_against_the_noise_band_not_a_p_from_its_rounds():
    assert noise_verdict(1.34, 1.5) == SAME and noise_verdict(1.6, 1.5) == SLOWER and noise_verdict(0.6, 1.5) == FASTER


def test_several_runs_a_side_are_tested_at_the_run_level():
    rng = np.random.default_rng(4)
    base, new = np.exp(rng.normal(0, 0.05, 5)), np.exp(rng.normal(np.log(1.3), 0.05, 5))
    _, low, high, p = run_level(base, new, 0.95)
    assert low < 1.3 < high and p < 0.001


def test_kalibera_jones_rounds_per_pair():
    # r* = √((c_pair / c_round) · σ²_w / σ²_b): expensive pairs and noisy rounds want more rounds each
    assert rounds_per_pair(1e-4, 1e-4, 4.0, 0.01) == 20
    assert rounds_per_pair(1e-2, 1e-4, 4.0, 0.01) == 2
    assert (
        rounds_per_pair(0.0, 1e-4, 4.0, 0.01) == MAX_ROUNDS_PER_PAIR
    )  # no offset between processes: rounds are the cheap replicate


def test_the_slow_state_share_counts_rounds_far_above_their_pairs_fast_rounds():
    from bench.harness.machine_state import slow_state_share

    rng = np.random.default_rng(7)
    fast = rng.normal(2.4e-3, 2e-5, 200)
    slow_rounds = rng.random(200) < 0.3
    base = np.where(slow_rounds, fast * 1.8, fast)  # the machine's two speeds, both sides alike
    new = np.where(slow_rounds, fast * 1.8, fast) * 1.01
    assert slow_state_share(base, new, [100, 100]) == pytest.approx(slow_rounds.mean())
    assert slow_state_share(fast, fast * 1.01, [200]) == 0.0  # one speed: no slow rounds
