"""`pytest --benchmark-only`: every implementation x device x dtype x problem (tutorials, synthetic, NIST StRD).

The timed function is the harness's own (`bench.timing.timed_call` around `PreparedCase.fit`), so
CUDA fits are synchronised inside it exactly as in `linreg-bench run`. Each benchmark records its
recovery figures in `extra_info` and fails when its status is not the problem's known result.
"""

from __future__ import annotations

from functools import cache

import pytest
import torch

import impls
from bench.harness.cases import Case, ImplSpec, dtype_name
from bench.harness.runner import case_threads, conclude, prepare
from bench.harness.threads import limited_threads
from bench.harness.timing import timed_call
from bench.judge.reference import Reference, reference_solution
from bench.problems import builtin as problems
from bench.problems.catalogue import load

TUTORIALS = ["d2l", "univariate", "crop-yields", "crop-yields-5"]
SYNTHETIC = ["synthetic-small", "synthetic-medium", "synthetic-large"]
STRD = list(problems.STRD)  # NIST StRD: certified digits (`lre_min`) tracked beside the times
EXTRA_INFO = ["impl", "device", "dtype", "dataset", "n", "d", "k", "status", "reason", "final_loss", "excess_loss",
              "opt_distance_se", "truth_error_se", "digits_ref", "lre_min", "optimizer", "lr", "batch_size",
              "epochs"]  # fmt: skip


@cache
def problem(name: str) -> tuple[problems.Problem, Reference]:
    p = load(name)
    return p, reference_solution(p.X, p.y, p.fit_intercept)


def dataset_params() -> list:
    large = pytest.mark.large
    names = TUTORIALS + SYNTHETIC + STRD
    return [pytest.param(name, marks=[large] if name.endswith("large") else []) for name in names]


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=dtype_name)
@pytest.mark.parametrize("device", ["cpu", "cuda"])
@pytest.mark.parametrize("impl", impls.available())
@pytest.mark.parametrize("dataset", dataset_params())
def test_fit(benchmark, request, dataset: str, impl: str, device: str, dtype: torch.dtype) -> None:
    if dataset.endswith("large") and not request.config.getoption("--run-large"):
        pytest.skip("the large problem (1,000,000 x 100) runs only with --run-large")
    p, reference = problem(dataset)
    prepared = prepare(p, Case(ImplSpec(impl), device, dtype), overrides={})
    if prepared.skip_reason is not None:
        pytest.skip(prepared.skip_reason)
    benchmark.group = f"{dataset} (n={p.n}, d={p.d}, k={p.k})"
    timed = timed_call(prepared.fit, device)
    # the thread policy of `linreg-bench run`: one thread for small CPU fits, where a second can only
    # wait (two threads on a busy 2-core machine made a 0.6 ms fit read 10.6 ms in a saved history)
    with limited_threads(case_threads(prepared, p, prepared.case, None)):
        timed()  # warm-up: CUDA context, kernels, allocator; as `linreg-bench run` does
        fit = benchmark(timed)
        benchmark.extra_info["threads"] = torch.get_num_threads()
    outcome = conclude(p, prepared, reference, fit, timing=None)
    benchmark.extra_info.update({key: outcome.row.get(key) for key in EXTRA_INFO})
    expected = p.expected_status(impl)
    assert outcome.row["status"] == expected, f"{impl} on {dataset}: {outcome.row['status']}: {outcome.row['reason']}"
