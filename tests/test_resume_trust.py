"""--resume trusts only what is whole: a half row, a bad status, a non-numeric figure or a missing
model is run again (with a note naming it); a resume that would mix world sizes is refused; a
corrupt results.csv is one line, exit 2."""

import json

import pandas as pd

from bench.cli import main

QUICK = ["--dataset", "crop-yields-5", "--dtype", "float64", "--no-plots", "--no-roofline", "--rounds", "1",
         "--min-time", "0", "--device", "cpu"]  # fmt: skip
TWO = ["--impl", "sklearn", "--impl", "normal-equation"]


def finished_run(tmp_path):
    out = tmp_path / "r"
    assert main(["run", *QUICK, *TWO, "--out", str(out)]) == 0
    return out


def rewrite_second_row(out, change) -> None:
    lines = (out / "results.csv").read_text().splitlines(keepends=True)
    lines[2] = change(lines[2])
    (out / "results.csv").write_text("".join(lines))


def resumed(out, capsys) -> tuple[int, str, pd.DataFrame]:
    capsys.readouterr()
    code = main(["run", *QUICK, *TWO, "--resume", str(out)])
    err = capsys.readouterr().err
    return code, err, pd.read_csv(out / "results.csv")


def test_a_half_row_is_run_again_not_counted_as_finished(tmp_path, capsys):
    """Before: the cut row was kept with an empty status and the report showed `nan — nan`."""
    out = finished_run(tmp_path)
    rewrite_second_row(out, lambda line: line[: len(line) // 3] + "\n")
    code, err, frame = resumed(out, capsys)
    assert code == 0
    assert "results.csv, line 3: a half row" in err and "run again" in err
    assert "resuming" in err and "1 case(s) already finished, 1 to run" in err
    assert sorted(frame["impl"]) == ["normal-equation", "sklearn"] and set(frame["status"]) == {"ok"}


def test_a_bad_status_or_a_non_numeric_figure_is_run_again(tmp_path, capsys):
    out = finished_run(tmp_path)
    rewrite_second_row(out, lambda line: line.replace(",ok,", ",okay,", 1))
    code, err, frame = resumed(out, capsys)
    assert code == 0 and "line 3: status 'okay' is not one of" in err
    assert set(frame["status"]) == {"ok"} and len(frame) == 2
    frame["time_median_s"] = frame["time_median_s"].astype(object)
    frame.loc[1, "time_median_s"] = "fast"
    frame.to_csv(out / "results.csv", index=False)
    code, err, frame = resumed(out, capsys)
    assert code == 0 and "line 3: column 'time_median_s' holds 'fast', not a number" in err
    assert pd.to_numeric(frame["time_median_s"]).notna().all()


def test_an_ok_case_whose_model_is_gone_is_run_again(tmp_path, capsys):
    """Before: deleting models/ went unnoticed by --resume."""
    out = finished_run(tmp_path)
    (out / "models" / "sklearn-cpu-float64.pt").unlink()
    code, err, frame = resumed(out, capsys)
    assert code == 0 and "sklearn-cpu-float64.pt: missing, so sklearn cpu float64 is run again" in err
    assert (out / "models" / "sklearn-cpu-float64.pt").is_file() and len(frame) == 2


def test_a_resume_with_another_world_size_is_refused(tmp_path, capsys):
    """Before: a resume without --nproc of a --nproc 2 run mixed world sizes in one table."""
    out = finished_run(tmp_path)
    recorded = json.loads((out / "run.json").read_text())
    assert recorded["world_size"] == 1
    (out / "run.json").write_text(json.dumps({**recorded, "world_size": 2}))
    before = (out / "results.csv").read_bytes()
    code, err, _ = resumed(out, capsys)
    assert code == 2 and err.count("\n") == 1 and "--nproc (ranks) 2 -> 1" in err
    assert (out / "results.csv").read_bytes() == before


def test_a_run_json_from_before_world_size_resumes_as_one_process(tmp_path, capsys):
    out = finished_run(tmp_path)
    recorded = json.loads((out / "run.json").read_text())
    del recorded["world_size"]
    (out / "run.json").write_text(json.dumps(recorded))
    code, _, _ = resumed(out, capsys)
    assert code == 0


def test_a_corrupt_results_csv_is_one_line_on_resume(tmp_path, capsys):
    out = finished_run(tmp_path)
    (out / "results.csv").write_bytes(b"\xff\xfe\x00garbage\x00\n\x01\x02")
    code, err, _ = resumed_raw(out, capsys)
    assert code == 2 and err.count("\n") == 1 and "results.csv: not a readable results.csv" in err
    assert "Traceback" not in err


def resumed_raw(out, capsys) -> tuple[int, str, None]:
    capsys.readouterr()
    code = main(["run", *QUICK, *TWO, "--resume", str(out)])
    return code, capsys.readouterr().err, None
