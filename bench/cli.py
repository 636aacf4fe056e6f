"""`linreg-bench`: run, list, predict. Exit 0 all passed, 1 a case failed, 2 bad usage or input."""

from __future__ import annotations

import argparse
import sys
from dataclasses import asdict, fields, replace
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from tqdm import tqdm

import impls
from bench import checks, conditioning, optimizers, plots, problems, roofline, scale, streaming, sweep, sweep_plots
from bench.ab import ABPlan, default_base, exported, resolve, run_ab
from bench.cases import DEVICES, DTYPES, ImplSpec, parse_dtype, plan
from bench.compare import CompareConfig, compare, machine_differences
from bench.csv_input import load_csv
from bench.errors import InputError
from bench.machine import PROJECT_ROOT, machine_info
from bench.reference import reference_solution
from bench.report import comparison_markdown, markdown_report, summary_table, sweep_report
from bench.runner import run
from bench.schema import exit_status
from bench.sources import LoadedResults, load_results
from bench.store import RunFolder, write_atomic
from bench.timing import TimingConfig
from impls import LinearFit, OptionError


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # argparse's own usage errors: one line, exit 2
        raise InputError(message)


def add_gate_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--fail-on-regression", action="store_true", help="exit 1 on a significant slowdown")
    parser.add_argument("--min-factor", type=float, default=1.10, help="smallest slowdown that fails (1.10)")
    parser.add_argument("--alpha", type=float, default=0.002, help="significance level of the rank test (0.002)")
    parser.add_argument("--out", type=Path, help="write comparison.csv and comparison.md here")


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="linreg-bench", description="Benchmark and compare linear-regression implementations.")
    commands = parser.add_subparsers(dest="command", parser_class=Parser)

    run_cmd = commands.add_parser("run", help="time and check implementations on one problem")
    data = run_cmd.add_argument_group("data")
    data.add_argument("--dataset", default="d2l", help="built-in problem (see `linreg-bench list`); default d2l")
    data.add_argument("--csv", type=Path, help="your own data: a CSV file with a header row")
    data.add_argument("--target", action="append", default=[], help="target column of --csv (repeatable)")
    data.add_argument("--certified", type=Path, help="certified values for --csv (JSON, as in bench/data/strd)")
    for name, kind in (("n", int), ("d", int), ("k", int), ("noise", float), ("seed", int)):
        data.add_argument(f"--{name}", type=kind, dest=f"synthetic_{name}", help=f"--dataset synthetic: {name}")
    what = run_cmd.add_argument_group("what runs")
    what.add_argument(
        "--impl",
        action="append",
        default=[],
        metavar="NAME[:key=value,...]",
        help="implementation, with options (repeatable; default all)",
    )
    what.add_argument("--device", choices=(*DEVICES, "all"), default="all")
    what.add_argument(
        "--dtype", action="append", default=[], choices=list(DTYPES), help="repeatable; default float32 and float64"
    )
    what.add_argument("--no-intercept", action="store_true", help="fit y = Xw (no bias)")
    training = run_cmd.add_argument_group("iterative methods (override the problem's tutorial settings)")
    training.add_argument("--epochs", type=int)
    training.add_argument("--lr", type=float)
    training.add_argument("--batch-size", type=int)
    training.add_argument("--optimizer")
    timing = run_cmd.add_argument_group("timing")
    timing.add_argument("--rounds", type=int, default=5, help="at least this many timed rounds (default 5)")
    timing.add_argument("--min-time", type=float, default=0.5, help="and at least this many seconds of them")
    timing.add_argument("--warmup", type=int, default=1, help="untimed rounds first (default 1)")
    run_cmd.add_argument("--out", type=Path, help="output folder (default results/<dataset>-<time>)")
    run_cmd.add_argument("--no-plots", action="store_true")
    run_cmd.add_argument(
        "--no-roofline", action="store_true", help="skip the machine-peak probe (measured once per machine and cached)"
    )
    run_cmd.add_argument(
        "--resume",
        type=Path,
        metavar="DIR",
        help="finish an interrupted run in DIR: cases already in its results.csv are kept",
    )
    run_cmd.set_defaults(handler=command_run)

    cond = commands.add_parser("conditioning", help="digits of agreement against the condition number")
    cond.add_argument("--cond", type=float, action="append", default=[], help="repeatable; default 1e0 ... 1e12")
    cond.add_argument(
        "--impl",
        action="append",
        default=[],
        metavar="NAME[:key=value,...]",
        help="default: every normal-equation solver, cholesky unscaled, sklearn",
    )
    cond.add_argument("--dtype", action="append", default=[], choices=list(DTYPES), help="default both")
    cond.add_argument("--n", type=int, default=1000)
    cond.add_argument("--d", type=int, default=10)
    cond.add_argument("--out", type=Path, help="output folder (default results/conditioning-<time>)")
    cond.set_defaults(handler=command_conditioning)

    sweep_cmd = commands.add_parser("sweep", help="compare optimizers: tuned lr, time-to-target, curves")
    sweep_cmd.add_argument("--dataset", default="d2l", help="built-in problem; default d2l")
    sweep_cmd.add_argument("--csv", type=Path, help="your own data instead (with --target)")
    sweep_cmd.add_argument("--target", action="append", default=[], help="target column of --csv")
    sweep_cmd.add_argument("--optimizer", action="append", default=[], help="repeatable; default: all presets")
    sweep_cmd.add_argument("--lr", type=float, action="append", default=[], help="repeatable; default 1e-5 ... 1 (11)")
    sweep_cmd.add_argument(
        "--batch-size",
        type=int,
        action="append",
        default=[],
        help="repeatable; default the problem's tutorial batch (LBFGS is always full batch)",
    )
    sweep_cmd.add_argument("--seeds", type=int, default=5, help="reruns of each optimizer's best lr (default 5)")
    sweep_cmd.add_argument("--epochs", type=int, help="budget per cell (default max(20, the tutorial's))")
    sweep_cmd.add_argument(
        "--excess-target",
        type=float,
        default=1e-6,
        dest="excess_target",
        help="target excess loss (L − L*)/L* (default 1e-6)",
    )
    sweep_cmd.add_argument(
        "--features",
        choices=("raw", "standardized", "both"),
        default="raw",
        help="fit on raw or standardised features (parameters mapped back), or both side by side",
    )
    sweep_cmd.add_argument(
        "--loader",
        choices=("tensor", "dataloader"),
        default="tensor",
        help="nn-linear batching (default tensor: DataLoader's per-row cost is not the optimizer's)",
    )
    sweep_cmd.add_argument("--dtype", choices=list(DTYPES), default="float64")
    sweep_cmd.add_argument("--out", type=Path, help="output folder (default results/sweep-<dataset>-<time>)")
    sweep_cmd.set_defaults(handler=command_sweep)

    stream = commands.add_parser("stream", help="closed-form fit of data larger than memory, chunk by chunk")
    stream.add_argument("--csv", type=Path, help="a CSV read in chunks (with --target); default synthetic")
    stream.add_argument("--target", action="append", default=[])
    stream.add_argument("--n", type=int, default=10_000_000, help="synthetic rows (default 1e7)")
    stream.add_argument("--d", type=int, default=10)
    stream.add_argument("--noise", type=float, default=0.1)
    stream.add_argument("--seed", type=int, default=0)
    stream.add_argument("--chunk-rows", type=int, default=1_000_000)
    stream.add_argument("--out", type=Path, help="output folder (default results/stream-<time>)")
    stream.set_defaults(handler=command_stream)

    scale_cmd = commands.add_parser("scale", help="fit time against n and d, growth exponents, log-log plot")
    scale_cmd.add_argument(
        "--impl",
        action="append",
        default=[],
        metavar="NAME[:key=value,...]",
        help="default: every implementation (nn-linear with loader=tensor)",
    )
    scale_cmd.add_argument("--n", type=int, action="append", default=[], help="repeatable; default 1e3 ... 1e7")
    scale_cmd.add_argument("--d", type=int, action="append", default=[], help="repeatable; default 1 ... 1000")
    scale_cmd.add_argument("--budget", type=float, default=20.0, help="seconds per fit before larger sizes stop")
    scale_cmd.add_argument("--dtype", choices=list(DTYPES), default="float64")
    scale_cmd.add_argument("--out", type=Path, help="output folder (default results/scale-<time>)")
    scale_cmd.set_defaults(handler=command_scale)

    list_cmd = commands.add_parser("list", help="the built-in problems and the implementations")
    list_cmd.set_defaults(handler=command_list)

    compare_cmd = commands.add_parser("compare", help="compare two runs' timings: which cases got slower")
    compare_cmd.add_argument("base", type=Path, help="run folder, results.csv or pytest-benchmark JSON")
    compare_cmd.add_argument("new", type=Path, help="run folder, results.csv or pytest-benchmark JSON")
    add_gate_arguments(compare_cmd)
    compare_cmd.set_defaults(handler=command_compare)

    ab = commands.add_parser("ab", help="benchmark two git revisions side by side, rounds interleaved, and compare")
    ab.add_argument("--base", help="base revision (default: merge base with main; HEAD~1 on main)")
    ab.add_argument("--dataset", action="append", default=[], help="repeatable; default d2l (the quick suite)")
    ab.add_argument("--impl", action="append", default=[], metavar="NAME[:key=value,...]", help="default all")
    ab.add_argument("--device", choices=DEVICES, default="cpu")
    ab.add_argument("--dtype", action="append", default=[], choices=list(DTYPES), help="default float32")
    ab.add_argument("--rounds", type=int, default=20, help="interleaved rounds per side (default 20)")
    ab.add_argument(
        "--inject-slowdown",
        action="append",
        default=[],
        metavar="IMPL=FACTOR",
        help="stretch IMPL's fits on the new side by FACTOR: checks that the gate catches it",
    )
    add_gate_arguments(ab)
    ab.set_defaults(handler=command_ab)

    predict = commands.add_parser("predict", help="load a saved model and predict for new inputs")
    predict.add_argument("model", type=Path, help="a models/*.pt file written by `run`")
    predict.add_argument("row", nargs="+", help="one input row as comma-separated numbers (repeatable)")
    predict.set_defaults(handler=command_predict)
    return parser


