"""The `linreg_bench` fixture in a user's own repository: a package in a temporary folder whose
implementation is registered nowhere, benchmarked with `pytest --benchmark-only`, its files read by
`linreg-bench compare` and `history`. Each session is a fresh process (`pytester`), as a user's is."""

from __future__ import annotations

import fnmatch
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import tomllib
import torch

import bench.pytest_plugin.plugin
from bench.pytest_plugin import QUICK_PROBLEMS, linreg_cases

pytest_plugins = ["pytester"]

ROOT = Path(__file__).resolve().parents[1]
PLUGIN = "bench.pytest_plugin.plugin"
# Few, short rounds: enough for `compare`'s rank test (7 a side), not a measurement.
QUICK_TIMING = ("--benchmark-min-rounds", "10", "--benchmark-max-time", "0.001", "--benchmark-warmup", "off")

PACKAGE = '''
import torch
from impls import Implementation, LinearFit


class MyLinReg(Implementation):
    """Least squares on [X 1] by torch.linalg.lstsq: the smallest plug-in, registered nowhere."""

    name = "my-linreg"

    def fit_unchecked(self, X, y):
        A = torch.cat([X, torch.ones_like(X[:, :1])], dim=1)
        theta = torch.linalg.lstsq(A, y).solution  # (d + 1, k)
        return LinearFit(theta[:-1].T.contiguous(), theta[-1].clone())


class FlippedSign(MyLinReg):
    """Deliberately wrong: every weight with the wrong sign."""

    name = "flipped-sign"

    def fit_unchecked(self, X, y):
        fit = super().fit_unchecked(X, y)
        return LinearFit(-fit.weight, fit.bias)


class CpuOnly(MyLinReg):
    name = "cpu-only"
    devices = ("cpu",)
'''

TEST_MINE = """
import pytest
from mypkg import MyLinReg   # subclasses impls.Implementation; registered nowhere

@pytest.mark.parametrize("problem", ["d2l", "crop-yields"])
def test_my_linreg(linreg_bench, problem):
    linreg_bench(MyLinReg(), problem)

def test_not_a_benchmark():
    pass
"""


