"""Benchmarks at past commits, as `asv run A..B` does: each commit of a range checked out in a
temporary git worktree, its benchmark subset run there with pytest-benchmark, and the results saved
into pytest-benchmark's own storage, the store `history` reads.

Resumable: a commit whose results are already stored is not run again. A commit that fails to run
(its tests cannot import, or it has no benchmarks yet) is named and skipped; the others go on."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from bench.errors import InputError

# The quick subset scripts/history-demo.sh times: tutorial-sized CPU fits. This module imports nothing
# heavy, so the CLI grammar can show it in --help.
DEFAULT_CASES = ("d2l and cpu and float32 and not d2l-reference and "
                 "(manual-gradient or manual-autograd or normal-equation or sklearn)")  # fmt: skip
BENCHMARKS = "tests/benchmarks/test_fit.py"
LOG_TAIL = 400  # characters of a failed commit's pytest output kept in its reason


@dataclass(frozen=True)
class Commit:
    id: str
    subject: str

    @property
    def short(self) -> str:
        return self.id[:10]


@dataclass(frozen=True)
class Outcome:
    """What happened at one commit: `stored` (run now), `kept` (already stored), or `failed`."""

    commit: Commit
    status: str
    reason: str = ""


def _git(repo: Path, *args: str) -> str:
    try:
        done = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, timeout=120)
    except FileNotFoundError:
        raise InputError("git is not installed: history --commits needs it") from None
    if done.returncode != 0:
        message = done.stderr.strip().splitlines()[-1] if done.stderr.strip() else f"exit {done.returncode}"
        raise InputError(f"git {' '.join(args[:3])} in {repo}: {message}")
    return done.stdout


def commits_in(repo: Path, revisions: str) -> list[Commit]:
    """The commits of `A..B` (B's ancestors that are not A's), oldest first, as `git rev-list`; a
    single revision is that one commit."""
    if ".." in revisions:
        listed = _git(repo, "rev-list", "--reverse", "--topo-order", "--format=%H%x09%s", revisions, "--")
    else:
        listed = _git(repo, "rev-list", "--no-walk", "--format=%H%x09%s", revisions, "--")
    commits = [Commit(*[*line.split("\t", 1), ""][:2]) for line in listed.splitlines()
               if line and not line.startswith("commit ")]  # fmt: skip
    if not commits:
        raise InputError(f"--commits {revisions}: no commits in that range")
    return commits


def stored_commits(storage: Path) -> set[str]:
    """Commits that already have results in a pytest-benchmark storage folder (clean runs only)."""
    found = set()
    for path in storage.rglob("*.json") if storage.is_dir() else ():
        try:
            document = json.loads(path.read_text())
        except (OSError, UnicodeDecodeError, ValueError):
            continue
        info = document.get("commit_info") if isinstance(document, dict) else None
        if isinstance(info, dict) and info.get("id") and not info.get("dirty") and document.get("benchmarks"):
            found.add(str(info["id"]))
    return found


@contextmanager
def worktree(repo: Path, commit: str) -> Iterator[Path]:
    """`commit` checked out, detached, in a temporary folder; the worktree and folder go afterwards."""
    with tempfile.TemporaryDirectory(prefix="linreg-history-") as temp:
        tree = Path(temp) / "tree"
        _git(repo, "worktree", "add", "--detach", "--quiet", str(tree), commit)
        try:
            yield tree
        finally:
            subprocess.run(["git", "-C", str(repo), "worktree", "remove", "--force", str(tree)],
                           capture_output=True, timeout=120)  # fmt: skip
            subprocess.run(["git", "-C", str(repo), "worktree", "prune"], capture_output=True, timeout=120)


Runner = Callable[[Path, Commit, Path, str], tuple[int, str]]


def pytest_runner(tree: Path, commit: Commit, storage: Path, cases: str) -> tuple[int, str]:
    """The commit's own benchmarks, with this environment's Python and the commit's source first on
    the path; saved as `<short id>` in `storage` with the raw rounds. Returns (exit code, output)."""
    if not (tree / BENCHMARKS).is_file():
        return 4, f"{BENCHMARKS} does not exist at this commit"
    command = [sys.executable, "-m", "pytest", BENCHMARKS, "--benchmark-only", "-q", "-p", "no:cacheprovider",
               "-p", "no:xdist", "-k", cases, f"--benchmark-storage={storage}", f"--benchmark-save={commit.short}",
               "--benchmark-save-data"]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(tree)}
    done = subprocess.run(command, cwd=tree, env=env, capture_output=True, text=True)
    return done.returncode, done.stdout + done.stderr


def collect(
    repo: Path,
    commits: list[Commit],
    storage: Path,
    cases: str = DEFAULT_CASES,
    runner: Runner = pytest_runner,
    progress: Callable[[Outcome], None] | None = None,
) -> list[Outcome]:
    """Run the benchmark subset at every commit not yet stored; one `Outcome` per commit."""
    storage = storage.resolve()
    storage.mkdir(parents=True, exist_ok=True)
    done = stored_commits(storage)
    outcomes = []
    for commit in commits:
        if commit.id in done:
            outcome = Outcome(commit, "kept", "already stored")
        else:
            outcome = _run_one(repo, commit, storage, cases, runner)
        outcomes.append(outcome)
        if progress is not None:
            progress(outcome)
    return outcomes


def _run_one(repo: Path, commit: Commit, storage: Path, cases: str, runner: Runner) -> Outcome:
    try:
        with worktree(repo, commit.id) as tree:
            code, output = runner(tree, commit, storage, cases)
    except InputError as exc:
        return Outcome(commit, "failed", str(exc))
    if commit.id in stored_commits(storage):  # saved even when some case failed its check
        return Outcome(commit, "stored", "" if code == 0 else f"stored, but pytest exited {code}")
    tail = " ".join(output.split())[-LOG_TAIL:]
    return Outcome(commit, "failed", f"pytest exited {code} and stored nothing: {tail}")
