"""`linreg-bench history --commits A..B`: each commit of the range benchmarked in a temporary git
worktree of its own, saved in pytest-benchmark's storage, resumable, failures named and skipped.
A fake runner stands in for pytest over a throwaway repository, so the test is hermetic and quick."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from bench.cli import main
from bench.history import collect
from tests.test_history import benchmark_file, git


@pytest.fixture
def repo(tmp_path: Path) -> tuple[Path, list[str]]:
    """Five commits; the fourth adds a file that breaks its benchmarks (the fake runner reads it)."""
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    shas = []
    for i in range(5):
        if i == 3:
            (root / "BROKEN").write_text("x")
            git(root, "add", "BROKEN")
        if i == 4:
            git(root, "rm", "-q", "BROKEN")
        git(root, "commit", "-q", "--allow-empty", "-m", f"commit {i}")
        shas.append(git(root, "rev-parse", "HEAD"))
    return root, shas


class FakeRunner:
    """Writes one pytest-benchmark file per commit, as `pytest --benchmark-save` would, after
    checking it was handed a detached checkout of that very commit outside the repository."""

    def __init__(self, repo: Path) -> None:
        self.repo, self.calls, self.rng = repo, [], np.random.default_rng(0)

    def __call__(self, tree: Path, commit: collect.Commit, storage: Path, cases: str) -> tuple[int, str]:
        assert tree.resolve() != self.repo.resolve() and git(tree, "rev-parse", "HEAD") == commit.id
        self.calls.append(commit.id)
        if (tree / "BROKEN").exists():
            return 2, "ImportError: cannot import name 'fit' (the commit's own bug)"
        benchmark_file(storage / "Linux-CPython-3.11-64bit" / f"{len(self.calls):04d}_{commit.short}.json",
                       commit.id, {"sgd": 0.01}, self.rng)  # fmt: skip
        return 0, ""


def test_every_commit_of_the_range_is_run_once_in_its_own_worktree_and_a_broken_one_is_named(
    repo, tmp_path, monkeypatch, capsys
):
    root, shas = repo
    fake = FakeRunner(root)
    monkeypatch.setattr(collect, "pytest_runner", fake)
    storage, out = tmp_path / "storage", tmp_path / "history"
    args = ["history", str(storage), "--commits", f"{shas[0]}..{shas[4]}", "--repo", str(root), "--out", str(out)]
    assert main(args) == 0
    assert fake.calls == shas[1:]  # A..B: B's ancestors that are not A's, oldest first
    err = capsys.readouterr().err
    assert f"{shas[3][:10]} failed: pytest exited 2 and stored nothing: ImportError" in err
    assert f"saved into {storage}/: Linux-CPython-3.11-64bit/0001_{shas[1][:10]}.json" in err
    points = pd.read_csv(out / "points.csv")
    assert sorted(points["commit"].unique()) == sorted([shas[1], shas[2], shas[4]])  # the broken one skipped
    assert f"`{shas[3][:10]}` (commit 3): not run" in (out / "history.md").read_text()
    assert git(root, "worktree", "list").count("\n") == 0  # only the repository itself: worktrees removed

    fake.calls.clear()
    assert main([*args[:-2], "--out", str(tmp_path / "again")]) == 0  # resumed: only the failed one again
    assert fake.calls == [shas[3]]
    assert f"{shas[1][:10]} kept: already stored" in capsys.readouterr().err


def test_a_range_with_no_commits_or_a_bad_revision_is_one_line_exit_2(repo, tmp_path, capsys):
    root, shas = repo
    assert main(["history", "--commits", f"{shas[2]}..{shas[2]}", "--repo", str(root), "--out", str(tmp_path)]) == 2
    assert "no commits in that range" in capsys.readouterr().err
    assert main(["history", "--commits", "nope..HEAD", "--repo", str(root), "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("linreg-bench: error: git rev-list") and err.count("\n") == 1


def test_when_every_commit_fails_the_command_says_so_and_stores_nothing(repo, tmp_path, monkeypatch, capsys):
    root, shas = repo
    monkeypatch.setattr(collect, "pytest_runner", lambda tree, commit, storage, cases: (1, "no module named bench"))
    args = ["history", str(tmp_path / "s"), "--commits", f"{shas[0]}..{shas[2]}", "--repo", str(root), "--out",
            str(tmp_path / "h")]  # fmt: skip
    assert main(args) == 2
    assert "no commit could be run" in capsys.readouterr().err
    assert not (tmp_path / "h" / "history.csv").exists()


def test_the_real_runner_names_a_commit_without_benchmarks_and_runs_nothing(repo):
    root, shas = repo
    with collect.worktree(root, shas[0]) as tree:
        code, output = collect.pytest_runner(tree, collect.Commit(shas[0], "commit 0"), tree / "s", "x")
        assert tree.is_dir()
    assert code != 0 and "tests/benchmarks/test_fit.py does not exist at this commit" in output
    assert not tree.exists()


def test_stored_commits_reads_only_clean_runs_with_benchmarks(tmp_path):
    benchmark_file(tmp_path / "a.json", "abc", {"sgd": 0.01}, np.random.default_rng(0))
    (tmp_path / "broken.json").write_text("{")
    assert collect.stored_commits(tmp_path) == {"abc"}
    assert collect.stored_commits(tmp_path / "missing") == set()
