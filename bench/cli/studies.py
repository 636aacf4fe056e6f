"""`linreg-bench conditioning`, `stream` and `scale`: accuracy and performance studies."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path

import pandas as pd
from tqdm import tqdm

import impls
from bench.atomic import write_atomic
from bench.cli.written import closing_line
from bench.distributed import collectives
from bench.distributed.collectives import RankFailure
from bench.distributed.data_parallel import DataParallel
from bench.distributed.launch import launch
from bench.distributed.world import World, join, launched_rank, leave
from bench.errors import InputError
from bench.files import input_file
from bench.harness.cases import ImplSpec, parse_dtype
from bench.harness.machine import machine_info
from bench.harness.memory import PeakMemory
from bench.harness.ranks import STREAM_REPORT
from bench.problems import chunks as chunked
from bench.reports.study_plots import conditioning_plot, process_scaling_plot, scaling_plot
from bench.results import outputs
from bench.results.store import RunFolder
from bench.studies import conditioning, process_scaling, streaming
from bench.studies import scaling as scale


def command_conditioning(args: argparse.Namespace) -> int:
    specs = [ImplSpec.parse(text) for text in (args.impl or conditioning.DEFAULT_SPECS)]
    dtypes = [parse_dtype(name) for name in (args.dtype or ["float64", "float32"])]
    conds = args.cond or list(conditioning.DEFAULT_CONDS)
    if any(c < 1 for c in conds) or args.n < 2 or not 1 <= args.d < args.n:
        raise InputError("--cond must be >= 1, and 1 <= --d < --n")
    out = args.out or Path("results") / f"conditioning-{datetime.now():%Y%m%d-%H%M%S}"
    with RunFolder(out).locked() as folder:
        folder.claim(outputs.CONDITIONING, args.overwrite)
        with tqdm(
            total=len(conds) * len(specs) * len(dtypes), desc="conditioning", file=sys.stderr, disable=None
        ) as bar:
            frame = conditioning.sweep(specs, dtypes, conds, args.n, args.d, on_row=lambda row: bar.update())
        write_atomic(out / "conditioning.csv", lambda p: frame.to_csv(p, index=False))
        conditioning_plot(frame, out / "conditioning.png")
        table = frame.pivot_table(index=["impl", "dtype"], columns="cond", values="digits", sort=False)
        table.columns = [f"κ={c:.0e}" for c in table.columns]
        text = table.round(1).to_markdown()
        folder.write_text("conditioning.md", f"# Digits of agreement against conditioning\n\n{text}\n\n"
                          "![conditioning](conditioning.png)\n")  # fmt: skip
        print(text)
        print(f"\n{closing_line(out)}", file=sys.stderr)
        return 0


def _stream_source(
    args: argparse.Namespace, shard: chunked.Shard = chunked.WHOLE
) -> tuple[Callable[[], Iterator], tuple | None, str]:
    """(a fresh pass over this rank's chunks, the true (weight, bias) when known, a description)."""
    path = args.csv or args.parquet
    if path is not None:
        input_file(path, "CSV file" if args.csv is not None else "Parquet file")  # read once per pass: no pipes
        read = chunked.csv_chunks if args.csv is not None else chunked.parquet_chunks

        def chunks_per_epoch():
            return read(path, args.target, args.chunk_rows, shard)

        return chunks_per_epoch, None, str(path)
    if args.target:
        raise InputError("--target names a column of --csv or --parquet; the synthetic stream has its own")

    stream = chunked.SyntheticStream(args.n, args.d, 1, args.noise, args.seed, args.chunk_rows)

    def synthetic_pass():
        return chunked.synthetic_chunks(stream, shard)[0]

    _, weight, bias = chunked.synthetic_chunks(stream)
    return synthetic_pass, (weight, bias), f"synthetic n={args.n:,} d={args.d} noise={args.noise} seed={args.seed}"


def command_stream(args: argparse.Namespace) -> int:
    if args.chunk_rows < 2 or args.n < 2 or args.d < 1:
        raise InputError("--chunk-rows and --n must be >= 2, --d >= 1")
    if args.nproc is not None and args.nproc != 1:
        if args.method != "closed-form":
            raise InputError("--nproc: only the closed form streams data-parallel (merged moments); for "
                             "data-parallel SGD use `run --nproc` with manual-gradient or nn-linear")  # fmt: skip
        if launched_rank() is None:
            return launch(args.nproc, args.argv)  # the ranks run this same command line under torchrun
    world = join(args.dist_timeout)
    if world is None:
        return _command_stream(args)
    if args.method != "closed-form":
        raise InputError("under torchrun only the closed form streams data-parallel (merged moments)")
    try:
        return _command_stream_ranks(args, world)
    except RankFailure as exc:
        print(f"linreg-bench: error: {exc}", file=sys.stderr)
        return 1
    finally:
        leave()


def _command_stream_ranks(args: argparse.Namespace, world: World) -> int:
    """Every rank reads its own shard; rank 0 judges the merged fit and writes the folder."""
    chunks_per_epoch, truth, source = _stream_source(args, chunked.Shard(world.rank, world.world_size))
    out = args.out or Path("results") / f"stream-{datetime.now():%Y%m%d-%H%M%S}"
    with PeakMemory() as peak:
        fit, info, seconds, comm = streaming.sharded_stream_fit(chunks_per_epoch())
    peak_mb = max(collectives.gathered(peak.bytes)) / 2**20

    def judged_and_written() -> int:  # rank 0 alone: one step of the rank protocol
        n = world.world_size
        shards = f"{n} byte ranges" if args.csv else f"row groups i ≡ rank (mod {n})" if args.parquet else (
            f"chunks i ≡ rank (mod {n})")  # fmt: skip
        row = {
            "source": source, "method": args.method, "n": info["n"], "d": fit.n_features,
            "chunk_rows": args.chunk_rows, "time_s": seconds, "rows_per_s": info["n"] / seconds,
            "peak_rss_mb": peak_mb, "rank": info["rank"], "cond_scaled_gram": info["cond_scaled_gram"],
            "world_size": world.world_size, "backend": world.backend, "shards": shards,
            "comm_s": comm, "comm_fraction": comm / seconds if seconds > 0 else float("nan"),
            **streaming.judge_stream(fit, fit, info, truth),
        }  # fmt: skip
        with RunFolder(out).locked() as folder:
            folder.claim(outputs.STREAM, args.overwrite)
            return _write_stream(folder, args, fit, row)

    return DataParallel(world).decided(STREAM_REPORT, judged_and_written)


def _write_stream(folder: RunFolder, args: argparse.Namespace, fit, row: dict) -> int:
    """stream.csv, and the model only for a fit that passed its checks (as `run` keeps models)."""
    out = folder.root
    write_atomic(out / "stream.csv", lambda p: pd.DataFrame([row]).to_csv(p, index=False))
    saved = row["status"] == "ok"
    if saved:
        folder.models.mkdir(parents=True, exist_ok=True)
        write_atomic(folder.models / f"{args.method}-stream.pt", fit.save)
    folder.write_json("machine.json", machine_info())
    print(pd.DataFrame([row]).drop(columns=["source"]).to_markdown(index=False, floatfmt=".4g"))
    if not saved:
        print(f"stream {args.method}: {row['status']}: {row['reason']}", file=sys.stderr)
    print(closing_line(folder.root), file=sys.stderr)
    return 0 if saved else 1


def _named(source: str, exc: InputError) -> InputError:
    """A message about the data names its source once."""
    text = str(exc)
    return InputError(text if text.startswith(source) else f"{source}: {text}")


def _command_stream(args: argparse.Namespace) -> int:
    chunks_per_epoch, truth, source = _stream_source(args)
    out = args.out or Path("results") / f"stream-{datetime.now():%Y%m%d-%H%M%S}"
    with RunFolder(out).locked() as folder:  # the lock and the decision before the first chunk is read
        folder.claim(outputs.STREAM, args.overwrite)
        return _stream_into(folder, args, chunks_per_epoch, truth, source)


def _stream_into(folder: RunFolder, args: argparse.Namespace, chunks_per_epoch, truth, source: str) -> int:
    progress = {"desc": "chunks", "unit": "chunk", "file": sys.stderr, "disable": None}
    try:
        with PeakMemory() as peak:
            if args.method == "sgd":
                fit, moments, seconds = streaming.stream_sgd(
                    lambda: tqdm(chunks_per_epoch(), **progress), args.epochs, args.lr, args.batch_size, args.seed
                )
                optimum, info = streaming.solve(moments)  # the optimum and its standard errors, for the check
            else:
                fit, info, seconds = streaming.stream_fit(tqdm(chunks_per_epoch(), **progress))
                optimum = fit
    except InputError as exc:
        raise _named(source, exc) from None
    row = {
        "source": source, "method": args.method, "n": info["n"], "d": fit.n_features, "chunk_rows": args.chunk_rows,
        "time_s": seconds,
        "rows_per_s": info["n"] / seconds, "peak_rss_mb": peak.bytes / 2**20, "rank": info["rank"],
        "cond_scaled_gram": info["cond_scaled_gram"],
        **streaming.judge_stream(fit, optimum, info, truth),
    }  # fmt: skip
    return _write_stream(folder, args, fit, row)


def command_scale(args: argparse.Namespace) -> int:
    if args.nproc:
        return command_scale_processes(args)
    default = [
        ImplSpec.parse("nn-linear:loader=tensor") if n == "nn-linear" else ImplSpec(n) for n in impls.available()
    ]
    specs = [ImplSpec.parse(text) for text in args.impl] or default
    ns, ds = tuple(args.n) or scale.DEFAULT_NS, tuple(args.d) or scale.DEFAULT_DS
    if min(ns) < 2 or min(ds) < 1 or args.budget <= 0:
        raise InputError("--n must be >= 2, --d >= 1 and --budget > 0")
    out = args.out or Path("results") / f"scale-{datetime.now():%Y%m%d-%H%M%S}"
    with RunFolder(out).locked() as folder:
        folder.claim(outputs.SCALE, args.overwrite)
        return _scale_into(folder, specs, ns, ds, args)


def _scale_into(folder: RunFolder, specs: list[ImplSpec], ns: tuple, ds: tuple, args: argparse.Namespace) -> int:
    out = folder.root
    rows: list[dict] = []

    def persist(row: dict) -> None:
        rows.append(row)
        write_atomic(out / "scale.csv", lambda p: pd.DataFrame(rows).to_csv(p, index=False))
        bar.update()

    total = len(scale.sizes(ns, ds)) * len(specs)
    with tqdm(total=total, desc="scale", unit="fit", file=sys.stderr, disable=None) as bar:
        frame = scale.study(specs, ns, ds, args.budget, parse_dtype(args.dtype), on_row=persist)
    scaling_plot(frame, out / "scale.png", scale.D_FOR_N, scale.N_FOR_D)
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
    print(closing_line(out), file=sys.stderr)
    return 0


PROCESS_SCALING_DEFAULTS = ("normal-equation", "manual-gradient", "nn-linear")


def command_scale_processes(args: argparse.Namespace) -> int:
    """`scale --nproc 1 2 ...`: strong and weak scaling, measured, plus the α–β model's predictions."""
    specs = [ImplSpec.parse(text) for text in (args.impl or PROCESS_SCALING_DEFAULTS)]
    for spec in specs:
        reason = impls.implementation_class(spec.name)(**dict(spec.options)).single_process_reason()
        if reason is not None:
            raise InputError(f"--impl {spec.label}: {reason}")
    nprocs = sorted(set(args.nproc))
    if nprocs[0] != 1 or len(args.n) > 1 or len(args.d) > 1 or args.batch_size < max(nprocs):
        raise InputError("--nproc must include 1 (the baseline), with one --n and one --d, and --batch-size >= ranks")
    n, d = (args.n or [1_000_000])[0], (args.d or [100])[0]
    out = args.out or Path("results") / f"scale-nproc-{datetime.now():%Y%m%d-%H%M%S}"
    with RunFolder(out).locked() as folder:
        folder.claim(outputs.SCALE, args.overwrite)
        rows: list[dict] = []
        plan = process_scaling.ScalingPlan(tuple(specs), tuple(nprocs), n, d, args.batch_size, args.dtype)
        total = len(specs) * len(plan.configurations())
        with tqdm(total=total, desc="scale --nproc", unit="run", file=sys.stderr, disable=None) as bar:

            def persist(row: dict) -> None:
                rows.append(row)
                write_atomic(out / "scale_nproc.csv", lambda p: pd.DataFrame(rows).to_csv(p, index=False))
                bar.update()

            frame = process_scaling.study(plan, out, persist)
        write_atomic(out / "scale_nproc.csv", lambda p: frame.to_csv(p, index=False))
        model_rows, model_text = _comm_model(frame, d, n, args) if not args.no_model else (None, [])
        process_scaling_plot(frame, model_rows, out / "scale_nproc.png")
        columns = ["mode", "impl", "world_size", "n_per_rank", "batch_per_rank", "status", "time_median_s",
                   "speedup", "efficiency", "comm_fraction"]  # fmt: skip
        text = "\n".join([
            "# linreg-bench scale --nproc", "",
            f"Data-parallel runs on this machine (gloo, CPU, {args.dtype}, synthetic n = {n:,}, d = {d}), each "
            "`linreg-bench run --nproc N` judged like any run. Strong: the same n over N ranks (speed-up "
            "T(1)/T(N), efficiency speed-up/N; iterative methods keep the global batch). Weak: n rows per rank "
            "(efficiency T(1)/T(N)). comm_fraction: the slowest rank's time inside collectives over the round.",
            "", frame[columns].round(3).to_markdown(index=False), "", *model_text,
            "![scaling against ranks](scale_nproc.png)", "",
        ])  # fmt: skip
        folder.write_text("scale_nproc.md", text)
        print(text)
        print(closing_line(out), file=sys.stderr)
        return 1 if (~frame["status"].isin(process_scaling.FINISHED)).any() else 0


def _comm_model(frame: pd.DataFrame, d: int, n: int, args: argparse.Namespace) -> tuple[pd.DataFrame, list[str]]:
    from bench.distributed.comm_model import fit_model, measure_all_reduce, predicted_weak_scaling

    probe = measure_all_reduce(2)
    model = fit_model(probe)
    one = frame[(frame["world_size"] == 1) & frame["status"].isin(process_scaling.FINISHED)]
    one = one.set_index("impl")["time_median_s"]
    closed_impl = next((i for i in one.index if i.startswith("normal-equation")), None)
    sgd_impl = next((i for i in one.index if i.startswith(("nn-linear", "manual-gradient"))), None)
    steps = -(-n // args.batch_size)
    predicted = predicted_weak_scaling(
        model, d + 1, None if closed_impl is None else float(one[closed_impl]),
        None if sgd_impl is None else float(one[sgd_impl]), steps,
    )  # fmt: skip
    text = [
        "## Beyond this machine: a model, not a measurement", "",
        f"gloo all-reduce measured here at 2 ranks and fitted to the ring formula t = 2(W−1)·α + "
        f"2(W−1)/W·bytes·β: α = {model.alpha_s * 1e6:.1f} µs, β = {model.beta_s_per_byte * 1e9:.3f} ns/byte "
        f"({1e-9 / max(model.beta_s_per_byte, 1e-30):.2f} GB/s). Predicted weak-scaling efficiency: per-rank "
        "compute is the one-rank time measured above; the closed form exchanges (p² + p + 1) numbers once, "
        f"DDP SGD p numbers every step ({steps:,} steps an epoch, one-rank time of {sgd_impl or 'no SGD run'}). "
        "These rows are the model's, not measured.",
        "", predicted.round(4).to_markdown(index=False), "",
        "Measured all-reduce times (2 ranks):", "", probe.to_markdown(index=False), "",
    ]  # fmt: skip
    return predicted, text
