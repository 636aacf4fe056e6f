"""No green run that measured nothing, and run folders a person can trust: no stale files, the
umask honoured, no lock left behind, and messages that name only files that exist."""

import os
import re

import pytest
import torch

from bench.cli import main

QUICK = ["--dataset", "crop-yields-5", "--dtype", "float64", "--no-plots", "--no-roofline", "--rounds", "1",
         "--min-time", "0"]  # fmt: skip


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a GPU: --device cuda can run")
def test_asking_for_cuda_without_a_gpu_is_bad_usage_not_a_green_run(tmp_path, capsys):
    assert main(["run", *QUICK, "--device", "cuda", "--out", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("linreg-bench: error: --device cuda: CUDA is not available") and "\n" not in err
    assert not (tmp_path / "r").exists()


def test_a_plan_in_which_every_case_is_skipped_is_refused(tmp_path, capsys):
    spec = "manual-gradient:graph=true"  # CUDA graphs: never on the CPU, GPU or not
    assert main(["run", *QUICK, "--impl", spec, "--device", "cpu", "--out", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err
    assert (
        "nothing to run: every case would be skipped (manual-gradient:graph=true replays a captured CUDA graph" in err
    )


def test_device_all_folds_the_skipped_cases_into_one_line_per_reason_under_the_table(tmp_path, capsys):
    assert main(["run", *QUICK, "--impl", "sklearn", "--device", "all", "--out", str(tmp_path / "r")]) == 0
    out = capsys.readouterr().out
    assert "1 skipped (cuda, float64): sklearn runs on cpu only, not cuda — sklearn" in out
    assert not re.search(r"cuda +float\d\d +skipped", out)  # no table row for a case that did not run
    report = (tmp_path / "r" / "report.md").read_text()
    assert "- **1 skipped** (cuda, float64): sklearn runs on cpu only" in report


def test_a_second_run_into_a_used_folder_is_refused_unless_resume_or_overwrite(tmp_path, capsys):
    out = tmp_path / "r"
    assert main(["run", *QUICK, "--impl", "normal-equation", "--device", "cpu", "--out", str(out)]) == 0
    assert main(["run", *QUICK, "--impl", "sklearn", "--device", "cpu", "--out", str(out)]) == 2
    assert "not empty" in capsys.readouterr().err
    (out / "notes.txt").write_text("mine")
    assert main(["run", *QUICK, "--impl", "sklearn", "--device", "cpu", "--out", str(out), "--overwrite"]) == 0
    assert sorted(p.name for p in (out / "models").iterdir()) == ["sklearn-cpu-float64.pt"]  # no stale model
    assert (out / "notes.txt").read_text() == "mine"  # not ours: left alone


@pytest.mark.parametrize(("umask", "mode"), [(0o022, 0o644), (0o077, 0o600)])
def test_written_files_honour_the_umask_and_no_lock_is_left(tmp_path, umask, mode):
    before = os.umask(umask)
    try:
        assert main(["run", *QUICK, "--impl", "normal-equation", "--device", "cpu", "--out", str(tmp_path)]) == 0
    finally:
        os.umask(before)
    for name in ("results.csv", "report.md", "machine.json", "models/normal-equation-cpu-float64.pt"):
        assert (tmp_path / name).stat().st_mode & 0o777 == mode, name
    assert not (tmp_path / ".lock").exists()


def test_the_closing_message_names_every_file_written_and_only_those(tmp_path, capsys):
    assert main(["run", *QUICK, "--impl", "normal-equation", "--device", "cpu", "--out", str(tmp_path)]) == 0
    err = capsys.readouterr().err
    line = " ".join(err[err.rindex("wrote ") :].split())  # wrapped at 120 columns: one line again
    folder, _, names = line.removeprefix("wrote ").partition(": ")
    assert folder.rstrip("/") == str(tmp_path)
    named = names.split(", ")
    assert named[-1] == "models/*.pt (1 model)" and len(list(tmp_path.glob("models/*.pt"))) == 1
    written = {p.name for p in tmp_path.iterdir() if p.is_file()}
    assert set(named[:-1]) == written, written ^ set(named[:-1])  # every file, curves.csv and run.json included
