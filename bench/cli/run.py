"""`linreg-bench run`: time and check implementations on one problem."""

from __future__ import annotations

import argparse
import json
import sys
from contextlib import ExitStack
from dataclasses import asdict, replace
from datetime import datetime
from pathlib import Path

import torch
from tqdm import tqdm

from bench import problems
from bench.cli.written import closing_line
from bench.distributed.collectives import RankFailure
from bench.distributed.data_parallel import BeforeLaunch, DataParallel
from bench.distributed.launch import launch
from bench.distributed.world import join, launched_rank, leave
from bench.errors import InputError
from bench.harness import roofline
from bench.harness.axes import DEVICES
from bench.harness.cases import ImplSpec, default_specs, parse_dtype, plan
from bench.harness.configuration import configure
from bench.harness.machine import machine_info
from bench.harness.optimum import checked_reference
from bench.harness.preparation import cuda_unavailable_reason, skip_reason
from bench.harness.ranks import CLAIM, OUT_FOLDER, REPORT, START, Ranks
from bench.harness.runner import Outcome, run
from bench.harness.session import Session
from bench.harness.threads import limited_threads
from bench.harness.timing import MAX_ROUNDS, TimingConfig
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


def shaping_arguments(args: argparse.Namespace, world: Ranks | None = None) -> dict:
    """Every argument that shapes the table, the world size (ranks) included."""
    values = {name: getattr(args, name, None) for name in SHAPING_ARGUMENTS}
    values["world_size"] = 1 if world is None else world.world_size
    return {name: str(value) if isinstance(value, Path) else value for name, value in values.items()}


def check_resume_arguments(folder: RunFolder, args: argparse.Namespace, world: Ranks | None = None) -> None:
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


def command_run(args: argparse.Namespace) -> int:
    """`linreg-bench run`: one session, one loop, in a world of one process or of N ranks."""
    if args.nproc is not None and args.nproc != 1 and launched_rank() is None:
        build_session(args, BeforeLaunch(args.nproc))  # bad usage is said once, before N processes start
        return launch(args.nproc, args.argv)  # the ranks run this same command line under torchrun
    world = join(args.dist_timeout)  # None in one process: today's run, unchanged
    try:
        return _command_run(args, Ranks() if world is None else DataParallel(world))
    except RankFailure as exc:
        print(f"linreg-bench: error: {exc}; the cases finished before it are kept", file=sys.stderr)
        return 1
    finally:
        if world is not None:
            leave()


def build_session(args: argparse.Namespace, world: Ranks) -> Session:
    """The run the arguments ask for, checked before anything is written: the problem, the plan,
    the run-wide options (validated against every case), the timing, the world, the folder (named
    by rank 0's clock when not given); a plan with nothing to run is refused here."""
    if args.nproc is not None and args.nproc < 1:
        raise InputError(f"--nproc must be >= 1, got {args.nproc}")
    problem = _problem(args)
    specs = [ImplSpec.parse(text) for text in args.impl] or default_specs()
    dtypes = [parse_dtype(name) for name in (args.dtype or ["float32", "float64"])]
    training = {"epochs": args.epochs, "lr": args.lr, "batch_size": args.batch_size, "optimizer": args.optimizer}
    overrides = {k: v for k, v in training.items() if v is not None}
    for spec in specs:  # validate overrides once, before anything runs
        configure(problem, spec, overrides, problem.fit_intercept)
    if args.resume is not None and args.out is not None and args.resume != args.out:
        raise InputError("--resume DIR writes to DIR; leave out --out")
    if args.threads is not None and args.threads < 1:
        raise InputError(f"--threads must be >= 1, got {args.threads}")
    cases = plan(specs, _devices(args.device), dtypes)
    intercept = problem.fit_intercept and not args.no_intercept
    session = Session(problem, tuple(cases), _timing(args), overrides, intercept, world)
    refuse_nothing_to_run(session)
    return replace(session, out=world.decided(OUT_FOLDER, lambda: _out_folder(args, problem)))


def _timing(args: argparse.Namespace) -> TimingConfig:
    try:
        return TimingConfig(warmup=args.warmup, min_rounds=args.rounds, max_rounds=max(MAX_ROUNDS, args.rounds),
                            min_time=args.min_time, threads=args.threads)  # fmt: skip
    except ValueError as exc:
        raise InputError(str(exc)) from None


def _out_folder(args: argparse.Namespace, problem: problems.Problem) -> Path:
    """Where the run writes: --resume, --out, or a new folder named by this clock."""
    return args.resume or args.out or Path("results") / f"{problem.name}-{datetime.now():%Y%m%d-%H%M%S}"


def _devices(choice: str) -> list[str]:
    return list(DEVICES) if choice == "all" else [choice]


def refuse_nothing_to_run(session: Session) -> None:
    """A device asked for by name that is not here, or a plan in which every case would be
    skipped, is bad usage (exit 2): a green run that measured nothing is worse than an error.
    With several ranks the data-parallel reasons count too, decided before any rank starts."""
    cuda_missing = cuda_unavailable_reason()
    if session.devices == {"cuda"} and cuda_missing is not None:
        raise InputError(f"--device cuda: {cuda_missing}")
    problem, world, reasons = session.problem, session.world, []
    for case in session.cases:
        impl = configure(problem, case.spec, dict(session.overrides), session.fit_intercept)
        reason = skip_reason(problem, case, impl) or world.skip_reason(impl, problem, case.device)
        if reason is None:
            return
        reasons.append(reason)
    where = f" on {world.world_size} ranks" if world.world_size > 1 else ""
    raise InputError(f"nothing to run{where}: every case would be skipped (" + "; ".join(dict.fromkeys(reasons)) + ")")


