"""Every numeric command-line option parsed with its type and its range, at parse time: a value
that could never run (`--epochs 1e12`, `--lr nan`, `--rounds 0`) is refused in one line before
anything is read or written, instead of running until killed or failing half way through a run."""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable

# Upper bounds a person could mean; past them a typo (an extra three zeros) is the likelier story.
MAX_EPOCHS = 1_000_000
MAX_ROUNDS = 100_000
MAX_ROWS = 10**12
MAX_COLUMNS = 100_000
MAX_RANKS = 1024
MAX_SECONDS = 7 * 24 * 3600.0
MAX_SEED = 2**63 - 1


def integer(low: int, high: int) -> Callable[[str], int]:
    """An argparse `type`: a whole number in [low, high]."""

    def parse(text: str) -> int:
        try:
            value = int(text.strip().replace("_", ""))
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{text} is out of range (expected {low} to {high:,})")
        return value

    parse.__name__ = "integer"
    return parse


def number(low: float, high: float = math.inf, low_open: bool = False) -> Callable[[str], float]:
    """An argparse `type`: a finite number in [low, high] (or (low, high] with `low_open`)."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        if not math.isfinite(value):
            raise argparse.ArgumentTypeError(f"{text} is not a finite number")
        if value < low or (low_open and value == low) or value > high:
            left = "(" if low_open else "["
            raise argparse.ArgumentTypeError(f"{text} is out of range (expected a number in {left}{low:g}, {high:g}])")
        return value

    parse.__name__ = "number"
    return parse


EPOCHS = integer(1, MAX_EPOCHS)
ROUNDS = integer(1, MAX_ROUNDS)
WARMUP = integer(0, MAX_ROUNDS)
THREADS = integer(1, 4096)
RANKS = integer(1, MAX_RANKS)
ROWS = integer(2, MAX_ROWS)
COLUMNS = integer(1, MAX_COLUMNS)
TARGETS = integer(1, 1000)
BATCH = integer(1, MAX_ROWS)
SEED = integer(0, MAX_SEED)
COUNT = integer(1, 10_000)
POSITIVE = number(0.0, low_open=True)
NON_NEGATIVE = number(0.0)
SECONDS = number(0.0, MAX_SECONDS)
TIMEOUT = number(0.0, MAX_SECONDS, low_open=True)
LEARNING_RATE = number(0.0, 1e6, low_open=True)
PROBABILITY = number(0.0, 1.0, low_open=True)
FACTOR = number(1.0, 1e6)
CONDITION = number(1.0, 1e300)
