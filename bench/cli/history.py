"""`linreg-bench history`: stored runs over commits, the steps found in them, written as CSV,
Markdown and one HTML page."""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

from tqdm import tqdm

from bench.cli.written import closing_line
from bench.errors import InputError
from bench.history import collect
from bench.history.analysis import accuracy_changes, order_by_date_without_history, points, time_steps
from bench.history.commits import commit_order, no_history
from bench.history.gather import gather
from bench.reports import history_plots
from bench.reports.history_report import HistoryScope, history_markdown
from bench.reports.html import html_page
from bench.results import outputs
from bench.results.store import RunFolder


def _inside_git(path: Path) -> bool:
    try:
        return subprocess.run(["git", "-C", str(path), "rev-parse", "--git-dir"], capture_output=True,
                              timeout=10).returncode == 0  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return False


def _collect(args: argparse.Namespace, repo: Path, paths: list[Path]) -> list[str]:
    """`--commits A..B`: the benchmark subset at each commit not yet stored, into the storage folder;
    returns a line per commit that failed, for the report (those are named and skipped)."""
    if len(paths) > 1:
        raise InputError("--commits fills one pytest-benchmark storage folder: give at most one PATH")
    commits = collect.commits_in(repo, args.commits)
    failed: list[str] = []
    with tqdm(total=len(commits), desc="history: commits", unit="commit", file=sys.stderr, disable=None) as bar:

        def said(outcome: collect.Outcome) -> None:
            line = f"{outcome.commit.short} {outcome.status}" + (f": {outcome.reason}" if outcome.reason else "")
            tqdm.write(f"{line[:150]}  ({outcome.commit.subject[:60]})", file=sys.stderr)
            if outcome.status == "failed":
                failed.append(f"commit `{outcome.commit.short}` ({outcome.commit.subject[:60]}): not run, "
                              f"{outcome.reason[:300]}")  # fmt: skip
            bar.update()

        bar.set_postfix_str(f"{args.cases[:40]}…" if len(args.cases) > 40 else args.cases)
        before = set(paths[0].rglob("*.json")) if paths[0].is_dir() else set()
        outcomes = collect.collect(repo, commits, paths[0], args.cases, collect.pytest_runner, said)
    saved = sorted(p.relative_to(paths[0]).as_posix() for p in set(paths[0].rglob("*.json")) - before)
    if saved:  # pytest-benchmark wrote these, not this process: named here, the report's files below
        print(f"saved into {paths[0]}/: {', '.join(saved)}", file=sys.stderr)
    if all(o.status == "failed" for o in outcomes):
        raise InputError(f"--commits {args.commits}: no commit could be run ({failed[0]})")
    return failed


def command_history(args: argparse.Namespace) -> int:
    if not 0 < args.alpha < 1:
        raise InputError(f"--alpha {args.alpha}: must be between 0 and 1")
    if args.min_factor < 1:
        raise InputError(f"--min-factor {args.min_factor}: a slowdown factor is at least 1")
    repo = args.repo or Path.cwd()
    paths, failed = args.paths or [Path(".benchmarks")], []
    if args.commits is not None:
        failed = _collect(args, repo, paths)
    revision = args.rev or (args.commits.split("..")[-1] or "HEAD" if args.commits else "HEAD")
    order = commit_order(repo, revision) if args.repo or _inside_git(repo) else no_history()
    gathered = gather(paths, order)
    gathered.skipped += failed
    frame = order_by_date_without_history(gathered.frame)
    outside = sorted(frame.loc[frame["position"].isna(), "commit"].unique())
    series_points = points(frame)
    if series_points.empty:
        raise InputError(f"none of the stored runs is at a commit of {revision}'s history (give --rev or --repo)")
    steps = time_steps(series_points, args.alpha, args.min_factor)
    changes = accuracy_changes(series_points)
    out = args.out or Path("results") / "history"
    folder = RunFolder(out)
    with folder.locked():
        folder.remove_temporaries()
        folder.clear(outputs.HISTORY)  # history always replaces its own files, and only those
        drawn = [p.name for p in (
            history_plots.overview(series_points, steps, out / "history_overview.png"),
            history_plots.stepped_cases(series_points, steps, out / "history_steps.png"),
        ) if p is not None]  # fmt: skip
        scope = HistoryScope(revision, args.alpha, args.min_factor, gathered.skipped, outside)
        text = history_markdown(series_points, steps, changes, scope, drawn)
        folder.write_frame("history.csv", frame)
        folder.write_frame("points.csv", series_points)
        folder.write_frame("steps.csv", steps)
        folder.write_frame("accuracy.csv", changes)
        folder.write_text("history.md", text)
        folder.write_text("history.html", html_page(text, out, "linreg-bench history", {
            "points": series_points, "steps": steps, "accuracy": changes}))  # fmt: skip
    print(text)
    print(closing_line(out), file=sys.stderr)
    newest = series_points["position"].max()
    failing = steps[steps["regression"] & (steps["position"] == newest)]
    lost = changes[changes["regression"] & (changes["position"] == newest)]
    return 1 if args.fail_on_regression and (len(failing) or len(lost)) else 0