def _command_run(args: argparse.Namespace, world: Ranks) -> int:
    """The rank protocol of a run, in order: every rank meets each step; rank 0 alone does the
    writing (`RunOutput`), the others learn its decisions or its error."""
    session = build_session(args, world)
    output = RunOutput(RunFolder(session.out), args)
    with ExitStack() as held:
        reference = world.decided(CLAIM, lambda: output.claim(session, held))
        finished = world.decided(START, lambda: output.start(session, held))
        session = replace(session, reference=reference, finished=frozenset(finished), peaks=output.peaks_provider())
        held.enter_context(limited_threads(args.threads))
        outcomes = run(session, output.record)
        return world.decided(REPORT, lambda: output.report(session, outcomes))


class RunOutput:
    """Rank 0's side of a run: the folder (lock, claim, rows as they finish, reports), the machine
    record, the progress bar. Each method is one step of the rank protocol (`_command_run`)."""

    def __init__(self, folder: RunFolder, args: argparse.Namespace) -> None:
        self.folder, self.args = folder, args
        self.machine: dict = {}
        self.measured_peaks: dict[str, dict] = {}
        self.bar: tqdm | None = None

    def claim(self, session: Session, held: ExitStack):
        """Refuse bad data before any writing, then take the lock, then decide under it: resume
        (the same arguments only), refuse a used folder, or overwrite exactly what a run writes.
        Returns the reference optimum (every rank gets it)."""
        folder, args = self.folder, self.args
        reference = checked_reference(session.problem, session.fit_intercept)
        if args.resume is not None and not folder.results_csv.is_file():
            raise InputError(f"--resume {folder.root}: no results.csv there to resume")
        held.enter_context(folder.locked())  # first the lock, then the decision, then the writing
        if args.resume is not None:
            check_resume_arguments(folder, args, session.world)  # stale temporaries go once the rows are read back
        else:
            out = folder.root
            refusal = f"{out}: not empty (an earlier run?); --resume {out} finishes it, --overwrite replaces it"
            folder.claim(outputs.RUN, args.overwrite, refusal, anything=True)
        return reference

    def start(self, session: Session, held: ExitStack) -> set[tuple[str, str, str, str]]:
        """Read back what a resumed folder holds, record the machine and the arguments, start the
        progress bar; returns the cases already finished (every rank skips them)."""
        folder, args, notes = self.folder, self.args, []
        finished = folder.load_finished(notes) if args.resume is not None else set()
        folder.remove_temporaries()
        for note in notes:
            print(f"linreg-bench: note: {note}", file=sys.stderr)
        self.machine = machine_info()
        if args.resume is not None:  # a resume keeps the roofs its rows were judged under
            self.measured_peaks = folder.recorded_peaks()
            if self.measured_peaks:
                self.machine["peaks"] = self.measured_peaks
        folder.write_json("machine.json", self.machine)
        if args.resume is None:
            folder.write_json("run.json", shaping_arguments(args, session.world))
        pending = len(replace(session, finished=frozenset(finished)).pending)
        if finished:
            print(
                f"resuming {folder.root}: {len(finished)} case(s) already finished, {pending} to run (a resume takes "
                "the run's own arguments; an added --impl, --device or --dtype runs as new cases)",
                file=sys.stderr,
            )
        self.bar = held.enter_context(
            tqdm(total=pending, desc=session.problem.name, unit="case", file=sys.stderr, disable=None)
        )
        return finished

    def peaks_provider(self) -> roofline.PeaksProvider | None:
        """The roofline probe, each measurement recorded in machine.json (None: --no-roofline)."""
        return None if self.args.no_roofline else self.peaks_for

    def peaks_for(self, device: str, dtype: torch.dtype, library: str = "torch") -> roofline.Peaks:
        found = roofline.peaks(device, dtype, library)
        self.measured_peaks[f"{device}-{found.dtype}" + ("" if library == "torch" else f"-{library}")] = asdict(found)
        self.machine["peaks"] = self.measured_peaks
        self.folder.write_json("machine.json", self.machine)
        return found

    def record(self, outcome: Outcome) -> None:
        """One finished case written at once (atomically), and shown on the bar."""
        self.folder.add(outcome)
        if self.bar is not None:
            row = outcome.row
            self.bar.set_postfix_str(f"{row['impl']} {outcome.case.device} {row['dtype']}: {row['status']}")
            self.bar.update()

    def report(self, session: Session, outcomes: list[Outcome]) -> int:
        """report.md, report.html and the plots from the stored table; the summary printed; the
        exit status (every rank returns it)."""
        if self.bar is not None:
            self.bar.close()
        folder, args, problem, machine = self.folder, self.args, session.problem, self.machine
        out, reference, results = folder.root, session.reference, folder.results()
        drawn = [] if args.no_plots else _draw_plots(folder, problem, reference, results, outcomes, machine)
        folder.remove_plots_not_drawn(drawn)
        folder.write_text("report.md", markdown_report(problem, reference, results, machine, drawn, args.image_base))
        page_data = {"results": results, "curves": folder.curves_table(), "machine": machine}
        page = html_page(markdown_report(problem, reference, results, machine, drawn), out, f"linreg-bench run: "
                         f"{problem.name}", page_data)  # fmt: skip
        folder.write_text("report.html", page)
        _print_summary(results)
        print(f"\n{closing_line(out)}", file=sys.stderr)
        return exit_status(results)


def _print_summary(results) -> None:
    print(summary_table(results).to_markdown(index=False, tablefmt="simple"))
    for line in skipped_lines(results):
        print(line.removeprefix("- ").replace("**", ""))
    failed = results[results["status"].isin(FAILED)]
    for _, row in failed.iterrows():
        print(f"{row['impl']} {row['device']} {row['dtype']}: {row['status']}: {row['reason']}", file=sys.stderr)


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
