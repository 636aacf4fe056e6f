"""The public `fit` of every implementation checks its input once; the harness times the
unchecked fit. Before this, a 1-D y was an IndexError deep inside, and integer X was fitted
as integers by the sklearn implementation (weights [1, -1, 0], bias 2) without a word."""

import numpy as np
import pytest
import scipy.sparse
import torch

import impls
from bench.harness.cases import Case, ImplSpec
from bench.harness.preparation import prepare
from bench.problems.builtin import d2l
from impls import InvalidInput

NAMES = impls.available()


@pytest.fixture(scope="module")
def data():
    g = torch.Generator().manual_seed(0)
    X = torch.randn(60, 3, generator=g, dtype=torch.float64)
    y = X @ torch.tensor([[1.4, -1.8, 0.5]], dtype=torch.float64).T + 3.0
    return X, y


@pytest.mark.parametrize("name", NAMES)
def test_a_1d_target_is_refused_with_the_hint(name, data):
    X, y = data
    with pytest.raises(InvalidInput, match=r"y must be 2-D \(n, k\), got shape \(60,\) \(use y\[:, None\]"):
        impls.create(name).fit(X, y[:, 0])


@pytest.mark.parametrize("name", NAMES)
def test_integer_input_is_refused_never_fitted_as_integers(name, data):
    X, y = data
    with pytest.raises(InvalidInput, match="X has dtype int64; convert it to a floating dtype"):
        impls.create(name).fit((X * 10).long(), y)


@pytest.mark.parametrize("name", NAMES)
def test_mixed_dtypes_are_refused_by_every_implementation_alike(name, data):
    X, y = data
    with pytest.raises(InvalidInput, match=r"X is torch\.float64 but y is torch\.float32; use one dtype for both"):
        impls.create(name).fit(X, y.float())


@pytest.mark.parametrize("name", NAMES)
def test_numpy_arrays_are_converted_and_the_fit_says_so(name, data):
    X, y = data
    from_numpy = impls.create(name).fit(X.numpy(), y.numpy())
    from_torch = impls.create(name).fit(X, y)
    assert from_numpy.notes[0] == "X was a NumPy float64 array: converted with torch.as_tensor"
    torch.testing.assert_close(from_numpy.weight, from_torch.weight)


@pytest.mark.parametrize("sparse", [lambda X: scipy.sparse.csr_matrix(X.numpy()), lambda X: X.to_sparse()])
def test_sparse_input_is_refused_in_one_line_naming_the_alternative(sparse, data):
    X, y = data
    with pytest.raises(InvalidInput, match=r"X is sparse; .* densify it"):
        impls.create("normal-equation").fit(sparse(X), y)


def test_an_unsupported_device_is_refused_at_the_boundary(data, monkeypatch):
    X, y = data
    impl = impls.create("sklearn")
    monkeypatch.setattr(type(impl), "dtypes", (torch.float32,))
    with pytest.raises(InvalidInput, match="sklearn supports float32 only, not float64"):
        impl.fit(X, y)


def test_the_sklearn_case_of_the_issue_now_gets_the_right_answer(data):
    X, y = data
    fit = impls.create("sklearn").fit(X, y)  # float input: the real answer
    torch.testing.assert_close(fit.weight, torch.tensor([[1.4, -1.8, 0.5]], dtype=torch.float64))
    assert np.isclose(float(fit.bias[0]), 3.0)


def test_the_harness_times_the_unchecked_fit(monkeypatch):
    prepared = prepare(d2l(), Case(ImplSpec("normal-equation"), "cpu", torch.float64), {})
    calls = []
    monkeypatch.setattr("impls.validation.validate", lambda *a, **k: calls.append("validated"))
    prepared.fit()
    assert calls == []  # validated once in prepare, never inside the timed call
