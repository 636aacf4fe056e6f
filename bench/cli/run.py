"""`linreg-bench run`: time and check implementations on one problem."""

from __future__ import annotations

import argparse
import json
import sys
from contextlib import ExitStack
from dataclasses import asdict
from datetime import datetime
from pathlib import Path

import torch
from tqdm import tqdm

from bench import problems
from bench.cli.written import closing_line
from bench.distributed import collectives
from bench.distributed.collectives import RankFailure
from bench.distributed.launch import launch
from bench.distributed.runner import data_parallel_skip_reason, run_in_step
from bench.distributed.world import World, join, launched_rank, leave
from bench.errors import InputError
from bench.harness import roofline
from bench.harness.axes import DEVICES
from bench.harness.cases import ImplSpec, default_specs, parse_dtype, plan
from bench.harness.configuration import configure
from bench.harness.machine import machine_info
from bench.harness.optimum import checked_reference
from bench.harness.runner import cuda_unavailable_reason, run
from bench.harness.threads import limited_threads
from bench.harness.timing import TimingConfig
from bench.problems.csv_file import load_csv
from bench.reports import run_plots as plots
from bench.reports.html import html_page
from bench.reports.run_report import markdown_report, skipped_lines, summary_table
from bench.results import outputs
from bench.results.schema import FAILED, exit_status
from bench.results.store import RunFolder


def _problem(args: argparse.Namespace) -> problems.Problem:
    synthetic = {
        k.removeprefix("synthetic_"): v for k, v in vars(args).items() if k.startswith("synthetic_") and v is not None
    }
    if args.csv is not None:
        if synthetic:
            raise InputError("--n/--d/--k/--noise/--seed apply to --dataset synthetic, not --csv")
        return load_csv(args.csv, args.target, certified=args.certified, weight=args.weight)
    if args.target or args.certified or args.weight:
        raise InputError("--target, --certified and --weight need --csv")
    if synthetic and args.dataset != "synthetic":
        raise InputError(f"--n/--d/--k/--noise/--seed apply to --dataset synthetic, not {args.dataset}")
    return problems.load(args.dataset, **synthetic)


# The arguments that shape every row of a run: `--resume` must be given the same ones (it may add
# implementations, devices or dtypes; it may not change the data, the training or the timing).
SHAPING_ARGUMENTS = ("dataset", "csv", "target", "weight", "certified", "synthetic_n", "synthetic_d", "synthetic_k",
                     "synthetic_noise", "synthetic_seed", "no_intercept", "epochs", "lr", "batch_size", "optimizer",
                     "warmup", "rounds", "min_time", "threads", "world_size")  # fmt: skip
RECORDED_BEFORE = {"world_size": 1}  # what a run.json from before an argument was recorded ran with


def shaping_arguments(args: argparse.Namespace, world: World | None = None) -> dict:
    """Every argument that shapes the table, the world size (ranks) included."""
    values = {name: getattr(args, name, None) for name in SHAPING_ARGUMENTS}
    values["world_size"] = 1 if world is None else world.world_size
    return {name: str(value) if isinstance(value, Path) else value for name, value in values.items()}


def check_resume_arguments(folder: RunFolder, args: argparse.Namespace, world: World | None = None) -> None:
    """Refuse a resume whose arguments would mix rows of two different runs in one folder."""
    path = folder.root / "run.json"
    if not path.is_file():  # a folder from before run.json: nothing to compare against
        return
    try:
        recorded = json.loads(path.read_text())
    except ValueError:
        raise InputError(f"{path}: not valid JSON; cannot check that --resume continues the same run") from None
    if not isinstance(recorded, dict):
        raise InputError(f"{path}: not a linreg-bench run.json; cannot check that --resume continues the same run")
    recorded = {**RECORDED_BEFORE, **recorded}
    now = shaping_arguments(args, world)
    changed = [f"{_flag(name)} {recorded.get(name)!r} -> {now[name]!r}"
               for name in SHAPING_ARGUMENTS if recorded.get(name) != now[name]]  # fmt: skip
    if changed:
        raise InputError(
            f"--resume {folder.root}: the run was started with other arguments ({'; '.join(changed)}); resume "
            "with the same ones (adding --impl, --device or --dtype is fine), or start a new --out"
        )


def _flag(name: str) -> str:
    return "--nproc (ranks)" if name == "world_size" else f"--{name.removeprefix('synthetic_').replace('_', '-')}"


