"""Nothing lost: a run killed outright keeps its finished cases, and --resume does only the rest."""

import json
import os
import signal
import subprocess
import sys
import time

import pandas as pd
import pytest

from bench.cli import main
from bench.results.store import RunFolder

ARGS = ["run", "--dataset", "crop-yields", "--device", "cpu", "--dtype", "float64", "--no-plots",
        "--rounds", "3", "--min-time", "0", "--warmup", "0"]  # fmt: skip
IMPLS = [
    "--impl",
    "normal-equation",
    "--impl",
    "sklearn",
    "--impl",
    "nn-linear:epochs=3000",
    "--impl",
    "manual-autograd",
]
FIGURES = ["impl", "status", "final_loss", "excess_loss", "digits_ref"]


def test_killed_run_resumes_without_redoing_finished_cases(tmp_path):
    out = tmp_path / "run"
    process = subprocess.Popen([sys.executable, "-m", "bench.cli", *ARGS, *IMPLS, "--out", str(out)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    deadline = time.time() + 120
    while time.time() < deadline:  # wait until the two quick cases are on disk, the slow one is running
        if (out / "results.csv").is_file() and len(pd.read_csv(out / "results.csv")) >= 2:
            break
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    partial = pd.read_csv(out / "results.csv")
    assert partial["impl"].tolist() == ["normal-equation", "sklearn"]  # readable, finished cases only
    assert not [p for p in os.listdir(out) if p.endswith(".tmp")]  # no half-written file left behind
    before = partial.set_index("impl")["time_samples_s"]

    assert main([*ARGS, *IMPLS, "--resume", str(out)]) == 1  # crop-yields SGD is not-recovered, as known
    resumed = pd.read_csv(out / "results.csv")
    assert resumed.set_index("impl").loc[["normal-equation", "sklearn"], "time_samples_s"].equals(before)

    assert main([*ARGS, *IMPLS, "--out", str(tmp_path / "whole")]) == 1
    whole = pd.read_csv(tmp_path / "whole" / "results.csv")
    pd.testing.assert_frame_equal(resumed[FIGURES], whole[FIGURES])


def test_resume_needs_a_run_folder(tmp_path, capsys):
    assert main([*ARGS, "--resume", str(tmp_path)]) == 2
    assert "no results.csv there to resume" in capsys.readouterr().err


def test_two_runs_cannot_write_one_folder_at_once(tmp_path, capsys):
    with RunFolder(tmp_path).locked():
        assert main([*ARGS, "--impl", "sklearn", "--out", str(tmp_path)]) == 2
    assert "another linreg-bench command is writing to this folder" in capsys.readouterr().err
    assert main([*ARGS, "--impl", "sklearn", "--out", str(tmp_path)]) == 0  # free again afterwards


def test_lock_is_per_folder(tmp_path):
    with RunFolder(tmp_path / "a").locked(), RunFolder(tmp_path / "b").locked():
        pass
    first, second = RunFolder(tmp_path / "a"), RunFolder(tmp_path / "a")
    with pytest.raises(Exception, match="another linreg-bench command"), first.locked(), second.locked():
        pass


def test_resume_with_other_arguments_is_refused_naming_them(tmp_path, capsys):
    out = tmp_path / "run"
    quick = ["--impl", "normal-equation"]
    assert main([*ARGS, *quick, "--out", str(out)]) == 0
    assert json.loads((out / "run.json").read_text())["dataset"] == "crop-yields"
    before = (out / "results.csv").read_text()
    changed = [arg if arg != "crop-yields" else "d2l" for arg in ARGS]  # another dataset: rows of two runs
    assert main([*changed, *quick, "--resume", str(out)]) == 2
    err = capsys.readouterr().err
    assert "the run was started with other arguments (--dataset 'crop-yields' -> 'd2l')" in err
    assert main([*ARGS, *quick, "--epochs", "5", "--resume", str(out)]) == 2
    assert "--epochs None -> 5" in capsys.readouterr().err
    assert (out / "results.csv").read_text() == before  # nothing was run or written
    # the same arguments, one implementation more: fine
    assert main([*ARGS, *quick, "--impl", "sklearn", "--resume", str(out)]) == 0
    assert pd.read_csv(out / "results.csv")["impl"].tolist() == ["normal-equation", "sklearn"]


def test_after_a_resume_the_report_shows_every_plot_of_the_folder_and_no_stale_one(tmp_path, capsys):
    """The resume adds a case (by design); the report is of the whole folder: every plot drawn from
    all its rows (the data-and-fits plot from every saved model, the roofs from the first run), and
    a plot there is nothing to draw for is removed, not left showing an older state."""
    out = tmp_path / "run"
    base = ["run", "--dataset", "univariate", "--device", "cpu", "--dtype", "float64", "--rounds", "2",
            "--min-time", "0", "--warmup", "0"]  # fmt: skip
    assert main([*base, "--impl", "manual-gradient", "--out", str(out)]) == 0
    first = capsys.readouterr().err
    for name in ("results.csv", "curves.csv", "machine.json", "run.json", "report.md", "report.html",
                 "loss_curves.png", "loss_curves.svg", "roofline.svg", "models/*.pt (1 model)"):  # fmt: skip
        assert name in " ".join(first.split()), name  # the closing line names every file written
    (out / "stale.txt").write_text("a person's own file stays")
    assert main([*base, "--impl", "manual-gradient", "--impl", "normal-equation", "--resume", str(out)]) == 0
    report = (out / "report.md").read_text()
    for plot in ("loss_curves.png", "fit_times.png", "data_and_fits.png", "roofline.png"):
        assert f"]({plot})" in report, plot
    svg = (out / "data_and_fits.svg").read_text()
    assert "manual-gradient" in svg and "normal-equation" in svg  # the earlier case's fit too
    assert "peaks" in json.loads((out / "machine.json").read_text())
    assert "resuming" in capsys.readouterr().err

    (out / "results.csv").write_text(pd.read_csv(out / "results.csv").iloc[1:].to_csv(index=False))
    assert main([*base, "--impl", "normal-equation", "--resume", str(out)]) == 0  # no iterative case left
    assert not (out / "loss_curves.png").exists() and not (out / "loss_curves.svg").exists()
    assert "loss_curves" not in (out / "report.md").read_text()
    assert (out / "stale.txt").is_file()
