"""The performance claims, each as one benchmark group measured side by side in one run:

    pytest tests/benchmarks/test_performance.py --benchmark-only [--run-large]

- SGD on d2l with its settings (n = 1000, batch 10, lr 0.03, 3 epochs so that the recovery check
  applies; per epoch is a third, ratios are per epoch): the tutorials' loops as written against
  the fast paths; each fast row's `extra_info["speedup"]` is its tutorial's median over its own;
- the closed form on 1,000,000 x 100 float64 (`--run-large`): each row's time as a multiple of this
  machine's roofline bound (`extra_info["time_vs_bound"]`) and its speed-up over scikit-learn;
- on a GPU (skipped without one): small-batch SGD as a plain loop against one CUDA graph per
  epoch (30 epochs), and the closed form against the GPU's roofline bound.

Plain `pytest` runs each once, untimed, as a test that the fast paths reach the same parameters.
"""

from __future__ import annotations

from functools import cache

import pytest
import torch

from bench.harness.cases import Case, ImplSpec
from bench.harness.preparation import PreparedCase, prepare
from bench.harness.roofline import peaks, peaks_key, roofline_figures
from bench.harness.runner import conclude
from bench.harness.timing import Timing, synchronised
from bench.judge.reference import reference_solution
from bench.problems import catalogue as problems

SGD_EPOCH = {  # spec: the tutorial loop it is measured against
    "d2l-reference": None,
    "manual-autograd": "d2l-reference",
    "manual-gradient": "d2l-reference",
    "nn-linear:loader=dataloader": None,
    "nn-linear:loader=tensor": "nn-linear:loader=dataloader",
}
CUDA_SGD = {  # spec: what it is measured against (run first)
    "manual-gradient": None,
    "manual-gradient:graph=true": "manual-gradient",
    "nn-linear:loader=dataloader": None,
    "nn-linear:loader=tensor": "nn-linear:loader=dataloader",
    "nn-linear:loader=tensor,graph=true": "nn-linear:loader=dataloader",
}
CUDA_EPOCHS = 30  # two epochs of a graphed fit cost what eager ones do (warm-up, capture); the rest replay
CLOSED_FORM = {  # spec: the baseline
    "sklearn": None,
    "normal-equation": "sklearn",
    "normal-equation:solver=cholesky,scaling=none": "sklearn",
}
_medians: dict[tuple[str, str], float] = {}  # filled in parametrization order: each baseline runs before its rivals
_fits: dict[str, torch.Tensor] = {}


@cache
def tutorial_theta(name: str) -> torch.Tensor:
    """The tutorial loop's parameters on d2l (cpu, float32), fitted here when its own test has not
    run (`-k manual-gradient` selects the fast loop alone: before, a KeyError)."""
    if name in _fits:
        return _fits[name]
    p = problems.load("d2l")
    prepared = prepare(p, Case(ImplSpec(name), "cpu", torch.float32), {})
    fit = prepared.fit()
    return torch.cat([fit.weight.ravel(), fit.bias])


@cache
def problem(name: str):
    p = problems.load(name)
    return p, reference_solution(p.X, p.y, p.fit_intercept)


def run(benchmark, dataset: str, spec: str, baseline: str | None, overrides: dict, dtype: torch.dtype, device="cpu"):
    """Time one case, assert it recovers its parameters, and record what `linreg-bench run` would
    (roofline figures, the speed-up over its baseline) in `extra_info`."""
    p, reference = problem(dataset)
    prepared: PreparedCase = prepare(p, Case(ImplSpec.parse(spec), device, dtype), overrides=overrides)
    if prepared.skip_reason is not None:
        pytest.skip(prepared.skip_reason)
    timed = synchronised(prepared.fit, device)
    timed()  # warm-up, as `linreg-bench run` does
    fit = benchmark(timed)
    outcome = conclude(p, prepared, reference, fit, timing=None)
    assert outcome.row["status"] == "ok", f"{spec}: {outcome.row['status']}: {outcome.row['reason']}"
    benchmark.extra_info.update(impl=spec, status=outcome.row["status"], digits_ref=outcome.row.get("digits_ref"))
    if benchmark.stats is not None:  # timed (not under plain `pytest`)
        timing = Timing(tuple(benchmark.stats.stats.data), torch.get_num_threads())
        benchmark.extra_info.update(  # as `run` reports
            roofline_figures(
                prepared.impl, dtype, p.shape, timing.median, peaks(device, *peaks_key(prepared.impl, dtype)), fit
            )
        )
        _medians[spec, device] = benchmark.stats.stats.median
        if (baseline, device) in _medians:
            benchmark.extra_info.update(baseline=baseline, speedup=_medians[baseline, device] / _medians[spec, device])
    return fit


