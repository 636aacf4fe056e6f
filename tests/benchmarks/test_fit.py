"""`pytest --benchmark-only`: every implementation x device x dtype x problem (tutorials, synthetic, NIST StRD).

Each case goes through the `linreg_bench` fixture that users get in their own repositories (the
`pytest11` plugin, bench/pytest_plugin): the harness's own `prepare`, the synchronised fit timed by
pytest-benchmark, the recovery figures in `extra_info`, and a failure when the status is not the
problem's known result.
"""

from __future__ import annotations

import pytest
import torch

import impls
from bench.harness.cases import dtype_name
from bench.problems import builtin as problems

TUTORIALS = ["d2l", "univariate", "crop-yields", "crop-yields-5"]
SYNTHETIC = ["synthetic-small", "synthetic-medium", "synthetic-large"]
STRD = list(problems.STRD)  # NIST StRD: certified digits (`lre_min`) tracked beside the times


def dataset_params() -> list:
    large = pytest.mark.large
    names = TUTORIALS + SYNTHETIC + STRD
    return [pytest.param(name, marks=[large] if name.endswith("large") else []) for name in names]


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=dtype_name)
@pytest.mark.parametrize("device", ["cpu", "cuda"])
@pytest.mark.parametrize("impl", impls.available())
@pytest.mark.parametrize("dataset", dataset_params())
def test_fit(linreg_bench, request, dataset: str, impl: str, device: str, dtype: torch.dtype) -> None:
    if dataset.endswith("large") and not request.config.getoption("--run-large"):
        pytest.skip("the large problem (1,000,000 x 100) runs only with --run-large")
    linreg_bench(impl, dataset, device=device, dtype=dtype)
