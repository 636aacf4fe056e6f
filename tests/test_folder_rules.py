"""Refuse before touching: every command that writes a folder takes its lock first, then decides
(refuse, resume, overwrite), then writes; `--overwrite` removes exactly what that command writes;
a path that cannot be a folder is one line, exit 2, before anything runs; SIGTERM releases the lock."""

import os
import signal

import pytest
from filelock import FileLock

from bench.cli import main

QUICK = ["--dataset", "crop-yields-5", "--dtype", "float64", "--no-plots", "--no-roofline", "--rounds", "1",
         "--min-time", "0", "--device", "cpu"]  # fmt: skip
STREAM = ["stream", "--n", "2000", "--d", "2", "--chunk-rows", "1000"]


def one_error_line(capsys) -> str:
    err = capsys.readouterr().err.strip()
    assert err.startswith("linreg-bench: error: ") and "\n" not in err and "Traceback" not in err, err
    return err


def snapshot(folder) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_overwrite_while_another_command_holds_the_folder_is_refused_and_touches_nothing(tmp_path, capsys):
    """Before: the folder was emptied (machine.json, run.json, the models) and only then refused."""
    out = tmp_path / "r"
    assert main(["run", *QUICK, "--impl", "sklearn", "--out", str(out)]) == 0
    before = snapshot(out)
    capsys.readouterr()
    with FileLock(out / ".lock"):  # a run still writing here
        assert main(["run", *QUICK, "--impl", "sklearn", "--out", str(out), "--overwrite"]) == 2
    assert "another linreg-bench command is writing to this folder" in one_error_line(capsys)
    assert {k: v for k, v in snapshot(out).items() if k != ".lock"} == before


def test_overwrite_removes_only_what_a_run_writes_even_in_models(tmp_path):
    out = tmp_path / "r"
    assert main(["run", *QUICK, "--impl", "sklearn", "--out", str(out)]) == 0
    (out / "models" / "mine.txt").write_text("my notes")
    (out / "my_plot.png").write_bytes(b"png")
    assert main(["run", *QUICK, "--impl", "normal-equation", "--out", str(out), "--overwrite"]) == 0
    assert sorted(p.name for p in (out / "models").iterdir()) == ["mine.txt", "normal-equation-cpu-float64.pt"]
    assert (out / "my_plot.png").read_bytes() == b"png"


def test_overwrite_removes_the_plots_of_the_earlier_run_png_and_svg(tmp_path):
    out = tmp_path / "r"
    plotted = [a for a in QUICK if a != "--no-plots"]
    assert main(["run", *plotted, "--impl", "sklearn", "--out", str(out)]) == 0
    assert (out / "fit_times.svg").is_file()
    (out / "fit_times.png").unlink()
    assert main(["run", *QUICK, "--impl", "sklearn", "--out", str(out), "--overwrite"]) == 0
    assert not list(out.glob("*.svg"))


def test_an_out_that_cannot_be_a_folder_is_one_line(tmp_path, capsys):
    """Before: FileExistsError / NotADirectoryError tracebacks from mkdir."""
    afile = tmp_path / "afile"
    afile.write_text("x")
    assert main(["run", *QUICK, "--impl", "sklearn", "--out", str(afile)]) == 2
    assert f"{afile}: is a file, not a folder" in one_error_line(capsys)
    assert main(["run", *QUICK, "--impl", "sklearn", "--out", str(afile / "sub")]) == 2
    assert f"{afile / 'sub'}: cannot make this folder (Not a directory)" in one_error_line(capsys)
    assert afile.read_text() == "x"


def test_a_device_as_out_is_one_line(capsys):
    assert main(["run", *QUICK, "--impl", "sklearn", "--out", "/dev/null"]) == 2
    assert "/dev/null: is a device, not a folder" in one_error_line(capsys)


