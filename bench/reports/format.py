"""How numbers read in every report: times with units, figures to three digits, digits to one."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd


def human_time(seconds: Any) -> str:
    if seconds is None or pd.isna(seconds):
        return ""
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6)):
        if seconds >= scale:
            return f"{seconds / scale:.3g} {unit}"
    return f"{seconds / 1e-9:.3g} ns"


def figure_text(value: Any) -> str:
    if value is None or pd.isna(value):
        return ""
    return f"{value:.3g}" if isinstance(value, float) and not math.isinf(value) else str(value)


def digits_text(value: Any) -> str:
    return "" if value is None or pd.isna(value) else f"{value:.1f}"