def _problem(args: argparse.Namespace) -> problems.Problem:
    synthetic = {
        k.removeprefix("synthetic_"): v for k, v in vars(args).items() if k.startswith("synthetic_") and v is not None
    }
    if args.csv is not None:
        if synthetic:
            raise InputError("--n/--d/--k/--noise/--seed apply to --dataset synthetic, not --csv")
        return load_csv(args.csv, args.target, certified=args.certified)
    if args.target or args.certified:
        raise InputError("--target and --certified need --csv")
    if synthetic and args.dataset != "synthetic":
        raise InputError(f"--n/--d/--k/--noise/--seed apply to --dataset synthetic, not {args.dataset}")
    return problems.load(args.dataset, **synthetic)


def _devices(choice: str) -> list[str]:
    return list(DEVICES) if choice == "all" else [choice]


def command_run(args: argparse.Namespace) -> int:
    problem = _problem(args)
    specs = [ImplSpec.parse(text) for text in args.impl] or [ImplSpec(name) for name in impls.available()]
    dtypes = [parse_dtype(name) for name in (args.dtype or ["float32", "float64"])]
    overrides = {
        k: v
        for k, v in (
            ("epochs", args.epochs),
            ("lr", args.lr),
            ("batch_size", args.batch_size),
            ("optimizer", args.optimizer),
        )
        if v is not None
    }
    for spec in specs:  # validate overrides once, before anything runs
        if impls.implementation_class(spec.name).iterative:
            spec.create({**problem.training_for(spec.name), **overrides})
    try:
        timing = TimingConfig(
            warmup=args.warmup, min_rounds=args.rounds, max_rounds=max(200, args.rounds), min_time=args.min_time
        )
    except ValueError as exc:
        raise InputError(str(exc)) from None
    fit_intercept = problem.fit_intercept and not args.no_intercept
    if args.resume is not None and args.out is not None and args.resume != args.out:
        raise InputError("--resume DIR writes to DIR; leave out --out")
    out = args.resume or args.out or Path("results") / f"{problem.name}-{datetime.now():%Y%m%d-%H%M%S}"
    if args.resume is not None and not (out / "results.csv").is_file():
        raise InputError(f"--resume {out}: no results.csv there to resume")
    with RunFolder(out).locked() as folder:
        return _run_into(folder, problem, specs, dtypes, overrides, timing, fit_intercept, args)


