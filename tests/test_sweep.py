"""The optimizer sweep: honest time-to-target, divergence recorded, curves and plots written."""

import math

import pandas as pd
import pytest
import torch

import impls
from bench.cli import main
from bench.judge.reference import reference_solution
from bench.problems import builtin as problems
from bench.studies.optimizer_sweep import Cell, SweepConfig, best_lr, run_cell, standardizer, unstandardize


@pytest.fixture(scope="module")
def d2l():
    p = problems.d2l()
    return p, reference_solution(p.X, p.y)


def cell(problem, ref, optimizer, lr, batch, epochs, **config):
    cfg = SweepConfig((optimizer,), (lr,), (batch,), epochs=epochs, **config)
    return run_cell(problem, ref, cfg, Cell(optimizer, lr, batch, 0, "tune"))


def test_lbfgs_and_the_closed_form_agree_on_the_optimum(d2l):
    p, ref = d2l
    row = cell(p, ref, "lbfgs-wolfe", 1.0, p.n, 15).row  # 5 epochs left 5.8e-9 against 1e-8: too close
    assert row["reached"] and row["final_excess_loss"] < 1e-8 and row["param_distance"] < 1e-6
    closed = impls.create("normal-equation").fit(p.X, p.y)
    lbfgs = impls.create("nn-linear", optimizer="lbfgs", lr=1.0, batch_size=p.n, epochs=15,
                         optimizer_args={"line_search_fn": "strong_wolfe"}).fit(p.X, p.y)  # fmt: skip
    assert torch.allclose(lbfgs.weight, closed.weight, atol=1e-6) and torch.allclose(lbfgs.bias, closed.bias, atol=1e-6)


def test_time_to_target_is_reached_or_reported_not_reached_never_invented(d2l):
    p, ref = d2l
    slow = cell(p, ref, "sgd", 1e-4, 10, 2)
    assert not slow.row["reached"] and math.isnan(slow.row["time_to_target_s"])
    assert math.isnan(slow.row["epochs_to_target"]) and slow.row["final_excess_loss"] > 1e-6
    fast = cell(p, ref, "manual-autograd", 1.0, p.n, 30)
    first = next(point for point in fast.curve if point["excess_loss"] <= 1e-6)
    assert fast.row["reached"] and fast.row["epochs_to_target"] == first["epoch"]
    assert fast.row["time_to_target_s"] == first["seconds"] <= fast.curve[-1]["seconds"]


def test_a_too_large_lr_is_diverged_and_never_chosen(d2l):
    p, ref = d2l
    blown = cell(p, ref, "sgd", 100.0, 10, 3).row
    assert blown["status"] == "diverged" and "epoch 1" in blown["reason"]
    fine = cell(p, ref, "sgd", 0.01, 10, 3).row
    assert best_lr([blown, fine]) == 0.01
    assert best_lr([blown]) is None


def test_standardisation_maps_parameters_back():
    p = problems.crop_yields()
    ref = reference_solution(p.X, p.y)
    row = cell(p, ref, "lbfgs-wolfe", 1.0, p.n, 15, standardize=True).row
    assert row["reached"] and row["param_distance"] < 1e-5
    mean, std = standardizer(p.X)
    w = torch.randn(2, 3, dtype=torch.float64)
    b = torch.randn(2, dtype=torch.float64)
    w0, b0 = unstandardize(w, b, mean, std)
    assert torch.allclose(((p.X - mean) / std) @ w.T + b, p.X @ w0.T + b0)


def test_sweep_command_writes_tables_plots_and_goes_on_after_divergence(tmp_path, capsys):
    args = ["sweep", "--optimizer", "sgd", "--optimizer", "lbfgs", "--lr", "0.01", "--lr", "100", "--seeds", "2",
            "--epochs", "3", "--out", str(tmp_path)]  # fmt: skip
    assert main(args) == 0
    printed = capsys.readouterr()
    assert max(len(line) for line in printed.out.splitlines()) <= 120  # a terminal's width: notes go below
    assert "|" not in printed.out  # a table for the terminal, not raw Markdown
    closing = " ".join(printed.err.split("wrote ")[-1].split())
    for name in ("sweep.csv", "curves.csv", "summary.csv", "sweep.md", "sweep.html", "lr_sensitivity.png",
                 "lr_sensitivity.svg", "excess_vs_epoch.svg"):  # fmt: skip
        assert name in closing, name
    sweep = pd.read_csv(tmp_path / "sweep.csv")
    tune = sweep[sweep["phase"] == "tune"].set_index(["optimizer", "lr"])["status"]
    assert tune[("sgd", 100.0)] == "diverged" and tune[("sgd", 0.01)] != "diverged"
    assert set(sweep.loc[sweep["phase"] == "seeds", "seed"]) == {1, 2}
    curves = pd.read_csv(tmp_path / "curves.csv")
    assert {"optimizer", "lr", "batch_size", "seed", "epoch", "seconds", "loss", "excess_loss"} <= set(curves.columns)
    for name in ("excess_vs_epoch.png", "excess_vs_seconds.png", "time_to_target.png", "lr_sensitivity.png",
                 "sweep.md", "summary.csv"):  # fmt: skip
        assert (tmp_path / name).is_file(), name


