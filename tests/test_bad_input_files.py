"""Bad values in input files are bad input (exit 2, one line naming the file), never a traceback
or a failed case; `stream` judges and reads CSVs as `run` does; the gate never passes on nothing."""

import errno
import json
import os
import threading
import time

import numpy as np
import pytest

from bench.cli import main

QUICK = ["--dtype", "float64", "--no-plots", "--no-roofline", "--rounds", "1", "--min-time", "0", "--device", "cpu"]


def one_error_line(capsys) -> str:
    err = capsys.readouterr().err.strip()
    assert err.startswith("linreg-bench: error: ") and "\n" not in err and "Traceback" not in err, err
    return err


def write_csv(path, header, rows):
    path.write_text(",".join(header) + "\n" + "".join(",".join(map(str, r)) + "\n" for r in rows))
    return path


def test_a_folder_or_a_device_as_csv_is_one_line(tmp_path, capsys):
    """Before: IsADirectoryError traceback."""
    (tmp_path / "d").mkdir()
    assert main(["run", *QUICK, "--csv", str(tmp_path / "d"), "--target", "y"]) == 2
    assert f"{tmp_path / 'd'}: is a folder, not a CSV file" in one_error_line(capsys)
    assert main(["run", *QUICK, "--csv", "/dev/null", "--target", "y"]) == 2
    assert "/dev/null: is a device, not a CSV file" in one_error_line(capsys)


def _open_here(path) -> bool:
    """Whether this process holds `path` open (the command reading it)."""
    fds = "/proc/self/fd"
    return any(os.path.realpath(os.path.join(fds, fd)) == str(path) for fd in os.listdir(fds) if fd.isdigit())


def test_a_fifo_as_csv_is_read_once(tmp_path, capsys):
    """Before: the file was opened twice (the table, then the header), so a FIFO hung on its second
    open. The writer here feeds a second open too, so the old code does not hang: it is counted."""
    fifo = (tmp_path / "data.csv").resolve()
    os.mkfifo(fifo)
    text = "x,y\n" + "".join(f"{i},{2 * i + 1 + (i % 3) * 0.01}\n" for i in range(20))
    opened, finished = [], threading.Event()

    def writer():
        with open(fifo, "w") as handle:  # blocks until the command opens it
            handle.write(text)
        while _open_here(fifo):  # the command is still reading its first open
            time.sleep(0.001)
        with open(fifo, "w") as handle:  # returns only if the command opens the file again
            if not finished.is_set():
                opened.append("again")
                handle.write(text)

    thread = threading.Thread(target=writer, daemon=True)
    thread.start()
    code = main(["run", *QUICK, "--csv", str(fifo), "--target", "y", "--impl", "sklearn",
                 "--out", str(tmp_path / "r")])  # fmt: skip
    finished.set()
    unblock = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)  # lets the writer's second open return
    thread.join()
    os.close(unblock)
    assert code == 0 and opened == []


@pytest.mark.parametrize("value", ['"abc"', '[1, "x"]', "null", "1e999"])
def test_certified_values_that_are_not_numbers_are_one_line(tmp_path, capsys, value):
    csv = write_csv(tmp_path / "c.csv", ["x", "y"], [(i, 2 * i + (i % 2) * 0.1) for i in range(10)])
    certified = tmp_path / "c.json"
    certified.write_text(f'{{"weight": {value}, "bias": 0.5, "intercept": true}}')
    assert main(["run", *QUICK, "--csv", str(csv), "--target", "y", "--certified", str(certified),
                 "--out", str(tmp_path / "r")]) == 2  # fmt: skip
    assert f"{certified}: 'weight'" in one_error_line(capsys)
    assert not (tmp_path / "r").exists()