def _run_into(folder, problem, specs, dtypes, overrides, timing, fit_intercept, args) -> int:
    out = folder.root
    finished = folder.load_finished() if args.resume is not None else set()
    machine = machine_info()
    measured_peaks: dict[str, dict] = {}

    def peaks_for(device: str, dtype: torch.dtype) -> roofline.Peaks:
        found = roofline.peaks(device, dtype)
        measured_peaks[f"{device}-{found.dtype}"] = asdict(found)
        machine["peaks"] = measured_peaks
        folder.write_json("machine.json", machine)
        return found

    if args.no_roofline:
        peaks_for = None
    folder.write_json("machine.json", machine)
    cases = [c for c in plan(specs, _devices(args.device), dtypes) if (*c.key, problem.name) not in finished]
    if finished:
        print(f"resuming {out}: {len(finished)} case(s) already finished, {len(cases)} to run", file=sys.stderr)

    with tqdm(total=len(cases), desc=problem.name, unit="case", file=sys.stderr, disable=None) as bar:

        def on_outcome(outcome) -> None:
            folder.add(outcome)
            bar.set_postfix_str(
                f"{outcome.row['impl']} {outcome.case.device} {outcome.row['dtype']}: {outcome.row['status']}"
            )
            bar.update()

        outcomes = run(problem, cases, timing, overrides, fit_intercept, on_outcome, peaks_for)

    results = folder.results()
    reference = reference_solution(problem.X, problem.y, fit_intercept)
    drawn = []
    if not args.no_plots:
        title = f"{problem.name} (n={problem.n}, d={problem.d}, k={problem.k})"
        fits = {
            o.row["impl"]: o.fit
            for o in outcomes
            if o.fit is not None and o.case.dtype == torch.float64 and o.case.device == "cpu"
        }
        for path in (
            plots.loss_curves(folder.curves_table(), reference.mse, out / "loss_curves.png", title),
            plots.fit_times(results, out / "fit_times.png", title),
            plots.data_and_fits(problem, fits, out / "data_and_fits.png"),
        ):
            if path is not None:
                drawn.append(path.name)
    folder.write_text("report.md", markdown_report(problem, reference, results, machine, drawn))
    print(summary_table(results).to_markdown(index=False, tablefmt="simple"))
    failed = results[results["status"].isin(["not-recovered", "diverged", "error"])]
    for _, row in failed.iterrows():
        print(f"{row['impl']} {row['device']} {row['dtype']}: {row['status']}: {row['reason']}", file=sys.stderr)
    print(f"\nwrote {out}/results.csv, report.md, models/", file=sys.stderr)
    return exit_status(results)