def test_raw_and_standardised_side_by_side(tmp_path):
    args = ["sweep", "--dataset", "crop-yields-5", "--optimizer", "lbfgs-wolfe", "--lr", "1", "--seeds", "1",
            "--epochs", "3", "--features", "both", "--out", str(tmp_path)]  # fmt: skip
    assert main(args) == 0
    report = (tmp_path / "sweep.md").read_text()
    assert "raw features" in report and "standardised features" in report
    assert "](raw/excess_vs_epoch.png)" in report and "](standardized/excess_vs_epoch.png)" in report
    assert (tmp_path / "raw" / "sweep.csv").is_file() and (tmp_path / "standardized" / "sweep.csv").is_file()


def test_unknown_optimizer_exits_2(capsys, tmp_path):
    assert main(["sweep", "--optimizer", "adamx", "--out", str(tmp_path)]) == 2
    assert "unknown optimizer 'adamx'" in capsys.readouterr().err


def test_the_table_names_defaults_that_keep_an_optimizer_off_the_optimum():
    from bench.studies.optimizer_sweep import optimizer_note

    assert "weight decay 0.01" in optimizer_note("adamw")
    assert optimizer_note("adam") == "" and optimizer_note("sgd") == ""  # torch's default decay there is 0
    assert "max_iter" in optimizer_note("lbfgs")


def test_time_to_target_is_epochs_to_target_times_time_per_epoch_to_target():
    from bench.studies.optimizer_sweep import summarize

    rows = [{"optimizer": "sgd", "requested_batch": 10, "batch_size": 10, "lr": 0.1, "phase": "seeds", "reached": True,
             "time_to_target_s": t, "epochs_to_target": e, "final_excess_loss": 1e-9, "time_per_epoch_s": 0.001}
            for t, e in ((0.006, 2), (0.009, 3), (0.012, 4))]  # fmt: skip
    (row,) = summarize(rows)
    assert row["time_to_target_s"] == pytest.approx(row["epochs_to_target"] * row["time_per_epoch_to_target_s"])
    assert row["time_per_epoch_s"] == 0.001  # the budget's average is its own column
    assert (row["time_to_target_q1_s"], row["time_to_target_q3_s"]) == pytest.approx((0.0075, 0.0105))


def test_the_default_target_is_the_optimums_own_statistical_precision(d2l):
    from bench.studies.optimizer_sweep import FIXED_TARGET, statistical_target

    p, ref = d2l
    target, why = statistical_target(ref, p.y)
    assert target == pytest.approx(3 / 997) and "p / (n − p)" in why  # d2l: p = 3 (w, b), n = 1000
    exact = p.X @ torch.tensor([[2.0], [-3.4]], dtype=p.X.dtype) + 4.2  # no noise: no statistical yardstick
    assert statistical_target(reference_solution(p.X, exact), exact)[0] == FIXED_TARGET


def test_lbfgs_says_why_its_final_loss_zig_zags_over_lr():
    from bench.studies.optimizer_sweep import lbfgs_stall_note, optimizer_note

    note = lbfgs_stall_note("lbfgs-wolfe", 1e-4)
    assert "tolerance_change = 1e-09" in note and "1e-05 of L*" in note
    assert lbfgs_stall_note("sgd", 1e-4) == "" and lbfgs_stall_note("lbfgs", None) == ""
    assert note in optimizer_note("lbfgs-wolfe", 1e-4)


def test_the_console_table_fits_120_columns_with_its_notes_below(d2l):
    from bench.reports.sweep_report import sweep_console

    p, _ = d2l
    summary = pd.DataFrame([{"optimizer": "adamw", "batch_size": 10, "best_lr": 0.1, "seeds": 5, "reached": 0,
                             "final_excess_loss": 1.2, "note": "x " * 200},
                            {"optimizer": "sgd", "batch_size": 10, "best_lr": 0.03, "seeds": 5, "reached": 5,
                             "time_to_target_s": 0.1, "epochs_to_target": 3.0, "final_excess_loss": 1e-3,
                             "note": ""}])  # fmt: skip
    config = SweepConfig(("adamw", "sgd"), (0.1, 0.03), (10,), target=3e-3, target_why="p / (n − p)")
    text = sweep_console(p, config, summary)
    assert max(len(line) for line in text.splitlines()) <= 120
    assert "adamw [1]" in text and "\n[1] x x" in text and "1 of 2 optimizers reached the target" in text


def test_the_markdown_escapes_L_star_so_the_target_does_not_turn_italic(d2l):
    import markdown

    from bench.reports.sweep_report import sweep_report

    p, _ = d2l
    summary = pd.DataFrame(
        [
            {
                "optimizer": "sgd",
                "batch_size": 10,
                "best_lr": 0.03,
                "seeds": 1,
                "reached": 1,
                "time_to_target_s": 0.1,
                "epochs_to_target": 3.0,
                "final_excess_loss": 1e-3,
                "note": "",
            }
        ]
    )
    text = sweep_report(p, SweepConfig(("sgd",), (0.03,), (10,), target=3e-3), summary, [])
    setting = markdown.markdown(text).split("</p>")[0]  # the paragraph that states the target
    assert "(L − L*)/L*" in setting and "<em>" not in setting
