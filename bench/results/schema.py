"""The tidy results table: one row per (impl, device, dtype, dataset), the same for every source."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pandas as pd

RESULT_COLUMNS = [
    "impl", "device", "dtype", "dataset", "n", "d", "k", "fit_intercept",
    "status", "reason",
    "time_median_s", "time_iqr_s", "rounds", "threads", "event_median_s", "event_vs_wall", "capture_s", "compile_s",
    "final_loss", "excess_loss", "param_distance",
    "opt_distance_se", "opt_tol_se", "truth_error_se", "truth_tol_se",
    "digits_ref", "digits_scaled", "digits_floor", "reference_digits", "lre_min", "lre_params",
    "objective", "objective_bias_se",
    "bound_s", "time_vs_bound", "achieved_gbs", "achieved_gflops", "work_bytes", "work_flops",
    "optimizer", "lr", "batch_size", "epochs", "seed",
    "time_samples_s",
]  # fmt: skip
# Columns that hold words, not figures: every other result column must read back as a number.
TEXT_COLUMNS = ("impl", "device", "dtype", "dataset", "status", "reason", "optimizer", "lre_params", "objective",
                "time_samples_s", "fit_intercept")  # fmt: skip
INTEGER_COLUMNS = ["n", "d", "k", "rounds", "threads", "batch_size", "epochs", "seed"]
CURVE_COLUMNS = ["impl", "device", "dtype", "dataset", "epoch", "loss"]
STATUSES = ("ok", "not-recovered", "diverged", "skipped", "error")
FAILED = ("not-recovered", "diverged", "error")


def results_frame(rows: Iterable[dict[str, Any]]) -> pd.DataFrame:
    frame = pd.DataFrame(list(rows))
    for column in RESULT_COLUMNS:
        if column not in frame:
            frame[column] = pd.NA
    for column in INTEGER_COLUMNS:
        frame[column] = pd.to_numeric(frame[column]).astype("Int64")
    extra = [c for c in frame.columns if c not in RESULT_COLUMNS]
    return frame[RESULT_COLUMNS + extra]


def curves_frame(rows: Iterable[dict[str, Any]]) -> pd.DataFrame:
    return pd.DataFrame(list(rows), columns=CURVE_COLUMNS)


def curve_rows(row: dict[str, Any], losses: list[float]) -> list[dict[str, Any]]:
    keys = {c: row[c] for c in ("impl", "device", "dtype", "dataset")}
    return [{**keys, "epoch": epoch, "loss": loss} for epoch, loss in enumerate(losses, start=1)]


def exit_status(frame: pd.DataFrame) -> int:
    """0 when every case that ran passed its checks, 1 when any failed, errored or diverged."""
    return 1 if frame["status"].isin(FAILED).any() else 0