def command_conditioning(args: argparse.Namespace) -> int:
    specs = [ImplSpec.parse(text) for text in (args.impl or conditioning.DEFAULT_SPECS)]
    dtypes = [parse_dtype(name) for name in (args.dtype or ["float64", "float32"])]
    conds = args.cond or list(conditioning.DEFAULT_CONDS)
    if any(c < 1 for c in conds) or args.n < 2 or not 1 <= args.d < args.n:
        raise InputError("--cond must be >= 1, and 1 <= --d < --n")
    out = args.out or Path("results") / f"conditioning-{datetime.now():%Y%m%d-%H%M%S}"
    folder = RunFolder(out)
    with tqdm(total=len(conds) * len(specs) * len(dtypes), desc="conditioning", file=sys.stderr, disable=None) as bar:
        frame = conditioning.sweep(specs, dtypes, conds, args.n, args.d, on_row=lambda row: bar.update())
    write_atomic(out / "conditioning.csv", lambda p: frame.to_csv(p, index=False))
    conditioning.plot(frame, out / "conditioning.png")
    table = frame.pivot_table(index=["impl", "dtype"], columns="cond", values="digits", sort=False)
    table.columns = [f"κ={c:.0e}" for c in table.columns]
    text = table.round(1).to_markdown()
    folder.write_text("conditioning.md", f"# Digits of agreement against conditioning\n\n{text}\n\n"
                      "![conditioning](conditioning.png)\n")  # fmt: skip
    print(text)
    print(f"\nwrote {out}/conditioning.csv, conditioning.md, conditioning.png", file=sys.stderr)
    return 0


