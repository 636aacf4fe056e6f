"""The documented plug-in contract, end to end: the example package under examples/ installed
into a temporary folder, found through its entry point by a fresh `linreg-bench` process."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "linreg-bench-ridge"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    target, source = tmp_path_factory.mktemp("site"), tmp_path_factory.mktemp("example")
    # built from a copy: building in place leaves build/ and *.egg-info in the checkout
    shutil.copytree(EXAMPLE, source, dirs_exist_ok=True, ignore=shutil.ignore_patterns("build", "*.egg-info"))
    install = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation", "--no-index",
               "--target", str(target), str(source)]  # fmt: skip
    done = subprocess.run(install, capture_output=True, text=True, timeout=300)
    if done.returncode != 0 and "setuptools" in done.stderr:
        pytest.skip(f"cannot build the example offline here: {done.stderr.strip().splitlines()[-1]}")
    assert done.returncode == 0, done.stderr
    return target


def linreg_bench(site: Path, *argv: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(site)}
    return subprocess.run([sys.executable, "-m", "bench", *argv], capture_output=True, text=True, cwd=cwd, env=env,
                          timeout=300)  # fmt: skip


def test_the_installed_example_is_listed_with_its_option(site, tmp_path):
    done = linreg_bench(site, "list", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    at = next(i for i, line in enumerate(lines) if line.split()[:1] == ["ridge"])
    assert "options: fit_intercept, alpha" in lines[at + 1]


def test_the_installed_example_runs_its_documented_command_judged_by_its_own_objective(site, tmp_path):
    """The README's `run --impl ridge --impl ridge:alpha=0.1 --impl normal-equation`: before, exit 1
    (alpha=0.1 float64 held to the least-squares digit floor while its float32 row was ok)."""
    out = tmp_path / "run"
    done = linreg_bench(site, "run", "--impl", "ridge", "--impl", "ridge:alpha=0.1", "--impl", "normal-equation",
                        "--device", "cpu", "--no-plots", "--no-roofline", "--rounds", "2", "--min-time", "0",
                        "--out", str(out), cwd=tmp_path)  # fmt: skip
    assert done.returncode == 0, done.stderr
    rows = pd.read_csv(out / "results.csv").set_index(["impl", "dtype"])
    assert set(rows["status"]) == {"ok"}
    assert rows.loc[("ridge:alpha=0.1", "float64"), "objective"] == "ridge alpha=0.1 (exact)"
    assert rows.loc[("ridge:alpha=0.1", "float64"), "objective_bias_se"] > 0  # shown, not failed
    assert (out / "models" / "ridge-cpu-float64.pt").is_file()


def test_without_the_package_the_name_is_unknown(tmp_path):
    done = subprocess.run([sys.executable, "-m", "bench", "run", "--impl", "ridge"], capture_output=True, text=True,
                          cwd=tmp_path)  # fmt: skip
    assert done.returncode == 2 and "unknown implementation 'ridge'" in done.stderr
