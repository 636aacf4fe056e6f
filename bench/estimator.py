"""Every implementation as a scikit-learn estimator: Pipeline, cross_val_score, GridSearchCV.

Parameters left at None take the implementation's own default, so `LinearRegressor(impl="nn-linear",
optimizer="adam", lr=0.1)` means what it says and `get_params` / `set_params` / `clone` work as
scikit-learn expects. Input is validated once here, at the boundary, with scikit-learn's own checks.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils.validation import check_is_fitted, validate_data

import impls
from bench.harness.cases import parse_dtype

OPTION_PARAMS = ("solver", "scaling", "accumulate", "epochs", "lr", "batch_size", "optimizer", "optimizer_args",
                 "init", "init_std", "seed", "loader", "estimator", "estimator_args")  # fmt: skip


class LinearRegressor(RegressorMixin, BaseEstimator):
    """A linreg-bench implementation (`impl`, any registered name) behind the estimator API."""

    def __init__(
        self,
        impl: str = "normal-equation",
        *,
        fit_intercept: bool = True,
        device: str = "cpu",
        dtype: str = "float64",
        solver: str | None = None,
        scaling: str | None = None,
        accumulate: str | None = None,
        epochs: int | None = None,
        lr: float | None = None,
        batch_size: int | None = None,
        optimizer: str | None = None,
        optimizer_args: dict | None = None,
        init: str | None = None,
        init_std: float | None = None,
        seed: int | None = None,
        loader: str | None = None,
        estimator: str | None = None,
        estimator_args: dict | None = None,
        options: dict | None = None,
    ) -> None:
        self.impl = impl
        self.fit_intercept = fit_intercept
        self.device = device
        self.dtype = dtype
        self.solver = solver
        self.scaling = scaling
        self.accumulate = accumulate
        self.epochs = epochs
        self.lr = lr
        self.batch_size = batch_size
        self.optimizer = optimizer
        self.optimizer_args = optimizer_args
        self.init = init
        self.init_std = init_std
        self.seed = seed
        self.loader = loader
        self.estimator = estimator
        self.estimator_args = estimator_args
        self.options = options

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True  # (n, k) targets are native: weight is (k, d)
        return tags

    def _implementation(self) -> impls.Implementation:
        cls = impls.implementation_class(self.impl)
        given = {name: getattr(self, name) for name in OPTION_PARAMS if getattr(self, name) is not None}
        given.update(self.options or {})
        impls.check_option_names(cls.Options, given, self.impl, "LinearRegressor's parameters")
        implementation = cls(**given, fit_intercept=self.fit_intercept)
        reason = implementation.unsupported_reason(self.device, parse_dtype(self.dtype))
        if reason is not None:
            raise ValueError(reason)
        return implementation

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> LinearRegressor:
        X, y = validate_data(self, X, y, multi_output=True, y_numeric=True, dtype=[np.float64, np.float32])
        implementation = self._implementation()
        dtype = parse_dtype(self.dtype)
        X_t = torch.tensor(X, dtype=dtype, device=self.device)  # a copy: the input may be read-only
        y_t = torch.tensor(y, dtype=dtype, device=self.device)
        if sample_weight is not None:
            sample_weight = np.asarray(sample_weight, dtype=np.float64)
            if sample_weight.ndim == 0:  # scikit-learn's convention: one number weighs every row alike
                sample_weight = np.full(X.shape[0], float(sample_weight))
        fit = implementation.fit(X_t, y_t if y_t.ndim == 2 else y_t[:, None], sample_weight=sample_weight)
        weight, bias = fit.weight.double().cpu().numpy(), fit.bias.double().cpu().numpy()
        if not (np.isfinite(weight).all() and np.isfinite(bias).all()):
            raise ValueError(f"{self.impl} diverged: non-finite parameters (lower lr, or standardise X)")
        self.coef_ = weight if y.ndim == 2 else weight[0]
        self.intercept_ = bias if y.ndim == 2 else float(bias[0])
        self.losses_ = list(fit.losses)
        self.notes_ = list(fit.notes)
        self.objective_ = implementation.objective()  # what it estimates: how the harness would judge it
        return self

    def predict(self, X: Any) -> np.ndarray:
        check_is_fitted(self, "coef_")
        X = validate_data(self, X, reset=False, dtype=[np.float64, np.float32])
        return np.asarray(X, dtype=np.float64) @ np.asarray(self.coef_).T + self.intercept_