@pytest.fixture
def downstream(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    """A user's repository: its own package and tests, outside this one."""
    pytester.mkpydir("mypkg").joinpath("__init__.py").write_text(PACKAGE)
    pytester.mkdir("tests")
    pytester.path.joinpath("tests", "test_mine.py").write_text(TEST_MINE)
    monkeypatch.setenv("PYTHONPATH", f"{pytester.path}:{ROOT}")
    isolated_from_xdist(monkeypatch)
    return pytester


def isolated_from_xdist(monkeypatch: pytest.MonkeyPatch) -> None:
    """Under `pytest -n`, the worker's variables would tell the inner pytest-benchmark it is a worker
    too (and refuse --benchmark-only): the user's session is a session of its own."""
    for name in ("PYTEST_XDIST_WORKER", "PYTEST_XDIST_WORKER_COUNT", "PYTEST_XDIST_TESTRUNUID"):
        monkeypatch.delenv(name, raising=False)


def run_pytest(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest_subprocess("-p", PLUGIN, "-p", "no:cacheprovider", *args)


def linreg_bench_cli(*argv: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "bench", *argv], capture_output=True, text=True, cwd=cwd,
                          timeout=600)  # fmt: skip


def benchmarks(path: Path) -> dict[str, dict]:
    return {b["name"]: b for b in json.loads(path.read_text())["benchmarks"]}


def test_the_entry_point_names_the_plugin_module_by_its_own_name():
    """Keyed by the module's name, `-p MODULE` and the installed entry point are one plugin, not two."""
    entry_points = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["entry-points"]["pytest11"]
    assert entry_points == {PLUGIN: PLUGIN}
    assert callable(bench.pytest_plugin.plugin.pytest_addoption) and bench.pytest_plugin.plugin.linreg_bench


def test_installed_the_entry_point_loads_the_plugin_without_p(downstream, tmp_path_factory, monkeypatch):
    """linreg-bench built and installed as a user installs it: its `pytest11` entry point gives a
    session the fixture with no `-p`, and `-p` naming the module as well is still one plugin."""
    source, site = tmp_path_factory.mktemp("source"), tmp_path_factory.mktemp("site")
    for name in ("bench", "impls"):  # a copy: building in place would leave build/ in this checkout
        shutil.copytree(ROOT / name, source / name, ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    install = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation", "--no-index",
               "--target", str(site), str(source)]  # fmt: skip
    done = subprocess.run(install, capture_output=True, text=True, timeout=600)
    if done.returncode != 0 and "setuptools" in done.stderr:
        pytest.skip(f"cannot build linreg-bench offline here: {done.stderr.strip().splitlines()[-1]}")
    assert done.returncode == 0, done.stderr
    monkeypatch.setenv("PYTHONPATH", f"{downstream.path}:{site}")
    for extra in ((), ("-p", PLUGIN)):
        result = downstream.runpytest_subprocess("-p", "no:cacheprovider", "tests", "--benchmark-disable", *extra)
        result.assert_outcomes(passed=3)


def test_loading_the_plugin_imports_neither_torch_nor_pandas(tmp_path):
    probe = "import sys, bench.pytest_plugin.plugin; print(sorted({'torch', 'pandas', 'numpy'} & set(sys.modules)))"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_a_session_that_does_not_use_the_fixture_never_imports_torch(pytester: pytest.Pytester, monkeypatch):
    isolated_from_xdist(monkeypatch)
    pytester.makepyfile(test_plain="import sys\n\ndef test_plain():\n    assert 'torch' not in sys.modules\n")
    pytester.makeconftest("")
    result = pytester.runpytest_subprocess("-p", PLUGIN, "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)


def test_benchmark_only_times_one_benchmark_per_problem_with_the_verdict_in_extra_info(downstream):
    result = run_pytest(downstream, "tests", "--benchmark-only", "--benchmark-json", "out.json", *QUICK_TIMING)
    result.assert_outcomes(passed=2, skipped=1)  # the plain test is skipped by --benchmark-only
    found = benchmarks(downstream.path / "out.json")
    assert sorted(found) == ["test_my_linreg[crop-yields]", "test_my_linreg[d2l]"]
    for problem in ("d2l", "crop-yields"):
        info = found[f"test_my_linreg[{problem}]"]["extra_info"]
        assert (info["impl"], info["dataset"], info["device"], info["dtype"]) == (
            "my-linreg",
            problem,
            "cpu",
            "float32",
        )
        assert info["status"] == "ok" and info["objective"] == "least squares (iterative), undeclared"
        assert info["reason"] == "judged as iterative least squares: my-linreg declares no objective()"
        assert info["excess_loss"] >= 0 and info["digits_ref"] > 0 and info["opt_distance_se"] <= info["opt_tol_se"]
    assert found["test_my_linreg[d2l]"]["group"] == "d2l (n=1000, d=2, k=1)"


def test_a_flipped_sign_fails_with_the_judges_reason_and_is_still_recorded(downstream):
    downstream.path.joinpath("tests", "test_mine.py").write_text(
        "from mypkg import FlippedSign\n\ndef test_flipped(linreg_bench):\n    linreg_bench(FlippedSign(), 'd2l')\n"
    )
    result = run_pytest(downstream, "tests", "--benchmark-only", "--benchmark-json", "out.json", *QUICK_TIMING)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["flipped-sign on d2l (cpu, float32): not-recovered: *standard errors from the*"])
    assert "Traceback" not in result.stdout.str() and "fixture.py" not in result.stdout.str()
    info = benchmarks(downstream.path / "out.json")["test_flipped"]["extra_info"]
    assert info["status"] == "not-recovered" and "standard errors from the" in info["reason"]


def test_compare_reads_two_such_files(downstream):
    for name in ("base.json", "new.json"):
        run_pytest(downstream, "tests", "--benchmark-only", "--benchmark-json", name, *QUICK_TIMING).assert_outcomes(
            passed=2, skipped=1
        )
    done = linreg_bench_cli("compare", "base.json", "new.json", "--out", "cmp", cwd=downstream.path)
    assert done.returncode == 0, done.stderr
    table = pd.read_csv(downstream.path / "cmp" / "comparison.csv")
    assert sorted(zip(table["dataset"], table["impl"], strict=True)) == [("crop-yields", "my-linreg"),
                                                                         ("d2l", "my-linreg")]  # fmt: skip


def test_history_places_saved_runs_of_the_users_code_at_their_commits(downstream):
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "commit.gpgsign=false"]
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=downstream.path, check=True)
    downstream.path.joinpath(".gitignore").write_text(".benchmarks/\nhistory/\n__pycache__/\n")
    for message in ("first", "second"):
        downstream.path.joinpath("CHANGES").write_text(message)
        subprocess.run(["git", "add", "-A"], cwd=downstream.path, check=True)
        subprocess.run([*git, "commit", "-q", "-m", message], cwd=downstream.path, check=True)
        args = ("tests", "--benchmark-only", "--benchmark-autosave", "--benchmark-save-data", *QUICK_TIMING)
        run_pytest(downstream, *args).assert_outcomes(passed=2, skipped=1)
    done = linreg_bench_cli("history", ".benchmarks", "--out", "history", cwd=downstream.path)
    assert done.returncode == 0, done.stderr
    rows = pd.read_csv(downstream.path / "history" / "history.csv")
    assert sorted(set(rows["subject"])) == ["first", "second"]
    assert set(rows["impl"]) == {"my-linreg"} and set(rows["status"]) == {"ok"}
    assert rows["digits_ref"].notna().all()  # accuracy over commits, from extra_info
    assert (downstream.path / "history" / "history.html").is_file()


