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
from bench.errors import InputError
from bench.harness.cases import ImplSpec, parse_dtype
from bench.harness.machine import machine_info
from bench.harness.memory import PeakMemory
from bench.problems import chunks as chunked
from bench.reports.study_plots import conditioning_plot, scaling_plot
from bench.results.store import RunFolder
from bench.studies import conditioning, streaming
from bench.studies import scaling as scale


def command_conditioning(args: argparse.Namespace) -> int:
    specs = [ImplSpec.parse(text) for text in (args.impl or conditioning.DEFAULT_SPECS)]
    dtypes = [parse_dtype(name) for name in (args.dtype or ["float64", "float32"])]
    conds = args.cond or list(conditioning.DEFAULT_CONDS)
    if any(c < 1 for c in conds) or args.n < 2 or not 1 <= args.d < args.n:
        raise InputError("--cond must be >= 1, and 1 <= --d < --n")
    out = args.out or Path("results") / f"conditioning-{datetime.now():%Y%m%d-%H%M%S}"
    with RunFolder(out).locked() as folder:
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
        print(f"\nwrote {out}/conditioning.csv, conditioning.md, conditioning.png", file=sys.stderr)
        return 0


def _stream_source(args: argparse.Namespace) -> tuple[Callable[[], Iterator], tuple | None, str]:
    """(a fresh pass over the chunks, the true (weight, bias) when known, a description)."""
    path = args.csv or args.parquet
    if path is not None:
        read = chunked.csv_chunks if args.csv is not None else chunked.parquet_chunks

        def chunks_per_epoch():
            return read(path, args.target, args.chunk_rows)

        return chunks_per_epoch, None, str(path)
    if args.target:
        raise InputError("--target names a column of --csv or --parquet; the synthetic stream has its own")

    def synthetic_pass():
        return chunked.synthetic_chunks(args.n, args.d, 1, args.noise, args.seed, args.chunk_rows)[0]

    _, weight, bias = chunked.synthetic_chunks(args.n, args.d, 1, args.noise, args.seed, args.chunk_rows)
    return synthetic_pass, (weight, bias), f"synthetic n={args.n:,} d={args.d} noise={args.noise} seed={args.seed}"


def command_stream(args: argparse.Namespace) -> int:
    if args.chunk_rows < 2 or args.n < 2 or args.d < 1:
        raise InputError("--chunk-rows and --n must be >= 2, --d >= 1")
    chunks_per_epoch, truth, source = _stream_source(args)
    out = args.out or Path("results") / f"stream-{datetime.now():%Y%m%d-%H%M%S}"
    progress = {"desc": "chunks", "unit": "chunk", "file": sys.stderr, "disable": None}
    with PeakMemory() as peak:
        if args.method == "sgd":
            fit, moments, seconds = streaming.stream_sgd(
                lambda: tqdm(chunks_per_epoch(), **progress), args.epochs, args.lr, args.batch_size, args.seed
            )
            optimum, info = streaming.solve(moments)  # the optimum and its standard errors, for the check
        else:
            fit, info, seconds = streaming.stream_fit(tqdm(chunks_per_epoch(), **progress))
            optimum = fit
    row = {
        "source": source, "method": args.method, "n": info["n"], "d": fit.n_features, "chunk_rows": args.chunk_rows,
        "time_s": seconds,
        "rows_per_s": info["n"] / seconds, "peak_rss_mb": peak.bytes / 2**20, "rank": info["rank"],
        "cond_scaled_gram": info["cond_scaled_gram"],
        **streaming.judge_stream(fit, optimum, info, truth),
    }  # fmt: skip
    with RunFolder(out).locked() as folder:
        write_atomic(out / "stream.csv", lambda p: pd.DataFrame([row]).to_csv(p, index=False))
        folder.models.mkdir(parents=True, exist_ok=True)
        write_atomic(folder.models / f"{args.method}-stream.pt", fit.save)
        folder.write_json("machine.json", machine_info())
        print(pd.DataFrame([row]).drop(columns=["source"]).to_markdown(index=False, floatfmt=".4g"))
        print(f"wrote {out}/stream.csv, models/{args.method}-stream.pt", file=sys.stderr)
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
    with RunFolder(out).locked() as folder:
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
    return 0
