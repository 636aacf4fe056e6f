"""One process against two (gloo, CPU) on the same data: the data-parallel closed form and DDP SGD.

Rank 0 is the pytest process, timed by pytest-benchmark; rank 1 is a spawned process making the
same number of fits in step. A round ends when rank 0's fit does, which waits in its collectives
for rank 1: the time is the slower rank's. `extra_info["comm_fraction"]` is rank 0's share of time
inside collectives. On this two-core machine two ranks compete with nothing else only when the
machine is otherwise idle; read the pair side by side, in one run.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from bench import problems
from bench.distributed.collectives import TimedCollectives
from impls import implementation_class
from impls.sharded import row_shard
from tests import distributed_workers as workers

ROUNDS, WARMUP = 5, 1
CASES = [
    pytest.param("synthetic-medium", "normal-equation", {}, id="normal-equation-synthetic-medium"),
    pytest.param("synthetic-large", "normal-equation", {}, id="normal-equation-synthetic-large",
                 marks=pytest.mark.large),
    pytest.param("synthetic-medium", "nn-linear", {"epochs": 1, "batch_size": 100, "lr": 0.01},
                 id="ddp-nn-linear-synthetic-medium"),
]  # fmt: skip


def _skip_large(request, dataset: str) -> None:
    if dataset == "synthetic-large" and not request.config.getoption("--run-large"):
        pytest.skip("1,000,000 x 100 runs only with --run-large")


@pytest.mark.parametrize(("dataset", "impl", "options"), CASES)
def test_one_process(benchmark, request, dataset, impl, options):
    _skip_large(request, dataset)
    problem = problems.load(dataset)
    fitter = implementation_class(impl)(**{**options, **({"loader": "tensor"} if impl == "nn-linear" else {})})
    benchmark.group = f"data-parallel {impl}, {dataset}, float64: 1 vs 2 processes"
    benchmark.extra_info.update(world_size=1, backend="none")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # as each rank of the pair below
    try:
        benchmark.pedantic(lambda: fitter.fit_prepared(problem.X, problem.y), rounds=ROUNDS, warmup_rounds=WARMUP)
    finally:
        torch.set_num_threads(threads)


@pytest.mark.parametrize(("dataset", "impl", "options"), CASES)
def test_two_processes(benchmark, request, tmp_path, dataset, impl, options):
    _skip_large(request, dataset)
    if not dist.is_available() or not dist.is_gloo_available():
        pytest.skip("this torch build has no torch.distributed with gloo")
    calls = 1 if benchmark.disabled else ROUNDS + WARMUP  # plain pytest runs the benchmark once, untimed
    context = mp.start_processes(workers.follower, args=(2, str(tmp_path), dataset, impl, options, calls),
                                 nprocs=1, join=False, start_method="spawn")  # fmt: skip
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=f"file://{tmp_path}/rendezvous", rank=0, world_size=2,
                            timeout=timedelta(seconds=workers.TIMEOUT_S))  # fmt: skip
    try:
        problem = problems.load(dataset)
        fitter = implementation_class(impl)(**options)
        X, y = problem.X, problem.y
        if fitter.data_parallel == "rows":
            rows = row_shard(problem.n, 0, 2)
            X, y = X[rows], y[rows]
        comm = TimedCollectives("cpu")
        benchmark.group = f"data-parallel {impl}, {dataset}, float64: 1 vs 2 processes"
        seconds = []

        def fit():
            comm.seconds = 0.0
            result = fitter.fit_sharded(X, y, comm)
            seconds.append(comm.seconds)
            return result

        fitted = benchmark.pedantic(fit, rounds=ROUNDS, warmup_rounds=WARMUP)  # once, untimed, when disabled
        comm_s = sorted(seconds)[len(seconds) // 2]
        benchmark.extra_info.update(world_size=2, backend="gloo", comm_s=comm_s)
        if not benchmark.disabled:
            benchmark.extra_info["comm_fraction"] = comm_s / benchmark.stats.stats.median
        assert torch.isfinite(fitted.weight).all() and comm_s > 0
    finally:
        dist.destroy_process_group()
        torch.set_num_threads(threads)
        context.join(timeout=workers.TIMEOUT_S)