def command_sweep(args: argparse.Namespace) -> int:
    if args.csv is not None:
        problem = load_csv(args.csv, args.target)
    elif args.target:
        raise InputError("--target needs --csv")
    else:
        problem = problems.load(args.dataset)
    names = args.optimizer or list(optimizers.DEFAULT)
    for name in names:
        optimizers.resolve(name)
    if any(lr <= 0 for lr in args.lr) or any(b < 1 for b in args.batch_size) or args.seeds < 1:
        raise InputError("--lr must be > 0, --batch-size >= 1 and --seeds >= 1")
    if args.epochs is not None and args.epochs < 1:
        raise InputError(f"--epochs must be >= 1, got {args.epochs}")
    config = sweep.SweepConfig(
        optimizers=tuple(names),
        lrs=tuple(args.lr) or tuple(float(v) for v in np.logspace(-5, 0, 11)),
        batch_sizes=tuple(args.batch_size) or (int(problem.training.get("batch_size", 10)),),
        seeds=args.seeds,
        epochs=args.epochs or max(20, int(problem.training.get("epochs", 3))),
        target=args.excess_target,
        loader=args.loader,
        dtype=parse_dtype(args.dtype),
    )
    out = args.out or Path("results") / f"sweep-{problem.name}-{datetime.now():%Y%m%d-%H%M%S}"
    scalings = {"raw": [False], "standardized": [True], "both": [False, True]}[args.features]
    with RunFolder(out).locked() as folder:
        sections = []
        for standardize in scalings:
            sub = RunFolder(out / ("standardized" if standardize else "raw")) if len(scalings) > 1 else folder
            prefix = f"{sub.root.name}/" if sub is not folder else ""
            sections.append(_sweep_into(sub, problem, replace(config, standardize=standardize), prefix))
        intro = "" if len(scalings) == 1 else "raw/ and standardized/ hold each one's tables and plots.\n\n"
        text = f"# linreg-bench sweep: {problem.name}\n\n{intro}" + "\n".join(sections)
        folder.write_text("sweep.md", text)
    print(text)
    print(f"wrote {out}: sweep.csv, curves.csv, summary.csv, sweep.md and plots", file=sys.stderr)
    return 0


def _sweep_into(folder: RunFolder, problem: problems.Problem, config: sweep.SweepConfig, link_prefix: str = "") -> str:
    """One sweep into `folder`; returns its report section (plot links relative to the parent)."""
    ref = reference_solution(problem.X, problem.y, problem.fit_intercept)
    rows: list[dict] = []
    curve_rows: list[dict] = []

    def persist(cell: sweep.Cell) -> None:
        rows.append(cell.row)
        curve_rows.extend({**{k: cell.row[k] for k in ("optimizer", "lr", "batch_size", "seed", "phase")}, **p}
                          for p in cell.curve)  # fmt: skip
        write_atomic(folder.root / "sweep.csv", lambda p: pd.DataFrame(rows).to_csv(p, index=False))
        write_atomic(folder.root / "curves.csv", lambda p: pd.DataFrame(curve_rows).to_csv(p, index=False))

    def run_all(cells: list[sweep.Cell], phase: str) -> None:
        for cell in tqdm(cells, desc=f"{problem.name}: {phase}", unit="cell", file=sys.stderr, disable=None):
            persist(sweep.run_cell(problem, ref, config, cell))

    run_all(sweep.plan_tuning(config), "tuning lr")
    run_all(sweep.plan_seeds(config, rows), "best lr over seeds")
    summary = pd.DataFrame(sweep.summarize(rows))
    write_atomic(folder.root / "summary.csv", lambda p: summary.to_csv(p, index=False))
    frame, curves = pd.DataFrame(rows), pd.DataFrame(curve_rows)
    scale = "standardised features" if config.standardize else "raw features"
    title = f"{problem.name}, {scale}"
    drawn = [
        sweep_plots.convergence(curves, "epoch", config.target, folder.root / "excess_vs_epoch.png", title),
        sweep_plots.convergence(curves, "seconds", config.target, folder.root / "excess_vs_seconds.png", title),
        sweep_plots.time_to_target(summary, folder.root / "time_to_target.png", title),
        sweep_plots.lr_sensitivity(frame, folder.root / "lr_sensitivity.png", title),
    ]
    names = [p.name for p in drawn if p is not None]
    folder.write_text("sweep.md", sweep_report(problem, config, summary, names))
    return sweep_report(problem, config, summary, [f"{link_prefix}{name}" for name in names])


