"""`linreg-bench history`: steps found at the commit that made them and nowhere else, over a throwaway
git repository whose commits carry pytest-benchmark files with a known history."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from bench.cli import main
from bench.history.commits import commit_order
from bench.history.machines import machine_key
from bench.history.steps import find_steps
from bench.reports.html import embedded_data

MACHINE = {"cpu": "Test CPU", "cpu_count": 2, "torch": "2.13.0+cpu", "torch_blas": "MKL", "cuda_version": None,
           "cuda_device": None}  # fmt: skip
GIT_ENV = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@t"}


def git(repo: Path, *args: str, date: str | None = None) -> str:
    env = {**os.environ, **GIT_ENV, **({"GIT_AUTHOR_DATE": date, "GIT_COMMITTER_DATE": date} if date else {})}
    return subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, check=True,
                          env=env).stdout.strip()  # fmt: skip


def throwaway_repo(tmp_path: Path, commits: int, dates: list[str] | None = None) -> tuple[Path, list[str]]:
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    shas = []
    for i in range(commits):
        git(repo, "commit", "-q", "--allow-empty", "-m", f"commit {i}", date=dates[i] if dates else None)
        shas.append(git(repo, "rev-parse", "HEAD"))
    return repo, shas


def benchmark_file(path: Path, commit: str, cases: dict[str, float], rng: np.random.Generator, *,
                   run_noise: float = 0.02, digits: dict[str, float] | None = None,
                   status: dict[str, str] | None = None, when: str = "2026-11-01T00:00:00") -> None:  # fmt: skip
    """A pytest-benchmark JSON as our conftest saves it: raw rounds, our machine record, the commit."""
    benchmarks = []
    for impl, seconds in cases.items():
        offset = rng.normal(0, run_noise)  # one process differs from another
        rounds = seconds * np.exp(offset + rng.normal(0, 0.01, 30))
        q1, q3 = np.percentile(rounds, [25, 75])
        benchmarks.append({
            "name": f"test_fit[{impl}]", "group": "d2l",
            "extra_info": {"impl": impl, "device": "cpu", "dtype": "float32", "dataset": "d2l",
                           "status": (status or {}).get(impl, "ok"), "digits_ref": (digits or {}).get(impl, 6.0)},
            "stats": {"median": float(np.median(rounds)), "iqr": float(q3 - q1), "rounds": len(rounds),
                      "data": rounds.tolist()},
        })  # fmt: skip
    document = {"machine_info": {"linreg_bench": MACHINE}, "benchmarks": benchmarks, "datetime": when,
                "commit_info": {"id": commit, "dirty": False, "time": when}}  # fmt: skip
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document))


def history(tmp_path: Path, repo: Path, *extra: str) -> tuple[int, Path]:
    out = tmp_path / "history"
    code = main(["history", str(tmp_path / ".benchmarks"), "--repo", str(repo), "--out", str(out), *extra])
    return code, out


def test_a_step_is_found_at_the_commit_that_made_it_and_a_flat_series_with_the_same_noise_has_none(tmp_path):
    repo, shas = throwaway_repo(tmp_path, 10)
    rng = np.random.default_rng(3)
    for i, sha in enumerate(shas):
        slowed = 1.3 if i >= 6 else 1.0
        benchmark_file(tmp_path / ".benchmarks" / "Linux" / f"{i + 1:04d}_{sha[:8]}.json", sha,
                       {"stepped": 0.010 * slowed, "flat": 0.010}, rng)  # fmt: skip
    code, out = history(tmp_path, repo)
    assert code == 0
    steps = pd.read_csv(out / "steps.csv")
    assert len(steps) == 1, steps
    step = steps.iloc[0]
    assert step["impl"] == "stepped" and step["first_after"] == shas[6] and step["last_before"] == shas[5]
    assert step["factor_low"] < 1.3 < step["factor_high"] and step["regression"]
    text = (out / "history.md").read_text()
    assert f"`{shas[5][:10]}` → `{shas[6][:10]}`" in text and "**regression**" in text


def test_fail_on_regression_fires_only_when_the_newest_commit_stepped(tmp_path):
    repo, shas = throwaway_repo(tmp_path, 8)
    rng = np.random.default_rng(5)
    for i, sha in enumerate(shas):
        benchmark_file(tmp_path / ".benchmarks" / f"{i:04d}.json", sha, {"a": 0.01 * (1.5 if i == 7 else 1.0)}, rng,
                       run_noise=0.005)  # fmt: skip
    code, out = history(tmp_path, repo, "--fail-on-regression")
    steps = pd.read_csv(out / "steps.csv")
    assert list(steps["first_after"]) == [shas[7]]
    assert code == 1
    # the same history read at the commit before: the step is not there, the gate stays green
    code, out = history(tmp_path, repo, "--fail-on-regression", "--rev", shas[6])
    assert code == 0 and pd.read_csv(out / "steps.csv").empty


def test_lost_digits_and_a_status_change_are_regressions_whatever_the_time_does(tmp_path):
    repo, shas = throwaway_repo(tmp_path, 6)
    rng = np.random.default_rng(7)
    for i, sha in enumerate(shas):
        benchmark_file(tmp_path / ".benchmarks" / f"{i:04d}.json", sha, {"a": 0.01, "b": 0.01}, rng,
                       digits={"a": 6.0 if i < 3 else 5.8, "b": 6.0},
                       status={"b": "ok" if i < 4 else "not-recovered"})  # fmt: skip
    code, out = history(tmp_path, repo)
    assert code == 0  # not asked to fail
    changes = pd.read_csv(out / "accuracy.csv")
    lost = changes[changes["what"] == "digits_ref"].iloc[0]
    assert (lost["impl"], lost["first_after"], lost["regression"]) == ("a", shas[3], True)
    status = changes[changes["what"] == "status"].iloc[0]
    assert (status["impl"], status["first_after"], status["after"], status["regression"]) == (
        "b", shas[4], "not-recovered", True)  # fmt: skip
    assert len(changes) == 2  # and nothing else changed
    assert pd.read_csv(out / "steps.csv").empty


def test_commits_are_ordered_by_the_git_history_not_by_their_dates(tmp_path):
    dates = [f"2026-01-{28 - i:02d}T12:00:00+00:00" for i in range(5)]  # each commit dated before its parent
    repo, shas = throwaway_repo(tmp_path, 5, dates)
    order = commit_order(repo)
    assert [order.position[s] for s in shas] == [0, 1, 2, 3, 4]
    assert order.locate(shas[2][:9]) == shas[2] and order.locate("nothere") is None


def test_runs_outside_the_history_are_left_out_and_said(tmp_path):
    repo, shas = throwaway_repo(tmp_path, 4)
    rng = np.random.default_rng(1)
    for i, sha in enumerate(shas):
        benchmark_file(tmp_path / ".benchmarks" / f"{i:04d}.json", sha, {"a": 0.01}, rng)
    benchmark_file(tmp_path / ".benchmarks" / "9999.json", "f" * 40, {"a": 0.02}, rng)
    code, out = history(tmp_path, repo)
    assert code == 0
    assert f"runs at commit `{'f' * 10}`: not in the history of HEAD" in (out / "history.md").read_text()
    assert pd.read_csv(out / "points.csv")["commit"].nunique() == 4


def test_a_named_file_that_is_not_a_benchmark_is_one_line_exit_2(tmp_path, capsys):
    repo, _ = throwaway_repo(tmp_path, 1)
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    assert main(["history", str(bad), "--repo", str(repo), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "bad.json" in err[0] and "not a readable pytest-benchmark JSON" in err[0]
    assert main(["history", str(tmp_path / "missing"), "--out", str(tmp_path / "o")]) == 2


def test_the_history_page_is_self_contained_and_carries_its_data(tmp_path):
    repo, shas = throwaway_repo(tmp_path, 6)
    rng = np.random.default_rng(2)
    for i, sha in enumerate(shas):
        benchmark_file(tmp_path / ".benchmarks" / f"{i:04d}.json", sha, {"a": 0.01 * (2 if i >= 3 else 1)}, rng)
    _, out = history(tmp_path, repo)
    page = (out / "history.html").read_text()
    assert 'src="http' not in page and 'href="http' not in page and "<link" not in page
    assert page.count("<svg") == 2  # the overview and the stepped case, inline
    data = embedded_data(page)
    assert data["steps"][0]["first_after"] == shas[3] and len(data["points"]) == 6


def test_the_machine_key_ignores_what_changes_run_to_run_and_not_the_software():
    base = {**MACHINE, "time_utc": "x", "host": "a", "load_average_1m": 0.1, "git_commit": "abc"}
    volatile = {**base, "time_utc": "y", "host": "b", "load_average_1m": 3.0, "git_commit": "def"}
    assert machine_key(base) == machine_key(volatile)
    assert machine_key(base) != machine_key({**base, "torch": "2.14.0+cpu"})
    assert machine_key(base) != machine_key({**base, "cuda_device": "NVIDIA H100"})


def test_no_step_in_flat_series_and_steps_where_they_are():
    rng = np.random.default_rng(11)
    false_alarms = sum(bool(find_steps(rng.normal(0, 0.03, 12), np.full(12, 0.005), alpha=0.01)) for _ in range(200))
    assert false_alarms <= 6  # α = 0.01 per series: 2 expected in 200
    levels = rng.normal(0, 0.01, 12)
    levels[4:] += np.log(1.2)
    levels[9:] -= np.log(1.5)
    steps = find_steps(levels, np.full(12, 0.005))
    assert [s.index for s in steps] == [4, 9]
    assert steps[0].low < 1.2 < steps[0].high and steps[1].factor == pytest.approx(1 / 1.5, rel=0.05)


def test_a_noisy_point_weighs_less_than_a_precise_one():
    """The same jump reads as a step where the points are precise, and as noise where the run that
    jumped had rounds spread over ±30% (its own SE says so)."""
    levels = np.array([0.0, 0.002, -0.001, 0.001, 0.0, 0.25, 0.001, -0.002, 0.0, 0.001])
    precise = np.full(10, 0.002)
    assert [s.index for s in find_steps(levels, precise)] == [5, 6]  # up at commit 5, back at 6
    noisy = precise.copy()
    noisy[5] = 0.3
    assert find_steps(levels, noisy) == []
