"""One name per column on screen, in the CSV and in docs/columns.md: every column a command writes
or prints is in the glossary, under the same name."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from bench.reports.run_report import summary_table
from bench.results.schema import RESULT_COLUMNS, results_frame

GLOSSARY = Path(__file__).resolve().parents[1] / "docs" / "columns.md"
SWEEP_COLUMNS = ["optimizer", "lr", "batch_size", "requested_batch", "seed", "phase", "status", "reason", "epochs_run",
                 "target", "reached", "time_to_target_s", "epochs_to_target", "final_excess_loss", "final_loss",
                 "time_per_epoch_s", "standardized", "dataset", "param_distance"]  # fmt: skip


def documented() -> set[str]:
    return set(re.findall(r"`([a-z_0-9]+)`", GLOSSARY.read_text()))


def test_every_results_column_and_every_screen_header_is_in_the_glossary():
    row = {c: 1.0 for c in RESULT_COLUMNS} | {"impl": "sklearn", "status": "ok", "device": "cpu", "dtype": "float64",
                                              "objective_bias_se": 0.5, "lre_min": 12.0, "world_size": 2,
                                              "backend": "gloo", "comm_fraction": 0.1}  # fmt: skip
    headers = list(summary_table(results_frame([row])).columns)
    missing = (set(RESULT_COLUMNS) | set(headers)) - documented()
    assert not missing, f"not in docs/columns.md: {sorted(missing)}"
    assert set(headers) - {"kind"} <= set(RESULT_COLUMNS) | {"world_size", "comm_fraction"}  # the CSV's names


def test_every_sweep_and_summary_column_is_in_the_glossary():
    from bench.reports.sweep_report import _table
    from bench.studies.optimizer_sweep import summarize

    rows = [
        {
            "optimizer": "sgd",
            "requested_batch": 10,
            "batch_size": 10,
            "lr": 0.1,
            "phase": "seeds",
            "reached": True,
            "time_to_target_s": 0.01,
            "epochs_to_target": 2,
            "final_excess_loss": 1e-9,
            "time_per_epoch_s": 0.001,
        }
    ]
    summary = pd.DataFrame(summarize(rows))
    on_screen = [c for c in _table(summary, full=True).columns]
    missing = (set(SWEEP_COLUMNS) | set(summary.columns) | set(on_screen)) - documented()
    assert not missing, f"not in docs/columns.md: {sorted(missing)}"
    assert set(on_screen) <= set(summary.columns)  # the terminal and sweep.md use summary.csv's names


def test_the_glossary_check_fails_on_a_column_it_does_not_know():
    assert "no_such_column" not in documented() and "opt_distance_se" in documented()
