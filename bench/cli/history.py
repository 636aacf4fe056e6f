"""`linreg-bench history`: stored runs over commits, the steps found in them, written as CSV,
Markdown and one HTML page."""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

from bench.errors import InputError
from bench.history.analysis import accuracy_changes, order_by_date_without_history, points, time_steps
from bench.history.commits import commit_order, no_history
from bench.history.gather import gather
from bench.reports import history_plots
from bench.reports.history_report import HistoryScope, history_markdown
from bench.reports.html import html_page
from bench.results import outputs
from bench.results.store import RunFolder

OUTPUTS = outputs.HISTORY.files[:6]


def _inside_git(path: Path) -> bool:
    try:
        return subprocess.run(["git", "-C", str(path), "rev-parse", "--git-dir"], capture_output=True,
                              timeout=10).returncode == 0  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return False


def command_history(args: argparse.Namespace) -> int:
    if not 0 < args.alpha < 1:
        raise InputError(f"--alpha {args.alpha}: must be between 0 and 1")
    if args.min_factor < 1:
        raise InputError(f"--min-factor {args.min_factor}: a slowdown factor is at least 1")
    repo = args.repo or Path.cwd()
    order = commit_order(repo, args.rev) if args.repo or _inside_git(repo) else no_history()
    gathered = gather(args.paths or [Path(".benchmarks")], order)
    frame = order_by_date_without_history(gathered.frame)
    outside = sorted(frame.loc[frame["position"].isna(), "commit"].unique())
    series_points = points(frame)
    if series_points.empty:
        raise InputError(f"none of the stored runs is at a commit of {args.rev}'s history (give --rev or --repo)")
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
        scope = HistoryScope(args.rev, args.alpha, args.min_factor, gathered.skipped, outside)
        text = history_markdown(series_points, steps, changes, scope, drawn)
        folder.write_frame("history.csv", frame)
        folder.write_frame("points.csv", series_points)
        folder.write_frame("steps.csv", steps)
        folder.write_frame("accuracy.csv", changes)
        folder.write_text("history.md", text)
        folder.write_text("history.html", html_page(text, out, "linreg-bench history", {
            "points": series_points, "steps": steps, "accuracy": changes}))  # fmt: skip
    print(text)
    print(f"wrote {out}/: {', '.join([*OUTPUTS, *drawn])}", file=sys.stderr)
    newest = series_points["position"].max()
    failing = steps[steps["regression"] & (steps["position"] == newest)]
    lost = changes[changes["regression"] & (changes["position"] == newest)]
    return 1 if args.fail_on_regression and (len(failing) or len(lost)) else 0
