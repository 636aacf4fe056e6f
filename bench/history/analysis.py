"""From the gathered rows to what a person asks of a history: one point per commit and case, the
steps in time, and every change in accuracy."""

from __future__ import annotations

import numpy as np
import pandas as pd

from bench.history.steps import find_steps
from bench.results.readers import CASE_KEY

SERIES_KEY = ["machine_key", *CASE_KEY]
POINT_KEY = [*SERIES_KEY, "commit", "dirty"]
DIGITS = ("lre_min", "digits_ref")
DIGITS_TOLERANCE = 0.05  # half the 0.1 digit the reports print: a loss the reader could see is flagged


def order_by_date_without_history(frame: pd.DataFrame) -> pd.DataFrame:
    """Outside a git repository, commits take the order of their first run."""
    if frame["position"].notna().any():
        return frame
    first = frame.groupby("commit")["run_date"].min().sort_values()
    return frame.assign(position=frame["commit"].map({c: i for i, c in enumerate(first.index)}))


def points(frame: pd.DataFrame) -> pd.DataFrame:
    """One point per (machine, case, commit): the median log time over that commit's runs, with an
    SE that counts both their rounds and how much the runs disagree."""
    placed = frame[frame["position"].notna()].copy()
    placed["log_time"] = np.log(placed["time_median_s"].astype(float))

    def combine(group: pd.DataFrame) -> pd.Series:
        runs = len(group)
        levels = group["log_time"].dropna()
        se2 = float(np.nanmedian(group["log_se"] ** 2)) if group["log_se"].notna().any() else np.nan
        spread2 = float(levels.var()) if len(levels) >= 2 else 0.0
        last = group.iloc[-1]
        return pd.Series({
            "machine": last["machine"], "position": last["position"], "subject": last["subject"],
            "commit_date": last["commit_date"], "run_date": last["run_date"], "runs": runs,
            "time_median_s": float(np.exp(levels.median())) if len(levels) else np.nan,
            "log_time": float(levels.median()) if len(levels) else np.nan,
            "log_se": float(np.sqrt((se2 + spread2) / runs)) if np.isfinite(se2) else np.nan,
            "status": last["status"], "lre_min": group["lre_min"].min(), "digits_ref": group["digits_ref"].min(),
        })  # fmt: skip

    grouped = placed.groupby(POINT_KEY, sort=False, dropna=False)[list(placed.columns)]
    out = grouped.apply(combine).reset_index()
    return out.sort_values([*SERIES_KEY, "position", "dirty"], kind="stable").reset_index(drop=True)


def time_steps(series_points: pd.DataFrame, alpha: float, min_factor: float) -> pd.DataFrame:
    """Each step of each series: between which commits, by what factor (95% CI), how sure. A step
    is a regression when it is slower by at least `min_factor` and its whole interval is above 1."""
    rows = []
    for key, series in series_points.groupby(SERIES_KEY, sort=False):
        timed = series[np.isfinite(series["log_time"])].reset_index(drop=True)
        for step in find_steps(timed["log_time"].to_numpy(), timed["log_se"].to_numpy(), alpha):
            before, after = timed.iloc[step.index - 1], timed.iloc[step.index]
            slower = step.factor > 1
            rows.append({
                **dict(zip(SERIES_KEY, key, strict=True)), "machine": after["machine"],
                "last_before": before["commit"], "first_after": after["commit"], "first_after_dirty": after["dirty"],
                "subject": after["subject"], "position": after["position"],
                "factor": step.factor, "factor_low": step.low, "factor_high": step.high, "p_value": step.p_value,
                "points_before": step.before_points, "points_after": step.after_points,
                "direction": "slower" if slower else "faster",
                "regression": bool(slower and step.factor >= min_factor and step.low > 1),
            })  # fmt: skip
    columns = [*SERIES_KEY, "machine", "last_before", "first_after", "first_after_dirty", "subject", "position",
               "factor", "factor_low", "factor_high", "p_value", "points_before", "points_after", "direction",
               "regression"]  # fmt: skip
    steps = pd.DataFrame(rows, columns=columns)
    return steps.sort_values("position", ascending=False, kind="stable").reset_index(drop=True)


def accuracy_changes(series_points: pd.DataFrame) -> pd.DataFrame:
    """Every commit where a case lost digits (certified LRE or against the float64 optimum) or changed
    status, against the commit before it: a regression whatever its size, as digits are not noise."""
    rows = []
    for key, series in series_points.groupby(SERIES_KEY, sort=False):
        series = series.reset_index(drop=True)
        for i in range(1, len(series)):
            before, after = series.iloc[i - 1], series.iloc[i]
            where = {**dict(zip(SERIES_KEY, key, strict=True)), "machine": after["machine"],
                     "last_before": before["commit"], "first_after": after["commit"], "subject": after["subject"],
                     "position": after["position"]}  # fmt: skip
            if before["status"] != after["status"]:
                rows.append({**where, "what": "status", "before": before["status"], "after": after["status"],
                             "regression": before["status"] == "ok"})  # fmt: skip
            for figure in DIGITS:
                old, new = before[figure], after[figure]
                if pd.notna(old) and pd.notna(new) and abs(new - old) > DIGITS_TOLERANCE:
                    rows.append({**where, "what": figure, "before": f"{old:.2f}", "after": f"{new:.2f}",
                                 "regression": bool(new < old)})  # fmt: skip
    columns = [*SERIES_KEY, "machine", "last_before", "first_after", "subject", "position", "what", "before", "after",
               "regression"]  # fmt: skip
    changes = pd.DataFrame(rows, columns=columns)
    return changes.sort_values("position", ascending=False, kind="stable").reset_index(drop=True)
