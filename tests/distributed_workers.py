"""Rank functions for tests/test_distributed.py: started by torch.multiprocessing (spawn), two real
gloo processes meeting through a file in the test's tmp_path; each writes what it found there."""

from __future__ import annotations

import contextlib
import io
import json
import os
import time
from datetime import timedelta
from pathlib import Path

import torch
import torch.distributed as dist

from bench import problems
from bench.distributed.collectives import RankFailure, TimedCollectives
from impls import implementation_class
from impls.sharded import row_shard

TIMEOUT_S = 30  # a bug fails the test, never hangs it
# --dist-timeout of the rank-0 failure test: long, so that a rank waiting it out cannot pass for one
# told at once (the test asserts rank 1 ended well within it).
DIST_TIMEOUT_S = 120


def _join(rank: int, world_size: int, folder: str, timeout_s: float = TIMEOUT_S) -> None:
    os.environ["OMP_NUM_THREADS"] = "1"
    torch.set_num_threads(1)
    dist.init_process_group(
        "gloo", init_method=f"file://{folder}/rendezvous", rank=rank, world_size=world_size,
        timeout=timedelta(seconds=timeout_s),
    )  # fmt: skip


def sharded_fit(rank: int, world_size: int, folder: str, dataset: str, impl: str, options: dict) -> None:
    """The data-parallel fit of `dataset` (float64) on this rank; saves (weight, bias, comm seconds)."""
    _join(rank, world_size, folder)
    try:
        problem = problems.load(dataset)
        fitter = implementation_class(impl)(**options)
        X, y = problem.X, problem.y
        if fitter.data_parallel == "rows":
            rows = row_shard(problem.n, rank, world_size)
            X, y = X[rows], y[rows]
        comm = TimedCollectives("cpu")
        fit = fitter.fit_sharded(X, y, comm)
        torch.save({"weight": fit.weight, "bias": fit.bias, "comm_s": comm.seconds}, Path(folder) / f"rank{rank}.pt")
    finally:
        dist.destroy_process_group()


def dies_after_first_case(rank: int, world_size: int, folder: str) -> None:
    """Rank 1 finishes one case with rank 0, then dies; rank 0 runs the run loop into a run folder
    and records what stopped it."""
    _join(rank, world_size, folder)
    from bench.distributed.data_parallel import DataParallel
    from bench.distributed.world import World, leave
    from bench.harness.cases import Case, ImplSpec
    from bench.harness.runner import run
    from bench.harness.session import Session
    from bench.harness.timing import TimingConfig
    from bench.results.store import RunFolder

    problem = problems.load("synthetic-small")
    world = DataParallel(World(rank, world_size, rank, "gloo"))
    cases = [Case(ImplSpec.parse("normal-equation"), "cpu", torch.float64),
             Case(ImplSpec.parse("normal-equation:solver=tsqr"), "cpu", torch.float64)]  # fmt: skip
    timing = TimingConfig(warmup=0, min_rounds=2, min_time=0)
    if rank == 1:
        run(Session(problem, cases[:1], timing, world=world))
        os._exit(9)
    folder_ = RunFolder(Path(folder) / "run")
    try:
        run(Session(problem, cases, timing, world=world), folder_.add)
        (Path(folder) / "rank0.txt").write_text("finished")
    except RankFailure as exc:
        (Path(folder) / "rank0.txt").write_text(str(exc))
    finally:  # as `linreg-bench run` ends a rank: a group left to the interpreter's exit can abort it
        leave()


def follower(index: int, world_size: int, folder: str, dataset: str, impl: str, options: dict, calls: int) -> None:
    """Ranks 1.. of a benchmark whose rank 0 is the pytest process: `calls` sharded fits in step with it."""
    rank = index + 1
    _join(rank, world_size, folder)
    try:
        problem = problems.load(dataset)
        fitter = implementation_class(impl)(**options)
        X, y = problem.X, problem.y
        if fitter.data_parallel == "rows":
            rows = row_shard(problem.n, rank, world_size)
            X, y = X[rows], y[rows]
        comm = TimedCollectives("cpu")
        for _ in range(calls):
            fitter.fit_sharded(X, y, comm)
    finally:
        dist.destroy_process_group()


def _fail_on_rank_0_at(step: str, folder: str, error: type[Exception]) -> None:
    """Make rank 0's part of `step` raise `error`, noting when it did (the clock rank 1 is timed by)."""
    from bench.cli import run as command
    from bench.harness import ranks

    where = {ranks.OUT_FOLDER: (command, "_out_folder"), ranks.CLAIM: (command.RunOutput, "claim"),
             ranks.START: (command.RunOutput, "start"), ranks.RECORD: (command.RunOutput, "record"),
             ranks.REPORT: (command.RunOutput, "report")}[step]  # fmt: skip

    def fail(*args, **kwargs):
        (Path(folder) / "failed_at").write_text(repr(time.time()))
        raise error(f"injected at {step}")

    setattr(*where, fail)


def rank_0_fails_at(rank: int, world_size: int, folder: str, step: str, bad_input: bool) -> None:
    """`linreg-bench run` on this rank of a gloo job, rank 0 failing at `step` (with bad input or a
    plain error); saves this rank's exit code, what it wrote to stderr, and when it ended."""
    from bench.cli.main import main
    from bench.errors import InputError

    os.environ.update(RANK=str(rank), WORLD_SIZE=str(world_size), LOCAL_RANK=str(rank),
                      LOCAL_WORLD_SIZE=str(world_size))  # fmt: skip
    _join(rank, world_size, folder, DIST_TIMEOUT_S)
    if rank == 0:
        _fail_on_rank_0_at(step, folder, InputError if bad_input else RuntimeError)
    argv = ["run", "--dataset", "d2l", "--impl", "normal-equation", "--device", "cpu", "--dtype", "float64",
            "--rounds", "1", "--warmup", "0", "--min-time", "0", "--no-plots", "--no-roofline",
            "--dist-timeout", str(DIST_TIMEOUT_S), "--out", str(Path(folder) / "run")]  # fmt: skip
    stderr = io.StringIO()
    with contextlib.redirect_stderr(stderr), contextlib.redirect_stdout(io.StringIO()):
        try:
            code: int | str = main(argv)
        except RuntimeError as exc:  # rank 0's own error: a bug's traceback, not a rank's one line
            code = f"raised {exc}"
    found = {"code": code, "stderr": stderr.getvalue(), "ended": time.time()}
    (Path(folder) / f"rank{rank}.json").write_text(json.dumps(found))