def command_stream(args: argparse.Namespace) -> int:
    if args.chunk_rows < 2 or args.n < 2 or args.d < 1:
        raise InputError("--chunk-rows and --n must be >= 2, --d >= 1")
    truth = None
    if args.csv is not None:
        chunks, source = streaming.csv_chunks(args.csv, args.target, args.chunk_rows), str(args.csv)
    else:
        chunks, weight, bias = streaming.synthetic_chunks(args.n, args.d, 1, args.noise, args.seed, args.chunk_rows)
        truth, source = (weight, bias), f"synthetic n={args.n:,} d={args.d} noise={args.noise} seed={args.seed}"
    out = args.out or Path("results") / f"stream-{datetime.now():%Y%m%d-%H%M%S}"
    fit, info, seconds = streaming.stream_fit(tqdm(chunks, desc="chunks", unit="chunk", file=sys.stderr, disable=None))
    row = {
        "source": source, "n": info["n"], "d": fit.n_features, "chunk_rows": args.chunk_rows, "time_s": seconds,
        "rows_per_s": info["n"] / seconds, "peak_rss_mb": streaming.peak_rss_bytes() / 2**20, "rank": info["rank"],
        "cond_scaled_gram": info["cond_scaled_gram"], "status": "ok", "reason": "",
    }  # fmt: skip
    if truth is not None:
        errors = torch.cat([(fit.weight - truth[0]).abs() / info["se_weight"],
                            ((fit.bias - truth[1]).abs() / info["se_bias"])[:, None]], dim=1)  # fmt: skip
        tolerance = checks.truth_tolerance(errors.numel())
        row.update(truth_error_se=float(errors.max()), truth_tol_se=tolerance)
        if row["truth_error_se"] > tolerance:
            row.update(status="not-recovered", reason=f"{row['truth_error_se']:.3g} SE from the truth")
    folder = RunFolder(out)
    write_atomic(out / "stream.csv", lambda p: pd.DataFrame([row]).to_csv(p, index=False))
    folder.models.mkdir(parents=True, exist_ok=True)
    write_atomic(folder.models / "normal-equation-stream.pt", fit.save)
    folder.write_json("machine.json", machine_info())
    print(pd.DataFrame([row]).drop(columns=["source"]).to_markdown(index=False, floatfmt=".4g"))
    print(f"wrote {out}/stream.csv, models/normal-equation-stream.pt", file=sys.stderr)
    return 0 if row["status"] == "ok" else 1


def command_scale(args: argparse.Namespace) -> int:
    default = [
        ImplSpec.parse("nn-linear:loader=tensor") if n == "nn-linear" else ImplSpec(n) for n in impls.available()
    ]
    specs = [ImplSpec.parse(text) for text in args.impl] or default
    ns, ds = tuple(args.n) or scale.DEFAULT_NS, tuple(args.d) or scale.DEFAULT_DS
    if min(ns) < 2 or min(ds) < 1 or args.budget <= 0:
        raise InputError("--n must be >= 2, --d >= 1 and --budget > 0")
    out = args.out or Path("results") / f"scale-{datetime.now():%Y%m%d-%H%M%S}"
    folder = RunFolder(out)
    rows: list[dict] = []

    def persist(row: dict) -> None:
        rows.append(row)
        write_atomic(out / "scale.csv", lambda p: pd.DataFrame(rows).to_csv(p, index=False))
        bar.update()

    total = len(scale.sizes(ns, ds)) * len(specs)
    with tqdm(total=total, desc="scale", unit="fit", file=sys.stderr, disable=None) as bar:
        frame = scale.study(specs, ns, ds, args.budget, parse_dtype(args.dtype), on_row=persist)
    scale.plot(frame, out / "scale.png")
    growth, winners = scale.exponents(frame), scale.fastest(frame)
    text = "\n".join([
        "# linreg-bench scale", "",
        f"Fit time against n (d = {scale.D_FOR_N}) and d (n = {scale.N_FOR_D:,}), {args.dtype}, on this machine. "
        "Iterative methods: one epoch, minibatches of n/100. Exponent: slope of log time on log size over "
        "each implementation's three largest sizes (time ∝ size^exponent).", "",
        "## Growth", "", growth.round(2).to_markdown(index=False), "",
        "## Fastest at each size (where the others stop being worth it)", "",
        winners.round(2).to_markdown(index=False), "", "![scale](scale.png)", "",
    ])  # fmt: skip
    folder.write_text("scale.md", text)
    print(text)
    return 0


