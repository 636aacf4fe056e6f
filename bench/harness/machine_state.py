"""The machine's slow state, seen in the rounds themselves: on a shared VM the same fit runs at two
speeds for stretches of rounds, and a report read without saying so would credit the code."""

from __future__ import annotations

import itertools

import numpy as np

# A round this much slower than its side's fast rounds in the same worker pair (10th percentile) ran in
# the machine's slow state: on the shared VM the vCPU flips between ~2.4 and ~4.3 ms for the same
# manual-gradient fit, for stretches of rounds, whatever the code does.
SLOW_STATE_FACTOR = 1.4


def slow_state_share(base: np.ndarray, new: np.ndarray, blocks: list[int]) -> float:
    """The share of rounds (both sides) that ran in the machine's slow state, per SLOW_STATE_FACTOR.
    ABBA pairing cancels the state when both sides see it alike; the report says how much there was."""
    edges = np.cumsum([0, *blocks])
    slow = total = 0
    for a, b in itertools.pairwise(edges):
        for side in (base[a:b], new[a:b]):
            if side.size:
                slow += int((side > SLOW_STATE_FACTOR * np.quantile(side, 0.1)).sum())
                total += side.size
    return slow / total if total else float("nan")