def _refuse_nothing_to_run(problem, args: argparse.Namespace, specs, dtypes, overrides, world_size: int) -> None:
    """A device asked for by name that is not here, or a plan in which every case would be
    skipped, is bad usage (exit 2): a green run that measured nothing is worse than an error.
    With several ranks the data-parallel reasons count too, decided before any rank starts."""
    cuda_missing = cuda_unavailable_reason()
    if args.device == "cuda" and cuda_missing is not None:
        raise InputError(f"--device cuda: {cuda_missing}")
    fit_intercept = problem.fit_intercept and not args.no_intercept
    reasons = []
    for case in plan(specs, _devices(args.device), dtypes):
        impl = configure(problem, case.spec, overrides, fit_intercept)
        reason = impl.unsupported_reason(case.device, case.dtype)
        if reason is None and problem.sample_weight is not None and not impl.supports_sample_weight:
            reason = f"{case.spec.name} does not support sample_weight, and {problem.name} is weighted"
        if reason is None and case.device == "cuda":
            reason = cuda_missing
        if reason is None and world_size > 1:
            reason = data_parallel_skip_reason(impl, problem, case.device, world_size)
        if reason is None:
            return
        reasons.append(reason)
    where = f" on {world_size} ranks" if world_size > 1 else ""
    raise InputError(f"nothing to run{where}: every case would be skipped (" + "; ".join(dict.fromkeys(reasons)) + ")")


def _devices(choice: str) -> list[str]:
    return list(DEVICES) if choice == "all" else [choice]


def command_run(args: argparse.Namespace) -> int:
    if args.nproc is not None and args.nproc != 1 and launched_rank() is None:
        _refuse_before_launch(args)
        return launch(args.nproc, args.argv)  # the ranks run this same command line under torchrun
    world = join(args.dist_timeout)  # None in one process: today's run, unchanged
    try:
        return _command_run(args, world)
    except RankFailure as exc:
        print(f"linreg-bench: error: {exc}; the cases finished before it are kept", file=sys.stderr)
        return 1
    finally:
        if world is not None:
            leave()


def _refuse_before_launch(args: argparse.Namespace) -> None:
    """Bad usage and a plan of nothing to run on N ranks are said once, before N processes start."""
    if args.nproc < 1:
        raise InputError(f"--nproc must be >= 1, got {args.nproc}")
    problem = _problem(args)
    specs, dtypes, overrides = _plan_arguments(args)
    _refuse_nothing_to_run(problem, args, specs, dtypes, overrides, args.nproc)


def _plan_arguments(args: argparse.Namespace) -> tuple[list[ImplSpec], list[torch.dtype], dict]:
    specs = [ImplSpec.parse(text) for text in args.impl] or default_specs()
    dtypes = [parse_dtype(name) for name in (args.dtype or ["float32", "float64"])]
    training = {"epochs": args.epochs, "lr": args.lr, "batch_size": args.batch_size, "optimizer": args.optimizer}
    return specs, dtypes, {k: v for k, v in training.items() if v is not None}


def _command_run(args: argparse.Namespace, world: World | None) -> int:
    problem = _problem(args)
    specs, dtypes, overrides = _plan_arguments(args)
    for spec in specs:  # validate overrides once, before anything runs
        configure(problem, spec, overrides, problem.fit_intercept)
    try:
        timing = TimingConfig(
            warmup=args.warmup, min_rounds=args.rounds, max_rounds=max(200, args.rounds), min_time=args.min_time,
            threads=args.threads,
        )  # fmt: skip
    except ValueError as exc:
        raise InputError(str(exc)) from None
    fit_intercept = problem.fit_intercept and not args.no_intercept
    if args.resume is not None and args.out is not None and args.resume != args.out:
        raise InputError("--resume DIR writes to DIR; leave out --out")
    out = args.resume or args.out or Path("results") / f"{problem.name}-{datetime.now():%Y%m%d-%H%M%S}"
    if world is not None:
        out = collectives.from_root(out)  # one folder, named by rank 0's clock
    if args.threads is not None and args.threads < 1:
        raise InputError(f"--threads must be >= 1, got {args.threads}")
    _refuse_nothing_to_run(problem, args, specs, dtypes, overrides, 1 if world is None else world.world_size)
    if world is not None and not world.is_root:
        refusal = collectives.from_root(None)  # rank 0 checks the folder; every rank stops alike
        if refusal is not None:
            raise InputError(refusal)
        return _follow(problem, specs, dtypes, overrides, timing, fit_intercept, args, world)
    folder = RunFolder(out)
    with ExitStack() as held:
        try:
            reference = checked_reference(problem, fit_intercept)  # bad data is refused before any writing
            if args.resume is not None and not (out / "results.csv").is_file():
                raise InputError(f"--resume {out}: no results.csv there to resume")
            held.enter_context(folder.locked())  # first the lock, then the decision, then the writing
            _decide(folder, args, world)
        except InputError as exc:
            if world is not None:
                collectives.from_root(str(exc))
            raise
        if world is not None:
            collectives.from_root(None)
        held.enter_context(limited_threads(args.threads))
        return _run_into(folder, problem, specs, dtypes, overrides, timing, fit_intercept, args, world, reference)


def _decide(folder: RunFolder, args: argparse.Namespace, world: World | None) -> None:
    """Under the lock: resume (the same arguments only), refuse a used folder, or overwrite exactly
    what a run writes."""
    out = folder.root
    if args.resume is not None:
        check_resume_arguments(folder, args, world)  # stale temporaries go once the rows are read back
        return
    refusal = f"{out}: not empty (an earlier run?); --resume {out} finishes it, --overwrite replaces it"
    folder.claim(outputs.RUN, args.overwrite, refusal, anything=True)