def command_list(args: argparse.Namespace) -> int:
    print("problems:")
    for name in problems.available():
        doc = "n, d, k, noise, seed" if name == "synthetic" else problems.load(name).description
        print(f"  {name:16s} {doc}")
    print("  --csv PATH       your data: --target COL [--target COL ...], the other columns are features")
    print("\nimplementations:")
    for name in impls.available():
        cls = impls.implementation_class(name)
        devices = ", ".join(cls.devices)
        print(f"  {name:16s} {cls.summary} [{devices}]")
        options = ", ".join(f.name for f in fields(cls.Options))
        print(f"  {'':16s} options: {options}")
    return 0


def command_compare(args: argparse.Namespace) -> int:
    return report_comparison(load_results(args.base), load_results(args.new), args)


def report_comparison(base: LoadedResults, new: LoadedResults, args: argparse.Namespace) -> int:
    """Print (and with --out, write) the comparison; the exit status is the regression gate."""
    config = CompareConfig(alpha=args.alpha, min_factor=args.min_factor)
    comparison = compare(base, new, config)
    warnings = machine_differences(base.machine, new.machine)
    text = comparison_markdown(comparison, base.origin, new.origin, warnings, config.alpha, config.min_factor)
    print(text)
    if args.out is not None:
        folder = RunFolder(args.out)
        write_atomic(folder.root / "comparison.csv", lambda p: comparison.to_csv(p, index=False))
        folder.write_text("comparison.md", text)
        for name, side in (("base.csv", base), ("new.csv", new)):
            write_atomic(folder.root / name, lambda p, side=side: side.frame.to_csv(p, index=False))
    return 1 if args.fail_on_regression and comparison["regression"].any() else 0


def command_ab(args: argparse.Namespace) -> int:
    specs = [ImplSpec.parse(text) for text in args.impl] or [ImplSpec(name) for name in impls.available()]
    datasets = args.dataset or ["d2l"]
    for name in datasets:
        problems.load(name)  # an unknown name fails here, before any process starts
    dtypes = args.dtype or ["float32"]
    slowdown = {}
    for item in args.inject_slowdown:
        name, _, factor = item.partition("=")
        try:
            slowdown[impls.implementation_class(name).name] = float(factor)
        except ValueError:
            raise InputError(f"--inject-slowdown {item}: expected IMPL=FACTOR, e.g. sklearn=1.2") from None
    plan_ = ABPlan(
        [{"dataset": d, "impl": s.label, "device": args.device, "dtype": t} for d in datasets for s in specs
         for t in dtypes],
        rounds=args.rounds, slowdown=slowdown,
    )  # fmt: skip
    base_rev, why = (resolve(args.base), "given") if args.base else default_base()
    short = base_rev[:12]
    print(f"A/B: base {short} ({why}) vs new = the working tree, {args.rounds} interleaved rounds", file=sys.stderr)
    with exported(base_rev) as base_root:
        base, new = run_ab(base_root, PROJECT_ROOT, plan_, (f"base {short}", "working tree"))
    return report_comparison(base, new, args)


def command_predict(args: argparse.Namespace) -> int:
    if not args.model.is_file():
        raise InputError(f"{args.model}: no such model file")
    try:
        fit = LinearFit.load(args.model)
    except Exception as exc:
        raise InputError(f"{args.model}: cannot load ({exc})") from None
    try:
        rows = [[float(v) for v in row.split(",")] for row in args.row]
    except ValueError:
        raise InputError(f"inputs must be comma-separated numbers, got {' '.join(args.row)}") from None
    X = torch.tensor(rows, dtype=fit.weight.dtype)
    if X.shape[1] != fit.n_features:
        raise InputError(f"{args.model} expects {fit.n_features} features per row, got {X.shape[1]}")
    for row in fit.predict(X).tolist():
        print(",".join(f"{v:.6g}" for v in row))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        if args.command is None:
            parser.print_help()
            return 2
        return args.handler(args)
    except (InputError, OptionError) as exc:
        print(f"linreg-bench: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("linreg-bench: interrupted; every finished case is already written", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