def test_stream_refuses_a_run_folder_and_its_own_earlier_output_without_overwrite(tmp_path, capsys):
    """Before: `stream` took no decision and wrote into any folder, a run's included."""
    run = tmp_path / "r"
    assert main(["run", *QUICK, "--impl", "sklearn", "--out", str(run)]) == 0
    before = snapshot(run)
    capsys.readouterr()
    assert main([*STREAM, "--out", str(run)]) == 2
    assert "holds the outputs of another linreg-bench command" in one_error_line(capsys)
    assert snapshot(run) == before
    out = tmp_path / "s"
    assert main([*STREAM, "--out", str(out)]) == 0
    capsys.readouterr()
    assert main([*STREAM, "--out", str(out)]) == 2
    assert "not empty (an earlier stream" in one_error_line(capsys)
    (out / "models" / "mine.pt").write_bytes(b"mine")
    assert main([*STREAM, "--out", str(out), "--overwrite"]) == 0
    assert sorted(p.name for p in (out / "models").iterdir()) == ["closed-form-stream.pt", "mine.pt"]


@pytest.mark.parametrize("argv", [
    ["conditioning", "--cond", "10", "--impl", "sklearn", "--dtype", "float64", "--n", "50", "--d", "2"],
])  # fmt: skip
def test_studies_refuse_a_used_folder_unless_overwrite(tmp_path, capsys, argv):
    out = tmp_path / "c"
    assert main([*argv, "--out", str(out)]) == 0
    capsys.readouterr()
    assert main([*argv, "--out", str(out)]) == 2
    assert "not empty" in one_error_line(capsys)
    assert main([*argv, "--out", str(out), "--overwrite"]) == 0


def test_stale_temporaries_of_a_killed_writer_are_removed(tmp_path):
    out = tmp_path / "r"
    assert main(["run", *QUICK, "--impl", "sklearn", "--out", str(out)]) == 0
    (out / ".loss_curves.png.abc123.tmp").write_bytes(b"half")
    (out / "models" / ".sklearn-cpu-float64.pt.x1y2.tmp").write_bytes(b"half")
    assert main(["run", *QUICK, "--impl", "normal-equation", "--resume", str(out)]) == 0
    assert not [p for p in out.rglob("*.tmp")]


def test_sigterm_releases_and_removes_the_lock(tmp_path, monkeypatch, capsys):
    """Before: a SIGTERM (what `timeout` and the launcher send) left `.lock` behind."""
    import bench.cli.run as run_command

    def terminated_mid_run():
        os.kill(os.getpid(), signal.SIGTERM)
        return {}

    monkeypatch.setattr(run_command, "machine_info", terminated_mid_run)
    before = signal.getsignal(signal.SIGTERM)
    out = tmp_path / "r"
    assert main(["run", *QUICK, "--impl", "sklearn", "--out", str(out)]) == 143
    assert "terminated" in capsys.readouterr().err
    assert not (out / ".lock").exists()
    assert signal.getsignal(signal.SIGTERM) == before  # the process's own handler is given back


def test_found_by_fuzzing_a_refusal_changes_nothing(tmp_path, capsys):
    """tests/test_fuzz_cli.py's first run: `--overwrite` over a folder whose results.csv is a folder
    cleared the models and machine.json, then failed on it; a refused `--resume` of a corrupt
    results.csv had already removed the stale temporaries."""
    out = tmp_path / "r"
    assert main(["run", *QUICK, "--impl", "sklearn", "--out", str(out)]) == 0
    (out / "results.csv").unlink()
    (out / "results.csv").mkdir()
    before = snapshot(out)
    capsys.readouterr()
    assert main(["run", *QUICK, "--impl", "sklearn", "--out", str(out), "--overwrite"]) == 2
    assert "results.csv: is a folder where run writes a file" in one_error_line(capsys)
    assert snapshot(out) == before
    (out / "results.csv").rmdir()
    (out / "results.csv").write_bytes(b"\x00\x01")
    (out / ".results.csv.x1.tmp").write_bytes(b"half")
    before = snapshot(out)
    assert main(["run", *QUICK, "--impl", "sklearn", "--resume", str(out)]) == 2
    assert "not a readable results.csv" in one_error_line(capsys)
    assert snapshot(out) == before
