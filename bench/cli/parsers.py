"""The whole command-line grammar of `linreg-bench`, and nothing else: building it imports only
torch and the registry, so `--help` and `list` start fast; each command's own module (`run`,
`sweep`, `regression`, `studies`, `info`) is imported only when that command runs."""

from __future__ import annotations

import argparse
from pathlib import Path

from bench.cli import values as v
from bench.harness.axes import DEVICES, DTYPE_NAMES
from bench.history.collect import DEFAULT_CASES as DEFAULT_HISTORY_CASES  # torch-free, as the grammar must be


def add_run_commands(commands: argparse._SubParsersAction) -> None:
    run_cmd = commands.add_parser("run", help="time and check implementations on one problem")
    _run_data(run_cmd)
    _run_selection(run_cmd)
    _run_world_and_output(run_cmd)


def _run_data(run_cmd: argparse.ArgumentParser) -> None:
    """`run`'s data: a built-in problem, a CSV, or synthetic data's shape."""
    data = run_cmd.add_argument_group("data")
    data.add_argument("--dataset", default="d2l", help="built-in problem (see `linreg-bench list`); default d2l")
    data.add_argument("--csv", type=Path, help="your own data: a CSV file with a header row")
    data.add_argument("--target", action="append", default=[], help="target column of --csv (repeatable)")
    data.add_argument(
        "--weight",
        metavar="COL",
        help="a column of --csv with sample weights (>= 0): fit and judge the weighted problem",
    )
    data.add_argument(
        "--certified", type=Path, help="certified values for --csv (JSON, as in bench/problems/data/strd)"
    )
    for name, kind in (("n", v.ROWS), ("d", v.COLUMNS), ("k", v.TARGETS), ("noise", v.NON_NEGATIVE), ("seed", v.SEED)):
        data.add_argument(f"--{name}", type=kind, dest=f"synthetic_{name}", help=f"--dataset synthetic: {name}")


def _run_selection(run_cmd: argparse.ArgumentParser) -> None:
    """What runs, how iterative methods train, how each case is timed."""
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
        "--dtype", action="append", default=[], choices=DTYPE_NAMES, help="repeatable; default float32 and float64"
    )
    what.add_argument("--no-intercept", action="store_true", help="fit y = Xw (no bias)")
    training = run_cmd.add_argument_group("iterative methods (override the problem's tutorial settings)")
    training.add_argument("--epochs", type=v.EPOCHS)
    training.add_argument("--lr", type=v.LEARNING_RATE)
    training.add_argument("--batch-size", type=v.BATCH)
    training.add_argument("--optimizer")
    timing = run_cmd.add_argument_group(
        "timing",
        "Each case is fitted --warmup times untimed (CUDA context, kernels, allocator), then timed one fit "
        "per round until there are at least --rounds rounds and at least --min-time seconds of them, at "
        "most max(200, --rounds) rounds: by default at least 5 rounds and 0.5 s, at most 200. Times are the "
        "median and IQR of the rounds (docs/timing.md).",
    )
    timing.add_argument("--rounds", type=v.ROUNDS, default=5, help="at least this many timed rounds (default 5)")
    timing.add_argument(
        "--min-time", type=v.SECONDS, default=0.5, help="and go on until the rounds add up to this many seconds (0.5)"
    )
    timing.add_argument("--warmup", type=v.WARMUP, default=1, help="untimed fits before the rounds (default 1)")
    timing.add_argument(
        "--threads", type=v.THREADS, help="torch intra-op threads for the run (default: torch's; recorded per row)"
    )


def _run_world_and_output(run_cmd: argparse.ArgumentParser) -> None:
    """The ranks, the output folder, the reports."""
    parallel = run_cmd.add_argument_group("data-parallel (torch.distributed; or start the ranks with torchrun)")
    parallel.add_argument(
        "--nproc",
        type=v.RANKS,
        help="run as N ranks on this machine through torch's launcher (as torchrun --standalone "
        "--nproc-per-node N -m bench run ...); gloo on CPU, NCCL on CUDA",
    )
    parallel.add_argument(
        "--dist-timeout",
        type=v.TIMEOUT,
        default=300.0,
        help="seconds a rank waits in a collective for the others before the run fails (default 300)",
    )
    run_cmd.add_argument("--out", type=Path, help="output folder (default results/<dataset>-<time>)")
    run_cmd.add_argument(
        "--no-plots", action="store_true", help="write no PNG/SVG plots (quicker; the tables and reports are written)"
    )
    run_cmd.add_argument(
        "--image-base",
        metavar="URL",
        help="report.md links its plots at URL/<plot>.png (for a CI job summary, which is not beside the "
        "files); report.html always carries its plots inline",
    )
    run_cmd.add_argument(
        "--no-roofline", action="store_true", help="skip the machine-peak probe (measured once per machine and cached)"
    )
    run_cmd.add_argument(
        "--overwrite", action="store_true", help="replace what an earlier run wrote to --out (default: refuse)"
    )
    run_cmd.add_argument(
        "--resume",
        type=Path,
        metavar="DIR",
        help="finish or extend the run in DIR: its finished cases are kept, the missing ones run (errors are "
        "retried). Give the run's own arguments; added --impl, --device or --dtype run as new cases, while other "
        "data, training, timing or --nproc arguments are refused, naming them",
    )
    run_cmd.set_defaults(handler="run:command_run")


