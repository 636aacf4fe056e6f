"""Option values are checked when parsed, with their type and range: a value that fails only when
its row is stored, or that runs until killed, is refused in one line before anything runs."""

import pytest

from bench.cli import main

QUICK = ["--dataset", "crop-yields-5", "--dtype", "float64", "--no-plots", "--no-roofline", "--rounds", "1",
         "--min-time", "0", "--device", "cpu"]  # fmt: skip


def one_error_line(capsys) -> str:
    err = capsys.readouterr().err.strip()
    assert err.startswith("linreg-bench: error: ") and "\n" not in err and "Traceback" not in err
    return err


@pytest.mark.parametrize(
    ("impl", "said"),
    [
        ("nn-linear:lr=abc", "--impl nn-linear:lr=abc: lr must be > 0 and finite, got 'abc'"),
        ("manual-gradient:seed=abc", "--impl manual-gradient:seed=abc: seed must be an integer >= 0, got 'abc'"),
        ("manual-gradient:epochs=true", "epochs must be an integer >= 1 and at most 1,000,000, got True"),
        ("nn-linear:init_std=nan", "init_std must be > 0 and finite, got 'nan'"),
    ],
)
def test_a_bad_implementation_option_is_refused_before_any_case_runs(tmp_path, capsys, impl, said):
    out = tmp_path / "r"
    assert main(["run", *QUICK, "--impl", impl, "--out", str(out)]) == 2
    assert said in one_error_line(capsys)
    assert not out.exists()  # before: a 1-row folder with an `error` row that --resume could not get past


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (["run", "--epochs", "1000000000000"], "argument --epochs: 1000000000000 is out of range (expected 1 to"),
        (["run", "--impl", "nn-linear:epochs=1000000000000"], "epochs must be an integer >= 1 and at most 1,000,000"),
        (["run", "--lr", "nan"], "argument --lr: nan is not a finite number"),
        (["run", "--rounds", "0"], "argument --rounds: 0 is out of range"),
        (["run", "--min-time", "-1"], "argument --min-time: -1 is out of range"),
        (["stream", "--chunk-rows", "abc"], "argument --chunk-rows: 'abc' is not a whole number"),
        (["sweep", "--lr", "inf"], "argument --lr: inf is not a finite number"),
        (["compare", "a", "b", "--alpha", "0"], "argument --alpha: 0 is out of range"),
        (["conditioning", "--cond", "0.5"], "argument --cond: 0.5 is out of range"),
        (["scale", "--budget", "0"], "argument --budget: 0 is out of range"),
    ],
)
def test_numeric_options_are_typed_and_ranged_at_parse_time(tmp_path, capsys, argv, said):
    assert main([*argv, "--out", str(tmp_path / "r")]) == 2
    assert said in one_error_line(capsys)
    assert not (tmp_path / "r").exists()
