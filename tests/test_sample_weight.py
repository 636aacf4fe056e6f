"""sample_weight: the weighted least-squares answer from every closed form and the sklearn
implementation, through the estimator too; refused in one line where it is not supported."""

import numpy as np
import pytest
import torch
from sklearn.linear_model import LinearRegression

import impls
from bench.estimator import LinearRegressor
from impls import InvalidInput


@pytest.fixture(scope="module")
def weighted():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(80, 3)) + np.array([5.0, -2.0, 0.5])
    y = X @ [[1.0, 0.5], [-2.0, 1.0], [0.3, 0.0]] + [4.0, -1.0] + rng.normal(scale=0.5, size=(80, 2))
    w = rng.uniform(0.1, 5.0, size=80)
    w[:10] = 0.0  # zero weights drop rows out
    reference = LinearRegression().fit(X, y, sample_weight=w)
    return X, y, w, reference


SPECS = [("normal-equation", {"solver": s}) for s in ("auto", "svd", "qr", "lstsq", "cholesky")] + [
    ("normal-equation", {"scaling": "none", "solver": "svd"}), ("sklearn", {}),
]  # fmt: skip


@pytest.mark.parametrize(("name", "options"), SPECS)
def test_weighted_fit_is_the_weighted_least_squares_optimum(name, options, weighted):
    X, y, w, reference = weighted
    fit = impls.create(name, **options).fit(torch.from_numpy(X), torch.from_numpy(y), sample_weight=w)
    np.testing.assert_allclose(fit.weight.numpy(), reference.coef_, rtol=1e-9, atol=1e-10)
    np.testing.assert_allclose(fit.bias.numpy(), reference.intercept_, rtol=1e-9, atol=1e-10)
    unweighted = impls.create(name, **options).fit(torch.from_numpy(X), torch.from_numpy(y))
    assert not np.allclose(unweighted.weight.numpy(), reference.coef_, rtol=1e-6)  # the weights mattered


def test_integer_weights_equal_repeated_rows(weighted):
    X, y, _, _ = weighted
    counts = np.arange(len(X)) % 3
    repeated = impls.create("normal-equation").fit(torch.from_numpy(np.repeat(X, counts, axis=0)),
                                                   torch.from_numpy(np.repeat(y, counts, axis=0)))  # fmt: skip
    weighted_fit = impls.create("normal-equation").fit(torch.from_numpy(X), torch.from_numpy(y), sample_weight=counts)
    torch.testing.assert_close(weighted_fit.weight, repeated.weight)
    torch.testing.assert_close(weighted_fit.bias, repeated.bias)


def test_no_intercept_weighted(weighted):
    X, y, w, _ = weighted
    reference = LinearRegression(fit_intercept=False).fit(X, y, sample_weight=w)
    fit = impls.create("normal-equation", fit_intercept=False).fit(torch.from_numpy(X), torch.from_numpy(y), w)
    np.testing.assert_allclose(fit.weight.numpy(), reference.coef_, rtol=1e-9)
    assert fit.bias.abs().max() == 0


ITERATIVE = {  # full batch, enough steps to reach the weighted optimum on well-scaled data
    "manual-gradient": {"lr": 0.5, "epochs": 400},
    "manual-autograd": {"lr": 0.5, "epochs": 400},
    "d2l-reference": {"lr": 0.5, "epochs": 400},
    "nn-linear": {"optimizer": "lbfgs", "optimizer_args": {"line_search_fn": "strong_wolfe"}, "lr": 1.0, "epochs": 30},
}


@pytest.mark.parametrize("name", ITERATIVE)
def test_iterative_implementations_train_on_the_weighted_objective(name):
    rng = np.random.default_rng(4)
    X = rng.normal(size=(60, 2))
    y = X @ np.array([[1.5], [-0.5]]) + 2.0 + rng.normal(scale=0.3, size=(60, 1))
    w = rng.uniform(0.0, 3.0, size=60)
    reference = LinearRegression().fit(X, y, sample_weight=w)
    unweighted = LinearRegression().fit(X, y)
    impl = impls.create(name, batch_size=60, init="zeros", **ITERATIVE[name])
    fit = impl.fit(torch.from_numpy(X), torch.from_numpy(y), sample_weight=w)
    np.testing.assert_allclose(fit.weight.numpy(), reference.coef_, rtol=1e-5)
    np.testing.assert_allclose(fit.bias.numpy(), reference.intercept_, rtol=1e-5)
    assert np.abs(reference.coef_ - unweighted.coef_).max() > 1e-2  # the weights mattered
    assert "weighted by sample_weight" in fit.notes[-1]


def test_an_implementation_that_declares_no_weights_refuses_them_in_one_line(weighted):
    X, y, w, _ = weighted
    impl = impls.create("normal-equation")
    impl.supports_sample_weight = False  # as a plug-in that declares none
    with pytest.raises(InvalidInput, match="normal-equation does not support sample_weight"):
        impl.fit(torch.from_numpy(X), torch.from_numpy(y), sample_weight=w)


@pytest.mark.parametrize(
    ("weights", "message"),
    [(np.ones(5), r"shape \(80,\)"), (-np.ones(80), "finite and >= 0"), (np.zeros(80), "every sample weight is zero")],
)
def test_bad_weights_are_named(weights, message, weighted):
    X, y, _, _ = weighted
    with pytest.raises(InvalidInput, match=message):
        impls.create("normal-equation").fit(torch.from_numpy(X), torch.from_numpy(y), sample_weight=weights)


def test_the_estimator_takes_sample_weight_as_scikit_learn_does(weighted):
    X, y, w, _ = weighted
    ours = LinearRegressor().fit(X, y[:, 0], sample_weight=w)
    expected = LinearRegression().fit(X, y[:, 0], sample_weight=w)
    np.testing.assert_allclose(ours.coef_, expected.coef_, rtol=1e-9)
    assert ours.intercept_ == pytest.approx(expected.intercept_, rel=1e-9)
    assert ours.score(X, y[:, 0], sample_weight=w) == pytest.approx(expected.score(X, y[:, 0], sample_weight=w))
