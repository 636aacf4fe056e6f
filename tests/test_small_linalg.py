"""The p × p stage of the closed form runs on one intra-op thread (small_linalg.py says why)."""

import pytest
import torch

import impls
from impls.small_linalg import SMALL_SOLVE_FLOPS, small_solve_threads


@pytest.fixture(autouse=True)
def _restore_threads():
    before = torch.get_num_threads()
    yield
    torch.set_num_threads(before)


def test_a_small_solve_runs_on_one_thread_and_restores_the_count():
    torch.set_num_threads(2)
    with small_solve_threads(200, torch.device("cpu")):
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == 2
    big = int(SMALL_SOLVE_FLOPS ** (1 / 3)) + 2
    with small_solve_threads(big, torch.device("cpu")):
        assert torch.get_num_threads() == 2  # large p: the second thread has work to share
    with small_solve_threads(200, torch.device("cuda")):
        assert torch.get_num_threads() == 2  # a CUDA solve does not use the CPU pool


def test_the_default_closed_form_decides_and_factorises_on_one_thread(monkeypatch):
    seen = {}
    for name in ("eigvalsh", "cholesky"):
        real = getattr(torch.linalg, name)

        def spy(*args, real=real, name=name, **kwargs):
            seen[name] = torch.get_num_threads()
            return real(*args, **kwargs)

        monkeypatch.setattr(torch.linalg, name, spy)
    torch.set_num_threads(2)
    X = torch.randn(500, 20, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    fit = impls.create("normal-equation").fit(X, X @ torch.ones(20, 1, dtype=torch.float64))
    assert seen == {"eigvalsh": 1, "cholesky": 1} and torch.get_num_threads() == 2
    assert torch.allclose(fit.weight, torch.ones(1, 20, dtype=torch.float64), atol=1e-10)
