"""`linreg-bench sweep`: the optimizer comparison."""

from __future__ import annotations

import argparse
import sys
import textwrap
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm import tqdm

from bench import problems
from bench.atomic import write_atomic
from bench.cli.written import closing_line
from bench.errors import InputError
from bench.harness.cases import parse_dtype
from bench.harness.machine import machine_info
from bench.harness.optimum import checked_reference
from bench.judge.reference import Reference
from bench.problems.csv_file import load_csv
from bench.reports import sweep_plots
from bench.reports.html import html_page
from bench.reports.sweep_report import sweep_console, sweep_report
from bench.results import outputs
from bench.results.store import RunFolder
from bench.studies import optimizer_sweep as sweep
from bench.studies import optimizers


def command_sweep(args: argparse.Namespace) -> int:
    if args.csv is not None:
        problem = load_csv(args.csv, args.target)
    elif args.target:
        raise InputError("--target needs --csv")
    else:
        problem = problems.load(args.dataset)
    names = args.optimizer or list(optimizers.DEFAULT)
    for name in names:
        optimizers.preset(name)
    if any(lr <= 0 for lr in args.lr) or any(b < 1 for b in args.batch_size) or args.seeds < 1:
        raise InputError("--lr must be > 0, --batch-size >= 1 and --seeds >= 1")
    if args.epochs is not None and args.epochs < 1:
        raise InputError(f"--epochs must be >= 1, got {args.epochs}")
    ref = checked_reference(problem, problem.fit_intercept)
    target, why = (args.excess_target, "given by --excess-target") if args.excess_target else (
        sweep.statistical_target(ref, problem.y))  # fmt: skip
    config = sweep.SweepConfig(
        optimizers=tuple(names),
        lrs=tuple(args.lr) or tuple(float(v) for v in np.logspace(-5, 0, 11)),
        batch_sizes=tuple(args.batch_size) or (int(problem.training.get("batch_size", 10)),),
        seeds=args.seeds,
        epochs=args.epochs or max(20, int(problem.training.get("epochs", 3))),
        target=target,
        target_why=why,
        loader=args.loader,
        dtype=parse_dtype(args.dtype),
    )
    out = args.out or Path("results") / f"sweep-{problem.name}-{datetime.now():%Y%m%d-%H%M%S}"
    scalings = {"raw": [False], "standardized": [True], "both": [False, True]}[args.features]
    cells = len(scalings) * len(config.optimizers) * len(config.batch_sizes) * (len(config.lrs) + config.seeds)
    with (
        RunFolder(out).locked() as folder,
        tqdm(total=cells, desc=f"sweep {problem.name}", unit="cell", file=sys.stderr, disable=None) as bar,
    ):
        folder.claim(outputs.SWEEP, args.overwrite)
        sections, console, data = [], [], {}
        for standardize in scalings:
            name = "standardized" if standardize else "raw"
            sub = RunFolder(out / name) if len(scalings) > 1 else folder
            prefix = f"{sub.root.name}/" if sub is not folder else ""
            section, summary = _sweep_into(sub, problem, ref, replace(config, standardize=standardize), bar, prefix)
            sections.append(section)
            console.append(sweep_console(problem, replace(config, standardize=standardize), summary))
            data |= {f"{name} {table}": pd.read_csv(sub.root / f"{table}.csv") for table in ("summary", "sweep")}
        intro = "" if len(scalings) == 1 else "raw/ and standardized/ hold each one's tables and plots.\n\n"
        machine = machine_info()
        ran_on = (f"Ran on {machine['cpu']} × {machine['cpu_count']}, torch {machine['torch']}, at commit "
                  f"`{machine.get('git_commit') or 'unknown'}`, {machine['time_utc']}.")  # fmt: skip
        text = f"# linreg-bench sweep: {problem.name}\n\n{ran_on}\n\n{intro}" + "\n".join(sections)
        folder.write_text("sweep.md", text)
        folder.write_text("sweep.html", html_page(text, out, f"linreg-bench sweep: {problem.name}", data))
    print("\n\n".join(console))
    print(f"\n{closing_line(out)}", file=sys.stderr)
    return 0


def _sweep_into(folder: RunFolder, problem: problems.Problem, ref: Reference, config: sweep.SweepConfig, bar: tqdm,
                link_prefix: str = "") -> tuple[str, pd.DataFrame]:  # fmt: skip
    """One sweep into `folder`; returns its report section (plot links relative to the parent) and
    its summary."""
    rows: list[dict] = []
    curve_rows: list[dict] = []

    def persist(cell: sweep.Cell) -> None:
        rows.append(cell.row)
        curve_rows.extend({**{k: cell.row[k] for k in ("optimizer", "lr", "batch_size", "seed", "phase")}, **p}
                          for p in cell.curve)  # fmt: skip
        write_atomic(folder.root / "sweep.csv", lambda p: pd.DataFrame(rows).to_csv(p, index=False))
        write_atomic(folder.root / "curves.csv", lambda p: pd.DataFrame(curve_rows).to_csv(p, index=False))

    def run_all(cells: list[sweep.Cell], phase: str) -> None:
        for cell in cells:
            bar.set_postfix_str(f"{phase}: {cell.optimizer} lr {cell.lr:.3g}" + (
                f" seed {cell.seed}" if cell.phase == "seeds" else ""))  # fmt: skip
            persist(sweep.run_cell(problem, ref, config, cell))
            bar.update()

    run_all(sweep.plan_tuning(config), "tuning lr")
    seeded = sweep.plan_seeds(config, rows)
    bar.total -= len(config.optimizers) * len(config.batch_sizes) * config.seeds - len(seeded)  # no lr: no seeds
    run_all(seeded, "best lr over seeds")
    summary = pd.DataFrame(sweep.summarize(rows, ref.mse))
    write_atomic(folder.root / "summary.csv", lambda p: summary.to_csv(p, index=False))
    frame, curves = pd.DataFrame(rows), pd.DataFrame(curve_rows)
    scale = "standardised features" if config.standardize else "raw features"
    title = f"{problem.name}, {scale}"
    styles = sweep_plots.optimizer_styles(list(config.optimizers))  # one look per optimizer in every plot
    notes = list(dict.fromkeys(filter(None, (sweep.lbfgs_stall_note(name, ref.mse) for name in config.optimizers))))
    root, target = folder.root, config.target
    drawn = [
        sweep_plots.convergence(curves, "epoch", target, root / "excess_vs_epoch.png", title, styles),
        sweep_plots.convergence(curves, "seconds", target, root / "excess_vs_seconds.png", title, styles),
        sweep_plots.time_to_target(summary, root / "time_to_target.png", title, styles),
        sweep_plots.lr_sensitivity(frame, root / "lr_sensitivity.png", title, styles, target,
                                   [textwrap.fill(note, 110) for note in notes]),
    ]  # fmt: skip
    names = [p.name for p in drawn if p is not None]
    folder.write_text("sweep.md", sweep_report(problem, config, summary, names))
    return sweep_report(problem, config, summary, [f"{link_prefix}{name}" for name in names]), summary
