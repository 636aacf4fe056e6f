"""The symmetric Gram (MKL's syrk through torch's own library) and its fallback to the GEMM."""

from __future__ import annotations

import platform

import pytest
import torch

import impls.gram as gram
import impls.syrk as syrk

pytestmark = pytest.mark.quick

MKL_SYRK = not syrk.syrk_unavailable_reason(torch.float64)
needs_syrk = pytest.mark.skipif(not MKL_SYRK, reason=f"no MKL syrk here: {syrk.syrk_unavailable_reason(torch.float64)}")


@pytest.fixture
def fresh_check():
    """The first-use check is cached per dtype: clear it around tests that change what it sees."""
    syrk.syrk_unavailable_reason.cache_clear()
    yield
    syrk.syrk_unavailable_reason.cache_clear()


def within_summation_bound(computed: torch.Tensor, X: torch.Tensor, Y: torch.Tensor) -> None:
    """|fl(XᵀY) − XᵀY| ≤ γ_n |X|ᵀ|Y|, γ_n = n·u / (1 − n·u): the bound any order of summation meets
    on an IEEE-754 machine (Higham, Accuracy and Stability, §3.5), for every BLAS."""
    n, u = X.shape[0], torch.finfo(computed.dtype).eps / 2
    gamma = n * u / (1 - n * u)
    exact = X.double().T @ Y.double()  # float64 reference: its own error is far below a float32 bound
    bound = gamma * (X.double().abs().T @ Y.double().abs())
    if computed.dtype == torch.float64:  # the reference is float64 too: allow its own bound as well
        bound = 2 * bound
    assert bool(((computed.double() - exact).abs() <= bound).all())


@needs_syrk
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_syrk_gram_meets_the_summation_bound_and_is_symmetric(monkeypatch, dtype):
    monkeypatch.setattr(gram, "SYRK_BLOCK_BYTES", 300 * 40 * 8)  # several blocks and a short last one
    g = torch.Generator().manual_seed(0)
    X = (torch.randn(2000, 40, generator=g, dtype=torch.float64) + 3.0).to(dtype)
    y = torch.randn(2000, 2, generator=g, dtype=torch.float64).to(dtype)
    calls = []
    monkeypatch.setattr(gram, "syrk_lower_", lambda C, A: (calls.append(A.shape[0]), syrk.syrk_lower_(C, A)))
    XtX, Xty, x_sum, y_sum = gram.gram_and_sums(X, y)
    assert sum(calls) == 2000 and len(calls) > 1  # the symmetric update ran, block by block
    assert torch.equal(XtX, XtX.T)
    within_summation_bound(XtX, X, X)
    within_summation_bound(Xty, X, y)
    within_summation_bound(x_sum[:, None], X, torch.ones(2000, 1, dtype=dtype))
    assert x_sum.is_contiguous() and Xty.shape == (40, 2) and y_sum.shape == (2,)


@needs_syrk
def test_syrk_splits_calls_so_its_integer_arguments_stay_small(monkeypatch):
    monkeypatch.setattr(syrk, "MAX_ROWS", 64)
    X = torch.randn(1000, 33, dtype=torch.float64)
    C = torch.zeros(33, 33, dtype=torch.float64)
    syrk.syrk_lower_(C, X)
    torch.testing.assert_close(torch.tril(C), torch.tril(X.T @ X))
    assert torch.equal(torch.triu(C, 1), torch.zeros(33, 33, dtype=torch.float64))  # upper left alone


@needs_syrk
def test_a_row_slice_of_a_wider_matrix_is_read_in_place_and_a_strided_column_view_is_not():
    wide = torch.randn(500, 80, dtype=torch.float64)
    rows_view, every_other = wide[:, :40], wide[:, ::2]
    assert syrk.syrk_available(rows_view) and not syrk.syrk_available(every_other)
    assert not syrk.syrk_available(wide.T)
    for X in (rows_view, every_other, wide.T.contiguous().T):  # the last has column stride 500
        XtX = gram.gram_and_sums(X, torch.ones(X.shape[0], 1, dtype=torch.float64))[0]
        within_summation_bound(XtX, X, X)


def test_without_the_symbol_the_gram_falls_back_to_the_gemm(monkeypatch, fresh_check):
    monkeypatch.setattr(syrk, "_entry", lambda dtype: None)
    assert "exports no mkl_blas_dsyrk" in syrk.syrk_unavailable_reason(torch.float64)
    X = torch.randn(300, 40, dtype=torch.float64)
    assert not syrk.syrk_available(X)
    XtX = gram.gram_and_sums(X, torch.ones(300, 1, dtype=torch.float64))[0]
    within_summation_bound(XtX, X, X)


def test_an_entry_point_that_computes_something_else_is_refused_on_first_use(monkeypatch, fresh_check):
    monkeypatch.setattr(syrk, "_entry", lambda dtype: lambda *args: None)  # leaves C untouched: zeros
    assert syrk.syrk_unavailable_reason(torch.float32) == "mkl_blas_ssyrk gave a wrong AᵀA on its first-use check"
    assert not syrk.syrk_available(torch.randn(10, 40))


def test_other_dtypes_and_devices_never_take_the_symmetric_path():
    assert syrk.syrk_unavailable_reason(torch.float16) == "no syrk for torch.float16"
    assert not syrk.syrk_available(torch.randn(10, 40, dtype=torch.float16))
    assert not syrk.syrk_available(torch.randn(10, 40, device="meta"))


@pytest.mark.skipif(
    platform.machine() != "x86_64" or not torch.backends.mkl.is_available(),
    reason="only torch's x86-64 wheels link MKL statically",
)
def test_torch_wheels_with_mkl_take_the_symmetric_update():
    """Where it should work it must: a broken call would otherwise only show as a slower Gram."""
    assert syrk.syrk_unavailable_reason(torch.float64) == ""
    assert syrk.syrk_unavailable_reason(torch.float32) == ""
