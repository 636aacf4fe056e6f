"""The scaling study: exponents from the timings, the fastest per size, and the time budget."""

import pandas as pd
import torch

from bench.cli import main
from bench.harness.cases import ImplSpec
from bench.studies.scaling import exponents, fastest, sizes, study


def test_exponents_and_fastest_come_from_the_table():
    def row(impl, n, seconds):
        return {"impl": impl, "axis": "n", "n": n, "d": 10, "status": "ok", "time_median_s": seconds}

    frame = pd.DataFrame(
        [row("a", n, 1e-5 * n) for n in (10, 100, 1000)] + [row("b", n, 1e-4 * n**0.5) for n in (10, 100, 1000)]
    )
    growth = exponents(frame).set_index("impl")["exponent"]
    assert abs(growth["a"] - 1) < 1e-9 and abs(growth["b"] - 0.5) < 1e-9
    winners = fastest(frame).set_index("n")["fastest"]
    assert winners[10] == "a" and winners[1000] == "b"


def test_budget_stops_larger_sizes_and_d_stays_below_n():
    frame = study([ImplSpec("normal-equation")], (100, 1000), (1, 2), budget_s=1e-12, dtype=torch.float64)
    by_n = frame[frame["axis"] == "n"].set_index("n")["status"]
    assert by_n[100] == "ok" and by_n[1000] == "skipped"
    assert all(d < 10_000 for _, _, d in sizes((10,), (1, 20_000)))


def test_scale_command_writes_table_plot_and_report(tmp_path):
    args = ["scale", "--impl", "normal-equation", "--impl", "manual-gradient", "--n", "1000", "--n", "4000",
            "--d", "2", "--d", "8", "--out", str(tmp_path)]  # fmt: skip
    assert main(args) == 0
    assert len(pd.read_csv(tmp_path / "scale.csv")) == 8
    assert (tmp_path / "scale.png").is_file() and "## Growth" in (tmp_path / "scale.md").read_text()