def _follow(problem, specs, dtypes, overrides, timing, fit_intercept, args, world: World) -> int:
    """A rank other than 0: the same cases in step with rank 0, nothing written; rank 0's exit code."""
    finished = collectives.from_root(None)
    cases = [c for c in plan(specs, _devices(args.device), dtypes) if (*c.key, problem.name) not in finished]
    with limited_threads(args.threads):
        run_in_step(problem, cases, timing, overrides, fit_intercept, world, None)
    return collectives.from_root(None)


def _run_into(
    folder, problem, specs, dtypes, overrides, timing, fit_intercept, args, world=None, reference=None
) -> int:
    out = folder.root
    notes: list[str] = []
    finished = folder.load_finished(notes) if args.resume is not None else set()
    folder.remove_temporaries()
    for note in notes:
        print(f"linreg-bench: note: {note}", file=sys.stderr)
    if world is not None:
        collectives.from_root(finished)
    machine = machine_info()
    measured_peaks: dict[str, dict] = folder.recorded_peaks() if args.resume is not None else {}
    if measured_peaks:
        machine["peaks"] = measured_peaks  # a resume keeps the roofs its rows were judged under

    def peaks_for(device: str, dtype: torch.dtype, library: str = "torch") -> roofline.Peaks:
        found = roofline.peaks(device, dtype, library)
        measured_peaks[f"{device}-{found.dtype}" + ("" if library == "torch" else f"-{library}")] = asdict(found)
        machine["peaks"] = measured_peaks
        folder.write_json("machine.json", machine)
        return found

    if args.no_roofline:
        peaks_for = None
    folder.write_json("machine.json", machine)
    if args.resume is None:
        folder.write_json("run.json", shaping_arguments(args, world))
    cases = [c for c in plan(specs, _devices(args.device), dtypes) if (*c.key, problem.name) not in finished]
    if finished:
        print(
            f"resuming {out}: {len(finished)} case(s) already finished, {len(cases)} to run (a resume takes the "
            "run's own arguments; an added --impl, --device or --dtype runs as new cases)",
            file=sys.stderr,
        )

    reference = reference or checked_reference(problem, fit_intercept)
    with tqdm(total=len(cases), desc=problem.name, unit="case", file=sys.stderr, disable=None) as bar:

        def on_outcome(outcome) -> None:
            folder.add(outcome)
            bar.set_postfix_str(
                f"{outcome.row['impl']} {outcome.case.device} {outcome.row['dtype']}: {outcome.row['status']}"
            )
            bar.update()

        if world is None:
            outcomes = run(problem, cases, timing, overrides, fit_intercept, on_outcome, peaks_for, reference)
        else:
            outcomes = run_in_step(
                problem, cases, timing, overrides, fit_intercept, world, reference, on_outcome, peaks_for
            )

    results = folder.results()
    drawn = [] if args.no_plots else _draw_plots(folder, problem, reference, results, outcomes, machine)
    folder.remove_plots_not_drawn(drawn)
    folder.write_text("report.md", markdown_report(problem, reference, results, machine, drawn, args.image_base))
    page_data = {"results": results, "curves": folder.curves_table(), "machine": machine}
    page = html_page(markdown_report(problem, reference, results, machine, drawn), out, f"linreg-bench run: "
                     f"{problem.name}", page_data)  # fmt: skip
    folder.write_text("report.html", page)
    print(summary_table(results).to_markdown(index=False, tablefmt="simple"))
    for line in skipped_lines(results):
        print(line.removeprefix("- ").replace("**", ""))
    failed = results[results["status"].isin(FAILED)]
    for _, row in failed.iterrows():
        print(f"{row['impl']} {row['device']} {row['dtype']}: {row['status']}: {row['reason']}", file=sys.stderr)
    print(f"\n{closing_line(out)}", file=sys.stderr)
    code = exit_status(results)
    if world is not None:
        collectives.from_root(code)
    return code


def _draw_plots(folder: RunFolder, problem, reference, results, outcomes, machine: dict) -> list[str]:
    """The run's pictures; returns the names of those drawn (a plot with nothing to show is not)."""
    out = folder.root
    title = f"{problem.name} (n={problem.n}, d={problem.d}, k={problem.k})"
    fits = folder.saved_fits()  # every ok case of the folder, those of a resumed run included
    fits |= {
        o.row["impl"]: o.fit
        for o in outcomes
        if o.fit is not None and o.case.dtype == torch.float64 and o.case.device == "cpu"
    }
    paths = (
        plots.loss_curves(folder.curves_table(), reference.mse, out / "loss_curves.png", title),
        plots.fit_times(results, out / "fit_times.png", title),
        plots.data_and_fits(problem, fits, out / "data_and_fits.png"),
        plots.roofline_chart(results, machine.get("peaks", {}), out / "roofline.png", title),
    )
    return [path.name for path in paths if path is not None]