def test_data_that_overflows_the_reference_is_bad_input_before_any_writing(tmp_path, capsys):
    """Before: numpy's LinAlgError ("SVD did not converge") as a traceback."""
    csv = write_csv(tmp_path / "big.csv", ["x", "z", "y"], [(1.7e308, 1, 2), (1.7e308, 2, 3), (1e300, 3, 1), (5, 4, 4)])
    assert main(["run", *QUICK, "--csv", str(csv), "--target", "y", "--out", str(tmp_path / "r")]) == 2
    assert "big: the float64 least-squares reference overflows" in one_error_line(capsys)
    assert not (tmp_path / "r").exists()


@pytest.mark.parametrize("columns", ["duplicated", "constant", "more columns than rows"])
def test_stream_calls_a_rank_deficient_fit_not_recovered_and_keeps_no_model(tmp_path, capsys, columns):
    """Before: `stream` said `ok`, exited 0 and saved the model where `run` says not-recovered."""
    rng = np.random.default_rng(0)
    if columns == "more columns than rows":
        header, X = ["a", "b", "c", "e", "y"], rng.normal(size=(3, 4))
    else:
        a, b = rng.normal(size=50), rng.normal(size=50)
        header, X = ["a", "b", "c", "y"], np.column_stack([a, b, a if columns == "duplicated" else np.full(50, 3.0)])
    y = X @ np.arange(1, X.shape[1] + 1) + 0.01 * rng.normal(size=X.shape[0])
    csv = write_csv(tmp_path / "s.csv", header, np.column_stack([X, y]).tolist())
    out = tmp_path / "s"
    assert main(["stream", "--csv", str(csv), "--target", "y", "--chunk-rows", "7", "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert "not-recovered: X is rank-deficient" in err and "so its parameters are not identifiable" in err
    assert not (out / "models").exists()


def test_stream_refuses_a_duplicated_header_and_one_row_as_run_does(tmp_path, capsys):
    csv = write_csv(tmp_path / "dup.csv", ["x", "x", "y"], [(1, 2, 3), (2, 3, 5), (3, 1, 2)])
    assert main(["stream", "--csv", str(csv), "--target", "y", "--out", str(tmp_path / "a")]) == 2
    assert "column 'x' appears more than once in the header" in one_error_line(capsys)
    one = write_csv(tmp_path / "one.csv", ["x", "y"], [(1, 2)])
    assert main(["stream", "--csv", str(one), "--target", "y", "--out", str(tmp_path / "b")]) == 2
    assert f"{one}: needs at least 2 data rows, found 1" in one_error_line(capsys)


def benchmark_json(path, benchmarks, commit="abc"):
    path.write_text(json.dumps({"machine_info": {"cpu": "x"}, "commit_info": {"id": commit},
                                "benchmarks": benchmarks}))  # fmt: skip
    return path


def bench_entry(impl="sklearn", data=None, **stats):
    data = list(np.linspace(1.0, 1.1, 30)) if data is None else data
    return {"name": f"test_fit[{impl}]", "group": "d2l",
            "stats": {"median": 1.05, "iqr": 0.01, "rounds": len(data), "data": data, **stats},
            "extra_info": {"impl": impl, "device": "cpu", "dtype": "float32", "dataset": "d2l"}}  # fmt: skip


@pytest.mark.parametrize(
    ("benchmarks", "said"),
    [
        (None, "not a pytest-benchmark JSON file (no 'benchmarks' list)"),
        ([], "the 'benchmarks' list is empty: nothing was measured"),
        ([bench_entry(median="fast")], "statistic 'median' is 'fast', not a number"),
        ([bench_entry(data=[1.0, "x"])], "statistic 'data' is 'x', not a number"),
        (["oops"], "a 'benchmarks' entry is str, not an object"),
    ],
)
def test_a_bad_pytest_benchmark_json_is_one_line_naming_the_file(tmp_path, capsys, benchmarks, said):
    """Before: `"benchmarks": null` and a non-numeric statistic were TypeError tracebacks."""
    good = benchmark_json(tmp_path / "good.json", [bench_entry()])
    bad = benchmark_json(tmp_path / "bad.json", benchmarks)
    assert main(["compare", str(good), str(bad)]) == 2
    err = one_error_line(capsys)
    assert str(bad) in err and said in err


def test_the_gate_refuses_to_pass_on_nothing_compared(tmp_path, capsys):
    """Before: two files with no case in common, or NaN round times, passed the gate (exit 0)."""
    base = benchmark_json(tmp_path / "base.json", [bench_entry("sklearn")])
    other = benchmark_json(tmp_path / "other.json", [bench_entry("normal-equation")])
    assert main(["compare", str(base), str(other), "--fail-on-regression"]) == 2
    assert "have no case in common: nothing was compared" in one_error_line(capsys)
    nan = benchmark_json(tmp_path / "nan.json", [bench_entry("sklearn", data=[float("nan")] * 30)])
    assert main(["compare", str(base), str(nan), "--fail-on-regression"]) == 2
    assert "round times that are not finite positive seconds" in one_error_line(capsys)


def test_one_bad_file_among_good_ones_is_named_and_skipped_by_history(tmp_path, capsys):
    """Before: one file with a non-numeric statistic killed the whole `history` with a traceback."""
    import subprocess

    repo = tmp_path / "repo"
    repo.mkdir()
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@t"}  # fmt: skip
    subprocess.run(["git", "init", "-q", str(repo)], check=True, env=env)
    subprocess.run(["git", "-C", str(repo), "commit", "-q", "--allow-empty", "-m", "one"], check=True, env=env)
    sha = subprocess.run(["git", "-C", str(repo), "rev-parse", "HEAD"], capture_output=True, text=True,
                         check=True).stdout.strip()  # fmt: skip
    store = tmp_path / ".benchmarks"
    store.mkdir()
    benchmark_json(store / "0001_good.json", [bench_entry()], commit=sha)
    benchmark_json(store / "0002_bad.json", [bench_entry(median="fast")], commit=sha)
    out = tmp_path / "h"
    assert main(["history", str(store), "--repo", str(repo), "--out", str(out)]) == 0
    assert "0002_bad.json" in (out / "history.md").read_text()
    assert (out / "history.csv").is_file()


def test_a_full_disk_is_one_line_naming_the_file_and_what_is_kept(tmp_path, capsys, monkeypatch):
    """Before: the OSError of a full disk came out as a traceback (the data stayed consistent)."""
    import bench.atomic

    real_replace = os.replace

    def full_disk(source, target):
        if str(target).endswith("report.md"):
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_replace(source, target)

    monkeypatch.setattr(bench.atomic.os, "replace", full_disk)
    out = tmp_path / "r"
    assert main(["run", "--dataset", "crop-yields-5", *QUICK, "--impl", "sklearn", "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err == (f"linreg-bench: error: {out / 'report.md'}: No space left on device; every file written before "
                   "it is kept whole (writes are atomic), and so is every finished case")  # fmt: skip
    assert (out / "results.csv").is_file() and not list(out.glob(".*.tmp"))


def test_a_full_disk_while_saving_a_model_is_one_line_too(tmp_path, capsys, monkeypatch):
    """torch.save reports a failed write as a RuntimeError of its stream writer, not an OSError:
    before, a traceback."""
    from impls import LinearFit

    def full(self, path):
        raise RuntimeError("[enforce fail at inline_container.cc:603] . PytorchStreamWriter failed writing file "
                           "data/0: file write failed")  # fmt: skip

    monkeypatch.setattr(LinearFit, "save", full)
    out = tmp_path / "r"
    assert main(["run", "--dataset", "crop-yields-5", *QUICK, "--impl", "sklearn", "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len([line for line in err if line.startswith("linreg-bench: error:")]) == 1 and "Traceback" not in err
    assert err[-1].startswith(f"linreg-bench: error: {out / 'models' / 'sklearn-cpu-float64.pt'}: could not write")
