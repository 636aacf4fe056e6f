"""Where each commit sits in the repository's history: the order a time series is read in."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

from bench.errors import InputError


@dataclass(frozen=True)
class CommitOrder:
    """Commits of `revision`'s history, oldest first, with their subjects and commit dates."""

    position: dict[str, int]
    subject: dict[str, str]
    date: dict[str, str]

    def locate(self, commit: str) -> str | None:
        """The full id of a (possibly abbreviated) commit of this history."""
        if commit in self.position:
            return commit
        matches = [full for full in self.position if full.startswith(commit)] if len(commit) >= 7 else []
        return matches[0] if len(matches) == 1 else None


def _git(repo: Path, *args: str) -> str:
    try:
        done = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, check=True, timeout=60)
    except FileNotFoundError:
        raise InputError("git is not installed: history needs it to order commits") from None
    except subprocess.CalledProcessError as exc:
        message = exc.stderr.strip().splitlines()[-1] if exc.stderr.strip() else f"exit {exc.returncode}"
        raise InputError(f"--repo {repo}: git {' '.join(args[:2])} failed: {message}") from None
    return done.stdout


def commit_order(repo: Path, revision: str = "HEAD") -> CommitOrder:
    """`git log --topo-order` of `revision`: parents before children, whatever the commit dates say."""
    out = _git(repo, "log", "--topo-order", "--reverse", "--format=%H%x09%cI%x09%s", revision)
    position, subject, date = {}, {}, {}
    for index, line in enumerate(out.splitlines()):
        commit, when, text = ([*line.split("\t", 2), "", ""])[:3]
        position[commit], date[commit], subject[commit] = index, when, text
    return CommitOrder(position, subject, date)


def no_history() -> CommitOrder:
    """Outside a git repository: commits are ordered by the dates the runs recorded."""
    return CommitOrder({}, {}, {})
