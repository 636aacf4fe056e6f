"""scikit-learn as the reference CPU baseline; the tensor <-> NumPy round trip is part of the fit."""

from __future__ import annotations

import numpy as np
import torch

from impls.base import Implementation
from impls.cost import Cost, closed_form
from impls.declarations import SKLEARN
from impls.fit import LinearFit
from impls.objective import EXACT_LEAST_SQUARES, ITERATIVE_LEAST_SQUARES, PENALISED, Objective, ridge
from impls.options import SklearnOptions

EXACT_RIDGE_SOLVERS = ("auto", "svd", "cholesky")  # Ridge's direct solvers on dense input; the rest iterate


class SklearnBaseline(Implementation, declaration=SKLEARN):
    """`sklearn.linear_model.LinearRegression` by default; CPU only, like scikit-learn."""

    supports_sample_weight = True
    grid = {"estimator": ("LinearRegression",)}
    peaks_library = "numpy"  # LAPACK gelsd through SciPy: NumPy/SciPy's BLAS, not torch's

    def objective(self) -> Objective:
        """LinearRegression: least squares, exactly. Ridge: ‖y − Xw − b‖² + alpha‖w‖² (alpha 1 by
        default). SGDRegressor: (1/n)Σ ½r² + alpha·½‖w‖² with penalty l2 (alpha 1e-4 by default),
        the ridge objective with n·alpha, approached iteratively (`Objective.alpha_per_row`)."""
        o: SklearnOptions = self.options
        args = o.estimator_args
        if o.estimator == "Ridge":
            return ridge(float(args.get("alpha", 1.0)), exact=args.get("solver", "auto") in EXACT_RIDGE_SOLVERS)
        if o.estimator == "SGDRegressor":
            penalty = args.get("penalty", "l2")
            if penalty is None or float(args.get("alpha", 1e-4)) == 0:
                return ITERATIVE_LEAST_SQUARES
            if penalty == "l2":
                return ridge(0.0, exact=False).with_alpha_per_row(float(args.get("alpha", 1e-4)))
            return Objective(PENALISED, exact=False)  # l1 / elasticnet: no closed-form optimum here
        if o.estimator == "LinearRegression":
            return EXACT_LEAST_SQUARES
        return super().objective()

    def cost(self, n: int, d: int, k: int, itemsize: int) -> Cost | None:
        """LinearRegression is LAPACK gelsd (SVD) on centred data; the others have no fixed model."""
        if self.options.estimator != "LinearRegression":
            return None
        return closed_form("svd", n, d, k, itemsize, self.options.fit_intercept)

    def fit_unchecked(self, X: torch.Tensor, y: torch.Tensor) -> LinearFit:
        return self._fit(X, y, None)

    def fit_weighted(self, X: torch.Tensor, y: torch.Tensor, sample_weight: torch.Tensor) -> LinearFit:
        return self._fit(X, y, sample_weight)

    def _fit(self, X: torch.Tensor, y: torch.Tensor, sample_weight: torch.Tensor | None) -> LinearFit:
        from sklearn import linear_model  # here: listing or importing impls needs no scikit-learn

        o: SklearnOptions = self.options
        estimator = getattr(linear_model, o.estimator)(fit_intercept=o.fit_intercept, **o.estimator_args)
        X_np, y_np = X.numpy(), y.numpy()
        weights = {} if sample_weight is None else {"sample_weight": sample_weight.numpy()}
        if o.estimator == "SGDRegressor":  # single-target only
            coefs, intercepts = [], []
            for j in range(y_np.shape[1]):
                estimator.fit(X_np, y_np[:, j], **weights)
                coefs.append(estimator.coef_.copy())
                intercepts.append(np.atleast_1d(estimator.intercept_).copy())
            coef, intercept = np.stack(coefs), np.concatenate(intercepts)
        else:
            estimator.fit(X_np, y_np, **weights)
            coef = np.asarray(estimator.coef_).reshape(y_np.shape[1], X_np.shape[1])
            intercept = np.broadcast_to(np.asarray(estimator.intercept_, dtype=coef.dtype), (y_np.shape[1],)).copy()
        weight = torch.from_numpy(np.ascontiguousarray(coef)).to(X.dtype)
        bias = torch.from_numpy(np.ascontiguousarray(intercept)).to(X.dtype)
        return LinearFit(weight, bias, notes=cutoff_notes(estimator, X_np.shape[1]))


def cutoff_notes(estimator, d: int) -> list[str]:
    """scikit-learn 1.9 passes `LinearRegression(tol=1e-6)` to lstsq as its singular-value cut-off:
    columns of very different scales then lose directions that are there. Say so, with the version
    and the cut-off, so that a `not-recovered` row explains itself (the data are not rank-deficient
    for that: the judge's own rank says whether they are)."""
    import sklearn

    rank = getattr(estimator, "rank_", None)
    tol = estimator.get_params().get("tol")
    if rank is None or rank >= d or tol is None:
        return []
    return [
        f"scikit-learn {sklearn.__version__} LinearRegression kept rank {rank} of {d}: singular values below "
        f"tol={tol:g} × the largest are cut off (its `tol` is lstsq's cut-off since 1.9; pass "
        'estimator_args={"tol": 0} or scale the columns)'
    ]
