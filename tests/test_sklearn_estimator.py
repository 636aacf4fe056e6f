"""Every implementation is a scikit-learn estimator, and passes scikit-learn's own checks."""

import numpy as np
import pytest
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

from bench.estimator import LinearRegressor
from impls import implementation_class

# Every check passes for every implementation, except one sample-weight check for the iterative
# ones (declared below); the only skips are scikit-learn's own array-API checks, run only when
# SCIPY_ARRAY_API=1 is set.
ESTIMATORS = [
    LinearRegressor(),
    LinearRegressor("normal-equation", solver="cholesky"),
    LinearRegressor("sklearn"),
    LinearRegressor("manual-autograd", epochs=3),
    LinearRegressor("nn-linear", optimizer="adam", lr=0.05, epochs=3),
]


def declared_unsupported(estimator: LinearRegressor) -> dict[str, str]:
    """SGD visits each row once an epoch, so integer weights are not repeated rows (more steps):
    scikit-learn's equivalence check cannot hold for the iterative implementations, by design."""
    if not implementation_class(estimator.impl).iterative:
        return {}
    return {"check_sample_weight_equivalence_on_dense_data": "SGD: integer weights are not repeated rows"}


@parametrize_with_checks(ESTIMATORS, expected_failed_checks=declared_unsupported)
def test_scikit_learn_estimator_checks(estimator, check):
    check(estimator)


def data(n=200, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3))
    return X, X @ np.array([1.0, -2.0, 0.5]) + 3.0 + 0.01 * rng.normal(size=n)


@pytest.mark.parametrize("impl", ["normal-equation", "sklearn", "manual-autograd", "nn-linear"])
def test_pipeline_and_cross_validation(impl):
    X, y = data()
    options = {} if impl in ("normal-equation", "sklearn") else {"lr": 0.1, "epochs": 20}
    scores = cross_val_score(make_pipeline(StandardScaler(), LinearRegressor(impl, **options)), X, y, cv=3)
    assert scores.min() > 0.99


def test_grid_search_tunes_an_optimizer():
    X, y = data()
    search = GridSearchCV(LinearRegressor("nn-linear", optimizer="sgd", epochs=5), {"lr": [1e-4, 0.05]}, cv=3)
    search.fit(X, y)
    assert search.best_params_ == {"lr": 0.05}
    assert search.best_estimator_.coef_.shape == (3,) and isinstance(search.best_estimator_.intercept_, float)


def test_multi_output_shapes_and_options_are_checked():
    X, y = data()
    Y = np.column_stack([y, -y])
    model = LinearRegressor().fit(X, Y)
    assert model.coef_.shape == (2, 3) and model.intercept_.shape == (2,)
    assert model.predict(X).shape == (200, 2)
    with pytest.raises(ValueError, match="sklearn has no option lr"):
        LinearRegressor("sklearn", lr=0.1).fit(X, y)
    with pytest.raises(ValueError, match="runs on cpu only"):
        LinearRegressor("sklearn", device="cuda").fit(X, y)
    with pytest.raises(ValueError, match="Input X contains NaN"):
        LinearRegressor().fit(np.full((5, 3), np.nan), np.zeros(5))