def add_sweep_commands(commands: argparse._SubParsersAction) -> None:
    sweep_cmd = commands.add_parser("sweep", help="compare optimizers: tuned lr, time-to-target, curves")
    sweep_cmd.add_argument("--dataset", default="d2l", help="built-in problem; default d2l")
    sweep_cmd.add_argument("--csv", type=Path, help="your own data instead (with --target)")
    sweep_cmd.add_argument("--target", action="append", default=[], help="target column of --csv")
    sweep_cmd.add_argument("--optimizer", action="append", default=[], help="repeatable; default: all presets")
    sweep_cmd.add_argument(
        "--lr", type=v.LEARNING_RATE, action="append", default=[], help="repeatable; default 1e-5 ... 1 (11)"
    )
    sweep_cmd.add_argument(
        "--batch-size",
        type=v.BATCH,
        action="append",
        default=[],
        help="repeatable; default the problem's tutorial batch (LBFGS is always full batch)",
    )
    sweep_cmd.add_argument("--seeds", type=v.COUNT, default=5, help="reruns of each optimizer's best lr (default 5)")
    sweep_cmd.add_argument("--epochs", type=v.EPOCHS, help="budget per cell (default max(20, the tutorial's))")
    sweep_cmd.add_argument(
        "--excess-target",
        type=v.POSITIVE,
        default=None,
        dest="excess_target",
        help="target excess loss (L − L*)/L* (default p/(n − p), the optimum's own statistical precision: "
        "a fit √p standard errors from it; 1e-6 where the data have no noise or n − p < 5)",
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
    sweep_cmd.add_argument("--dtype", choices=DTYPE_NAMES, default="float64")
    sweep_cmd.add_argument("--out", type=Path, help="output folder (default results/sweep-<dataset>-<time>)")
    sweep_cmd.add_argument(
        "--overwrite", action="store_true", help="replace what an earlier sweep wrote to --out (default: refuse)"
    )
    sweep_cmd.set_defaults(handler="sweep:command_sweep")


def add_regression_commands(commands: argparse._SubParsersAction) -> None:
    _add_compare(commands)
    _add_ab(commands)
    _add_history(commands)


def _add_compare(commands: argparse._SubParsersAction) -> None:
    """`linreg-bench compare`."""
    compare_cmd = commands.add_parser("compare", help="compare two runs' timings: which cases got slower")
    where = "run folder, results.csv or pytest-benchmark JSON; or a folder of several (runs, pytest-benchmark storage)"
    compare_cmd.add_argument("base", type=Path, help=where)
    compare_cmd.add_argument("new", type=Path, help=where)
    compare_cmd.add_argument(
        "--noise",
        type=v.FACTOR,
        default=None,
        help="one run a side: a ratio beyond this factor either way is a change (default 3.5: two runs of one "
        "commit minutes apart differed by up to 3.27x here); with several runs a side they are tested instead",
    )
    add_gate_arguments(compare_cmd)
    compare_cmd.set_defaults(handler="regression:command_compare")


def _add_ab(commands: argparse._SubParsersAction) -> None:
    """`linreg-bench ab`."""
    ab = commands.add_parser("ab", help="benchmark two git revisions side by side, rounds interleaved, and compare")
    ab.add_argument("--base", help="base revision (default: merge base with main; HEAD~1 on main)")
    ab.add_argument("--dataset", action="append", default=[], help="repeatable; default d2l (the quick suite)")
    ab.add_argument("--impl", action="append", default=[], metavar="NAME[:key=value,...]", help="default all")
    ab.add_argument("--device", choices=DEVICES, default="cpu")
    ab.add_argument("--dtype", action="append", default=[], choices=DTYPE_NAMES, help="default float32")
    ab.add_argument(
        "--max-pairs",
        type=v.integer(1, 1000),
        default=12,
        help="sequential (the default): fresh worker pairs are added until each case's interval over pairs "
        "decides it, at most this many (default 12; a case still open then is `inconclusive`)",
    )
    ab.add_argument(
        "--rounds-per-pair",
        type=v.integer(1, 10_000),
        help="ABBA rounds in each worker pair (default: 200 in the first three pairs, then the number the measured "
        "variance between and within pairs and their costs make best, Kalibera & Jones)",
    )
    ab.add_argument(
        "--processes",
        type=v.integer(1, 64),
        help="a fixed design instead: exactly this many worker pairs (>= 3) sharing --rounds, judged once",
    )
    ab.add_argument("--rounds", type=v.ROUNDS, default=40, help="with --processes: rounds per side in all (default 40)")
    ab.add_argument(
        "--threads", type=v.THREADS, default=1, help="torch and BLAS threads, the same on both sides (default 1)"
    )
    ab.add_argument(
        "--measure",
        choices=("time", "instructions"),
        default="time",
        help="time: wall clock, paired rounds; instructions: callgrind counts (CPU, needs valgrind)",
    )
    ab.add_argument("--number", type=v.COUNT, default=1, help="--measure instructions: fits per count (default 1)")
    ab.add_argument(
        "--counts", type=v.COUNT, default=3, help="--measure instructions: counts per case, median kept (3)"
    )
    ab.add_argument(
        "--inject-slowdown",
        action="append",
        default=[],
        metavar="IMPL=FACTOR",
        help="stretch IMPL's fits on the new side by FACTOR (instructions: extra fits): checks the gate catches it",
    )
    add_gate_arguments(ab)
    ab.set_defaults(handler="regression:command_ab")


def _add_history(commands: argparse._SubParsersAction) -> None:
    """`linreg-bench history`."""
    history = commands.add_parser(
        "history", help="every case's time and accuracy over commits, and the steps in them (CSV, Markdown, HTML)"
    )
    history.add_argument(
        "paths",
        nargs="*",
        type=Path,
        help="pytest-benchmark storage folders or JSON files, run folders (searched; default .benchmarks)",
    )
    history.add_argument("--repo", type=Path, help="the git repository whose history orders the commits (default .)")
    history.add_argument(
        "--rev", help="the branch or revision whose history is read (default HEAD; with --commits A..B, B)"
    )
    history.add_argument(
        "--commits",
        metavar="A..B",
        help="first run the benchmarks at each commit of A..B (as `asv run A..B`), each in a temporary git "
        "worktree, saving into PATH (pytest-benchmark storage, default .benchmarks); commits already stored "
        "there are skipped, so an interrupted run resumes; a commit that fails to run is named and skipped",
    )
    history.add_argument(
        "--cases",
        default=DEFAULT_HISTORY_CASES,
        metavar="EXPR",
        help="with --commits: the pytest -k expression choosing the benchmarks of tests/benchmarks/test_fit.py "
        "(default: d2l, CPU, float32, manual-gradient, manual-autograd, normal-equation, sklearn)",
    )
    history.add_argument(
        "--alpha", type=v.PROBABILITY, default=0.01, help="chance of a step in a flat series, per case (default 0.01)"
    )
    history.add_argument(
        "--min-factor", type=v.FACTOR, default=1.05, help="smallest slower step called a regression (default 1.05)"
    )
    history.add_argument(
        "--fail-on-regression", action="store_true", help="exit 1 when the newest commit stepped slower or lost digits"
    )
    history.add_argument("--out", type=Path, help="output folder (default results/history)")
    history.set_defaults(handler="history:command_history")


def add_gate_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--fail-on-regression", action="store_true", help="exit 1 on a significant slowdown")
    parser.add_argument(
        "--min-factor",
        type=v.FACTOR,
        help="smallest slowdown that fails (compare 1.10, ab 1.025, ab --measure instructions 1.01)",
    )
    parser.add_argument(
        "--alpha",
        type=v.PROBABILITY,
        help="error rate of a verdict: compare, several runs a side 0.002 (asv's); ab 0.05 over all its looks",
    )
    parser.add_argument("--out", type=Path, help="write comparison.csv and comparison.md here")
    parser.add_argument(
        "--overwrite", action="store_true", help="replace what an earlier comparison wrote to --out (default: refuse)"
    )


def add_studies_commands(commands: argparse._SubParsersAction) -> None:
    _add_conditioning(commands)
    _add_stream(commands)
    _add_scale(commands)


def _add_conditioning(commands: argparse._SubParsersAction) -> None:
    """`linreg-bench conditioning`."""
    cond = commands.add_parser("conditioning", help="digits of agreement against the condition number")
    cond.add_argument("--cond", type=v.CONDITION, action="append", default=[], help="repeatable; default 1e0 ... 1e12")
    cond.add_argument(
        "--impl",
        action="append",
        default=[],
        metavar="NAME[:key=value,...]",
        help="default: every normal-equation solver, cholesky unscaled, sklearn",
    )
    cond.add_argument("--dtype", action="append", default=[], choices=DTYPE_NAMES, help="default both")
    cond.add_argument("--n", type=v.ROWS, default=1000)
    cond.add_argument("--d", type=v.COLUMNS, default=10)
    cond.add_argument("--out", type=Path, help="output folder (default results/conditioning-<time>)")
    cond.add_argument(
        "--overwrite", action="store_true", help="replace what an earlier conditioning wrote to --out (default: refuse)"
    )
    cond.set_defaults(handler="studies:command_conditioning")


def _add_stream(commands: argparse._SubParsersAction) -> None:
    """`linreg-bench stream`."""
    stream = commands.add_parser("stream", help="fit data larger than memory, chunk by chunk")
    source = stream.add_mutually_exclusive_group()
    source.add_argument("--csv", type=Path, help="a CSV read in chunks (with --target); default synthetic")
    source.add_argument("--parquet", type=Path, help="a Parquet file read in chunks (with --target)")
    stream.add_argument("--target", action="append", default=[])
    stream.add_argument("--n", type=v.ROWS, default=10_000_000, help="synthetic rows (default 1e7)")
    stream.add_argument("--d", type=v.COLUMNS, default=10)
    stream.add_argument("--noise", type=v.NON_NEGATIVE, default=0.1)
    stream.add_argument("--seed", type=v.SEED, default=0)
    stream.add_argument("--chunk-rows", type=v.ROWS, default=1_000_000)
    stream.add_argument(
        "--method",
        choices=("closed-form", "sgd"),
        default="closed-form",
        help="merged normal equations (default), or minibatch SGD streamed over the chunks",
    )
    stream.add_argument("--epochs", type=v.EPOCHS, default=10, help="sgd: passes over the data")
    stream.add_argument("--lr", type=v.LEARNING_RATE, default=0.5, help="sgd: step (½ squared error, / batch size)")
    stream.add_argument("--batch-size", type=v.BATCH, default=100_000, help="sgd: rows per step")
    stream.add_argument(
        "--nproc",
        type=v.RANKS,
        help="closed form on N ranks (as torchrun --standalone --nproc-per-node N -m bench stream ...): each "
        "reads only its shard (synthetic chunks or Parquet row groups i ≡ rank mod N, or a CSV byte range) "
        "and the ranks' moments are merged",
    )
    stream.add_argument(
        "--dist-timeout", type=v.TIMEOUT, default=300.0, help="seconds a rank waits for the others (default 300)"
    )
    stream.add_argument("--out", type=Path, help="output folder (default results/stream-<time>)")
    stream.add_argument(
        "--overwrite", action="store_true", help="replace what an earlier stream wrote to --out (default: refuse)"
    )
    stream.set_defaults(handler="studies:command_stream")


def _add_scale(commands: argparse._SubParsersAction) -> None:
    """`linreg-bench scale` (also `--nproc N ...`)."""
    scale_cmd = commands.add_parser("scale", help="fit time against n and d, growth exponents, log-log plot")
    scale_cmd.add_argument(
        "--impl",
        action="append",
        default=[],
        metavar="NAME[:key=value,...]",
        help="default: every implementation (nn-linear with loader=tensor)",
    )
    scale_cmd.add_argument("--n", type=v.ROWS, action="append", default=[], help="repeatable; default 1e3 ... 1e7")
    scale_cmd.add_argument("--d", type=v.COLUMNS, action="append", default=[], help="repeatable; default 1 ... 1000")
    scale_cmd.add_argument("--budget", type=v.TIMEOUT, default=20.0, help="seconds per fit before larger sizes stop")
    scale_cmd.add_argument("--dtype", choices=DTYPE_NAMES, default="float64")
    scale_cmd.add_argument(
        "--nproc",
        type=v.RANKS,
        nargs="+",
        help="instead of n and d: strong and weak scaling over these rank counts (e.g. 1 2 4), each a "
        "`run --nproc`; one --n (default 1e6) and --d (default 100), rows per rank under weak scaling",
    )
    scale_cmd.add_argument(
        "--batch-size", type=v.BATCH, default=100, help="--nproc, iterative methods: the global batch (default 100)"
    )
    scale_cmd.add_argument(
        "--no-model", action="store_true", help="--nproc: skip the all-reduce probe and the α–β predictions"
    )
    scale_cmd.add_argument("--out", type=Path, help="output folder (default results/scale-<time>)")
    scale_cmd.add_argument(
        "--overwrite", action="store_true", help="replace what an earlier scale wrote to --out (default: refuse)"
    )
    scale_cmd.set_defaults(handler="studies:command_scale")


def add_info_commands(commands: argparse._SubParsersAction) -> None:
    list_cmd = commands.add_parser("list", help="the built-in problems and the implementations")
    list_cmd.set_defaults(handler="info:command_list")

    predict = commands.add_parser("predict", help="load a saved model and predict for new inputs")
    predict.add_argument("model", type=Path, help="a models/*.pt file written by `run`")
    predict.add_argument("row", nargs="+", help="one input row as comma-separated numbers (repeatable)")
    predict.set_defaults(handler="info:command_predict")