def test_session_options_choose_the_device_and_dtype_and_unsupported_cases_skip(downstream):
    downstream.path.joinpath("tests", "test_mine.py").write_text(
        "from mypkg import CpuOnly, MyLinReg\n\n"
        "def test_default(linreg_bench):\n    linreg_bench(MyLinReg(), 'crop-yields-5')\n\n"
        "def test_cpu_only(linreg_bench):\n    linreg_bench(CpuOnly(), 'crop-yields-5', device='cuda')\n"
    )
    result = run_pytest(downstream, "tests", "--benchmark-json", "out.json", "--linreg-dtype", "float64", "-rs",
                        *QUICK_TIMING)  # fmt: skip
    result.assert_outcomes(passed=1, skipped=1)
    result.stdout.fnmatch_lines(["*cpu-only runs on cpu only, not cuda*"])
    assert benchmarks(downstream.path / "out.json")["test_default"]["extra_info"]["dtype"] == "float64"


def test_a_registered_name_takes_options_at_the_tutorials_settings_it_has_the_known_result(downstream):
    downstream.path.joinpath("tests", "test_mine.py").write_text(
        "import pytest\n\n"
        "def test_named(linreg_bench):\n"
        "    fit = linreg_bench('normal-equation', 'strd-noint1', dtype='float64', solver='qr')\n"
        "    assert tuple(fit.weight.shape) == (1, 1) and float(fit.bias[0]) == 0.0\n\n"
        "def test_tutorial(linreg_bench):\n    linreg_bench('nn-linear', 'crop-yields-5')\n\n"
        "def test_instance(linreg_bench):\n    import impls\n"
        "    linreg_bench(impls.create('normal-equation', solver='svd'), 'd2l')\n"
    )
    result = run_pytest(downstream, "tests", "--benchmark-json", "out.json", *QUICK_TIMING)
    result.assert_outcomes(passed=3)
    found = benchmarks(downstream.path / "out.json")
    info = found["test_named"]["extra_info"]
    assert (info["impl"], info["status"], info["dtype"]) == ("normal-equation:solver=qr", "ok", "float64")
    tutorial = found["test_tutorial"]["extra_info"]  # the tutorial's SGD settings end far from the optimum
    assert (tutorial["impl"], tutorial["status"], tutorial["lr"]) == ("nn-linear", "not-recovered", 1e-5)
    assert found["test_instance"]["extra_info"]["impl"] == "normal-equation:solver=svd"  # labelled by what differs


