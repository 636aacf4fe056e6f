"""`linreg-bench` end to end: files, columns, exit codes, and one-line errors on bad input."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from bench.cli import main
from bench.judge.reference import reference_solution
from bench.problems.builtin import CROP_NEW_INPUT, crop_yields
from bench.reports import run_plots as plots
from bench.reports.html import embedded_data
from bench.reports.run_report import tutorial_costs
from bench.results.schema import CURVE_COLUMNS, RESULT_COLUMNS

QUICK = ["--rounds", "1", "--min-time", "0", "--warmup", "0"]


def test_default_run_writes_the_contracted_files(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["run", "--out", str(out), *QUICK]) == 0
    results = pd.read_csv(out / "results.csv")
    assert list(results.columns[: len(RESULT_COLUMNS)]) == RESULT_COLUMNS
    assert len(results) == 7 * 2 * 2  # 6 impls + nn-linear's tensor loader, x devices x dtypes, nothing dropped
    assert set(results["dataset"]) == {"d2l"}
    ran = results[results["device"] == "cpu"]
    assert (ran["status"] == "ok").all() and ran["time_median_s"].gt(0).all()
    if not torch.cuda.is_available():
        cuda = results[results["device"] == "cuda"]
        assert (cuda["status"] == "skipped").all() and cuda["reason"].str.len().gt(0).all()
    assert list(pd.read_csv(out / "curves.csv").columns) == CURVE_COLUMNS
    assert (out / "models" / "nn-linear-cpu-float32.pt").is_file()
    assert {"loss_curves.png", "fit_times.png", "data_and_fits.png", "roofline.png"} <= {p.name for p in out.iterdir()}
    report = (out / "report.md").read_text()
    assert "# linreg-bench run: d2l" in report and "torch" in report and "git_commit" in report
    assert "## What the tutorial loops cost" in report and "| nn-linear:loader=tensor |" in report
    assert "manual-autograd" in capsys.readouterr().out
    page = (out / "report.html").read_text()  # the same report, self-contained: plots inline, data embedded
    assert page.count('<figure class="plot"') == 4 and page.count("<svg") == 4
    assert 'src="http' not in page and "<link" not in page and "<img" not in page
    assert len(embedded_data(page)["results"]) == len(results)


def test_a_failed_check_exits_1(tmp_path):
    args = ["run", "--dataset", "crop-yields", "--impl", "nn-linear", "--device", "cpu", "--dtype", "float32"]
    assert main([*args, "--out", str(tmp_path), *QUICK]) == 1
    row = pd.read_csv(tmp_path / "results.csv").iloc[0]
    assert row["status"] == "not-recovered" and row["excess_loss"] > 1
    assert "not-recovered" in (tmp_path / "report.md").read_text()


def test_a_diverging_learning_rate_is_recorded_and_the_run_goes_on(tmp_path):
    args = ["run", "--impl", "manual-autograd:lr=50", "--impl", "normal-equation", "--device", "cpu"]
    assert main([*args, "--dtype", "float64", "--out", str(tmp_path), *QUICK, "--no-plots"]) == 1
    status = pd.read_csv(tmp_path / "results.csv").set_index("impl")["status"]
    assert status["manual-autograd:lr=50"] == "diverged" and status["normal-equation"] == "ok"


def test_saved_model_predicts_in_a_fresh_process(tmp_path):
    args = ["run", "--dataset", "crop-yields", "--impl", "normal-equation", "--device", "cpu", "--dtype", "float64"]
    assert main([*args, "--out", str(tmp_path), *QUICK, "--no-plots"]) == 0
    model = tmp_path / "models" / "normal-equation-cpu-float64.pt"
    program = (
        "import torch, sys; state = torch.load(sys.argv[1], weights_only=True); "
        "print(*(torch.tensor([[75., 63., 44.]], dtype=torch.float64) @ state['weight'].T + state['bias']).tolist()[0])"
    )
    plain = subprocess.run([sys.executable, "-c", program, str(model)], capture_output=True, text=True, check=True)
    cli = subprocess.run(
        [sys.executable, "-m", "bench.cli", "predict", str(model), "75,63,44"], capture_output=True, text=True
    )
    assert cli.returncode == 0, cli.stderr
    p = crop_yields()
    ref = reference_solution(p.X, p.y)
    expected = (np.array(CROP_NEW_INPUT) @ ref.weight.T + ref.bias)[0]
    assert [float(v) for v in plain.stdout.split()] == pytest.approx(expected.tolist(), rel=1e-9)
    header, values = cli.stdout.strip().splitlines()
    assert header == "apples,oranges"  # the targets are named (they were bare numbers before)
    assert [float(v) for v in values.split(",")] == pytest.approx(expected.tolist(), rel=1e-5)


def test_predict_on_a_file_that_is_not_a_model_says_so(tmp_path, capsys):
    junk = tmp_path / "notes.pt"
    junk.write_text("not a model")
    assert main(["predict", str(junk), "1,2,3"]) == 2
    err = capsys.readouterr().err
    assert "notes.pt: not a model saved by linreg-bench" in err and "pop from empty list" not in err


def test_user_csv_runs(tmp_path):
    csv = tmp_path / "data.csv"
    csv.write_text("a,b,y\n" + "\n".join(f"{i},{(i * 7) % 5},{2 * i - (i * 7) % 5 + 0.1 * (i % 3)}" for i in range(30)))
    args = ["run", "--csv", str(csv), "--target", "y", "--impl", "sklearn", "--device", "cpu", "--no-plots"]
    assert main([*args, "--out", str(tmp_path / "out"), *QUICK]) == 0
    assert pd.read_csv(tmp_path / "out" / "results.csv")["dataset"].tolist() == ["data"] * 2


BAD_CSV = {
    "missing target": ("a,b\n1,2\n3,4\n", ["y"], "no target column 'y' (columns: a, b)"),
    "non-numeric cell": ("a,y\n1,2\n3,x4\n5,6\n", ["y"], "column 'y', line 3: non-numeric value 'x4'"),
    "empty cell": ("a,y\n1,2\n,4\n", ["y"], "column 'a', line 3: empty cell"),
    "infinite": ("a,y\n1,2\ninf,4\n", ["y"], "column 'a', line 3: inf is not a finite number"),
    "nan": ("a,y\n1,2\nnan,4\n", ["y"], "column 'a', line 3: nan is not a finite number"),
    "one row": ("a,y\n1,2\n", ["y"], "needs at least 2 data rows, found 1"),
    "duplicated column": ("a,a,y\n1,2,3\n4,5,6\n", ["y"], "column 'a' appears more than once"),
    "no features": ("y\n1\n2\n", ["y"], "no feature columns left"),
    "target twice": ("a,y\n1,2\n3,4\n", ["y", "y"], "target column 'y' given more than once"),
    "empty file": ("", ["y"], "the file is empty"),
}


@pytest.mark.parametrize("case", list(BAD_CSV))
def test_bad_csv_exits_2_with_one_line(case, tmp_path, capsys):
    text, targets, message = BAD_CSV[case]
    csv = tmp_path / "bad.csv"
    csv.write_text(text)
    args = ["run", "--csv", str(csv), *[x for t in targets for x in ("--target", t)], "--out", str(tmp_path / "o")]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and str(csv) in err and message in err, err
    assert not (tmp_path / "o").exists()  # nothing half-written


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["run", "--dataset", "nope"], "unknown dataset 'nope'"),
        (["run", "--impl", "nope"], "unknown implementation 'nope'"),
        (["run", "--impl", "normal-equation:solver=lu"], "unknown solver 'lu'"),
        (["run", "--impl", "sklearn:lr=1"], "sklearn has no option lr, set by --impl sklearn:lr=1"),
        (["run", "--lr", "-1"], "argument --lr: -1 is out of range"),
        (["run", "--batch-size", "0"], "argument --batch-size: 0 is out of range"),
        (["run", "--optimizer", "adamz"], "unknown optimizer 'adamz'"),
        (["run", "--dtype", "float16"], "invalid choice: 'float16'"),
        (["run", "--device", "tpu"], "invalid choice: 'tpu'"),
        (["run", "--csv", "/no/such.csv", "--target", "y"], "/no/such.csv: no such file"),
        (["run", "--target", "y"], "--target, --certified and --weight need --csv"),
        (["run", "--n", "10"], "apply to --dataset synthetic"),
        (["run", "--rounds", "0"], "argument --rounds: 0 is out of range"),
    ],
)
def test_bad_usage_exits_2_with_one_line(args, message, capsys, tmp_path):
    assert main([*args, "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("linreg-bench: error: ") and err.count("\n") == 1 and message in err, err


def test_console_script_is_installed_and_lists_everything():
    script = Path(sys.executable).with_name("linreg-bench")  # the venv's console script
    listing = subprocess.run([str(script), "list"], capture_output=True, text=True)
    assert listing.returncode == 0
    for name in ("d2l", "univariate", "crop-yields-5", "synthetic", "manual-autograd", "nn-linear", "sklearn"):
        assert name in listing.stdout


def _row(impl: str, seconds: float, status: str = "ok", device: str = "cpu") -> dict:
    return {"impl": impl, "dataset": "d2l", "device": device, "dtype": "float32", "status": status,
            "time_median_s": seconds, "epochs": 3}  # fmt: skip


def test_tutorial_costs_pair_each_fast_path_with_its_own_tutorial_in_the_same_setting():
    results = pd.DataFrame([
        _row("d2l-reference", 0.030), _row("manual-autograd", 0.010), _row("manual-gradient:graph=false", 0.002),
        _row("nn-linear", 0.048), _row("nn-linear:loader=tensor", 0.030),
        _row("nn-linear:loader=tensor,optimizer=adam", 0.031),  # its tutorial (adam + DataLoader) did not run
        _row("manual-autograd", 0.011, device="cuda"),  # no d2l-reference on cuda in this run
    ])  # fmt: skip
    costs = tutorial_costs(results)
    pairs = set(zip(costs["tutorial loop"], costs["fast path"], strict=True))
    assert pairs == {("d2l-reference", "manual-autograd"), ("d2l-reference", "manual-gradient:graph=false"),
                     ("nn-linear", "nn-linear:loader=tensor")}  # fmt: skip
    dataloader = costs[costs["fast path"] == "nn-linear:loader=tensor"].iloc[0]
    assert dataloader["speed-up"] == "1.6×" and dataloader["tutorial's extra cost per epoch"] == "6 ms"
    failed = results.assign(status=["not-recovered", *["ok"] * 6])  # a failed tutorial is no yardstick
    assert set(tutorial_costs(failed)["fast path"]) == {"nn-linear:loader=tensor"}


def test_tutorial_costs_pair_specs_whose_options_hold_dicts():
    """Before: TypeError (unhashable dict) and a traceback for `--impl nn-linear:line_search_fn=...`."""
    wolfe = 'nn-linear:optimizer=lbfgs,optimizer_args={"line_search_fn": "strong_wolfe"}'
    fast = 'nn-linear:optimizer=lbfgs,loader=tensor,optimizer_args={"line_search_fn": "strong_wolfe"}'
    costs = tutorial_costs(pd.DataFrame([_row(wolfe, 0.05), _row(fast, 0.04)]))
    assert list(zip(costs["tutorial loop"], costs["fast path"], strict=True)) == [(wolfe, fast)]


def test_threads_are_set_for_the_run_recorded_and_restored(tmp_path, capsys):
    before = torch.get_num_threads()
    args = ["run", "--impl", "manual-gradient", "--device", "cpu", "--dtype", "float32", *QUICK]
    assert main([*args, "--threads", "1", "--no-roofline", "--out", str(tmp_path)]) == 0
    assert pd.read_csv(tmp_path / "results.csv")["threads"].tolist() == [1]
    assert torch.get_num_threads() == before
    assert main([*args, "--threads", "0", "--out", str(tmp_path / "zero")]) == 2
    assert "argument --threads: 0 is out of range" in capsys.readouterr().err


def test_roofline_chart_needs_the_peaks_and_timed_work(tmp_path):
    results = pd.DataFrame([{**_row("normal-equation", 1e-4), "work_flops": 2e4, "work_bytes": 2.4e4}])
    peaks = {"cpu-float32": {"bandwidth_bytes_s": 3e10, "gemm_flops_s": 3e11}}
    assert plots.roofline_chart(results, {}, tmp_path / "none.png", "t") is None  # --no-roofline: no roofs
    assert plots.roofline_chart(results.assign(work_flops=None), peaks, tmp_path / "none.png", "t") is None
    path = plots.roofline_chart(results, peaks, tmp_path / "roofline.png", "t")
    assert path is not None and path.read_bytes().startswith(b"\x89PNG")


def test_every_speed_variant_pairs_with_the_plain_tutorial_loop_not_with_its_own_options():
    results = pd.DataFrame([
        _row("nn-linear:loader=dataloader", 0.048), _row("nn-linear:loader=tensor,graph=true", 0.004),
        _row("d2l-reference", 0.030), _row("manual-gradient:graph=true", 0.001),
        _row("d2l-reference:lr=0.1", 0.030), _row("manual-autograd:lr=0.1", 0.010),  # other math: its own pair
    ])  # fmt: skip
    pairs = set(zip(tutorial_costs(results)["tutorial loop"], tutorial_costs(results)["fast path"], strict=True))
    assert pairs == {("nn-linear:loader=dataloader", "nn-linear:loader=tensor,graph=true"),
                     ("d2l-reference", "manual-gradient:graph=true"),
                     ("d2l-reference:lr=0.1", "manual-autograd:lr=0.1")}  # fmt: skip