@pytest.mark.parametrize("spec", list(SGD_EPOCH))
def test_sgd_epochs(benchmark, spec: str) -> None:
    benchmark.group = "SGD, 3 epochs: d2l (n=1000, d=2, batch 10, lr 0.03), cpu float32"
    fit = run(benchmark, "d2l", spec, SGD_EPOCH[spec], {}, torch.float32)
    theta = torch.cat([fit.weight.ravel(), fit.bias])
    tutorial = SGD_EPOCH[spec]
    if tutorial is not None and spec.startswith("manual"):  # same shuffling order: same parameters
        assert torch.allclose(theta, tutorial_theta(tutorial), atol=1e-5), f"{spec} left the tutorial's path"
    _fits[spec] = theta


@pytest.mark.parametrize("spec", list(CUDA_SGD))
def test_sgd_epochs_cuda_graph(benchmark, spec: str) -> None:
    """Small-batch SGD on a GPU is kernel-launch bound: one captured graph per epoch against the
    plain loop, and nn-linear's graphed in-memory loop against the tutorial's DataLoader loop.
    A graphed fit runs its first epoch eagerly and spends the second on capture (as long as an
    eager epoch), so the per-epoch gain shows over CUDA_EPOCHS epochs, not the tutorial's 3."""
    benchmark.group = (
        f"SGD on CUDA, {CUDA_EPOCHS} epochs: d2l (n=1000, batch 10), float32: plain loop vs a CUDA graph per epoch"
    )
    run(benchmark, "d2l", spec, CUDA_SGD[spec], {"epochs": CUDA_EPOCHS}, torch.float32, device="cuda")


@pytest.mark.large
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=["float32", "float64"])
def test_closed_form_large_cuda(benchmark, request, dtype: torch.dtype) -> None:
    """The closed form against the GPU's own roofline bound (its bandwidth and GEMM peak, probed)."""
    if not request.config.getoption("--run-large"):
        pytest.skip("the 1,000,000 x 100 closed form runs only with --run-large")
    benchmark.group = "closed form on CUDA: synthetic-large (n=1,000,000, d=100)"
    run(benchmark, "synthetic-large", "normal-equation", None, {}, dtype, device="cuda")


@pytest.mark.large
@pytest.mark.parametrize("spec", list(CLOSED_FORM))
def test_closed_form_large(benchmark, request, spec: str) -> None:
    if not request.config.getoption("--run-large"):
        pytest.skip("the 1,000,000 x 100 closed form runs only with --run-large")
    benchmark.group = "closed form: synthetic-large (n=1,000,000, d=100), cpu float64"
    fit = run(benchmark, "synthetic-large", spec, CLOSED_FORM[spec], {}, torch.float64)
    theta = torch.cat([fit.weight.ravel(), fit.bias])
    if CLOSED_FORM[spec] in _fits:
        other = _fits[CLOSED_FORM[spec]]
        agreement = float((theta - other).abs().max() / other.abs().max())
        benchmark.extra_info["max_rel_diff_vs_sklearn"] = agreement
        assert agreement <= 1e-10, f"{spec} differs from scikit-learn by {agreement:.2g}"
    _fits[spec] = theta