BAD_CALLS = {
    "linreg_bench(MyLinReg(), 'no-such-problem')": "linreg_bench: unknown problem 'no-such-problem' (built-in*",
    "linreg_bench(MyLinReg, 'd2l')": "linreg_bench: pass an instance, MyLinReg(), not the class MyLinReg",
    "linreg_bench('no-such-impl', 'd2l')": "linreg_bench: unknown implementation 'no-such-impl'*",
    "linreg_bench(MyLinReg(), 'd2l', device='tpu')": "linreg_bench: unknown device 'tpu' (available: cpu, cuda)",
    "linreg_bench(MyLinReg(), 'd2l', alpha=1)": "linreg_bench: my-linreg: unknown option alpha (accepted: *",
}


def test_bad_arguments_fail_each_test_in_one_line(downstream):
    tests = "".join(f"def test_bad_{i}(linreg_bench):\n    {call}\n\n" for i, call in enumerate(BAD_CALLS))
    downstream.path.joinpath("tests", "test_mine.py").write_text(f"from mypkg import MyLinReg\n\n{tests}")
    result = run_pytest(downstream, "tests", "--benchmark-disable", "-p", "no:warnings")
    result.assert_outcomes(failed=len(BAD_CALLS))
    report = result.stdout.str().split("= FAILURES =")[1].split("short test summary")[0]
    for i, message in enumerate(BAD_CALLS.values()):
        section = report.split(f" test_bad_{i} _")[1].split("\n_")[0].split("\n---")[0]
        lines = [line for line in section.splitlines() if line.strip("=_ ")]
        assert len(lines) == 1 and fnmatch.fnmatch(lines[0], message), section
    assert "Traceback" not in report


def test_linreg_cases_parametrizes_over_problems_devices_and_dtypes():
    mark = linreg_cases(problems=["d2l", "univariate"], devices=["cpu"])
    assert mark.args[0] == ("problem", "device", "dtype")
    assert [p.id for p in mark.args[1]] == ["d2l-cpu-float32", "d2l-cpu-float64", "univariate-cpu-float32",
                                            "univariate-cpu-float64"]  # fmt: skip
    assert len(linreg_cases().args[1]) == len(QUICK_PROBLEMS) * 2 * 2


def test_linreg_cases_refuses_an_unknown_name_in_one_line():
    with pytest.raises(ValueError, match=r"^linreg_cases: unknown problem nope \(available: d2l, "):
        linreg_cases(problems=["nope"])


def test_the_fixture_drives_a_parametrized_test_in_one_line(downstream):
    downstream.path.joinpath("tests", "test_mine.py").write_text(
        "from bench.pytest_plugin import linreg_cases\nfrom mypkg import MyLinReg\n\n"
        "@linreg_cases(problems=['crop-yields-5'])\n"
        "def test_cases(linreg_bench, problem, device, dtype):\n"
        "    linreg_bench(MyLinReg(), problem, device=device, dtype=dtype)\n"
    )
    result = run_pytest(downstream, "tests", "--benchmark-disable", "-v")
    cuda = torch.cuda.is_available()
    result.assert_outcomes(passed=4 if cuda else 2, skipped=0 if cuda else 2)
    result.stdout.fnmatch_lines(["*test_cases?crop-yields-5-cpu-float32? PASSED*"])
