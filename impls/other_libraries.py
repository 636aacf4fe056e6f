"""Other libraries' linear regression behind the one interface, so a comparison shows them side by
side with the same timing and the same judge. Each imports its library only when it fits, and says
why it cannot run where the library is missing."""

from __future__ import annotations

import importlib.util

import numpy as np
import torch

from impls.base import Implementation
from impls.fit import LinearFit
from impls.objective import EXACT_LEAST_SQUARES, Objective
from impls.peer_declarations import CUML, NUMPY_LSTSQ, SCIPY_LSTSQ, SKLEARNEX, STATSMODELS
from impls.peer_options import LAPACK_DRIVERS, ScipyLstsqOptions


def installed(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def _missing(module: str, install: str) -> str | None:
    return None if installed(module) else f"{module} is not installed ({install})"


def _from_numpy(coef: np.ndarray, intercept: np.ndarray, like: torch.Tensor) -> LinearFit:
    weight = torch.from_numpy(np.array(coef, dtype=np.float64, order="C")).to(like.dtype)  # copies: writable
    bias = torch.from_numpy(np.array(intercept, dtype=np.float64)).to(like.dtype)
    return LinearFit(weight, bias)


class _Peer(Implementation):
    """A CPU library on NumPy arrays (the tensor ↔ NumPy round trip is timed, as for sklearn)."""

    peaks_library = "numpy"
    requires: tuple[str, str] = ("", "")  # (module, how to install it)

    def objective(self) -> Objective:
        return EXACT_LEAST_SQUARES

    def unsupported_reason(self, device: str | torch.device, dtype: torch.dtype) -> str | None:
        return _missing(*self.requires) or super().unsupported_reason(device, dtype)


class Sklearnex(_Peer, declaration=SKLEARNEX):
    requires = ("sklearnex", 'pip install scikit-learn-intelex, or "linreg-bench[peers]"')

    def fit_unchecked(self, X: torch.Tensor, y: torch.Tensor) -> LinearFit:
        from sklearnex.linear_model import LinearRegression

        model = LinearRegression(fit_intercept=self.options.fit_intercept).fit(X.numpy(), y.numpy())
        coef = np.asarray(model.coef_).reshape(y.shape[1], X.shape[1])
        return _from_numpy(coef, np.broadcast_to(model.intercept_, (y.shape[1],)), X)


class StatsmodelsOLS(_Peer, declaration=STATSMODELS):
    requires = ("statsmodels", 'pip install statsmodels, or "linreg-bench[peers]"')
    dtypes = (torch.float64,)  # statsmodels computes in float64 whatever it is given

    def fit_unchecked(self, X: torch.Tensor, y: torch.Tensor) -> LinearFit:
        import statsmodels.api as sm

        design = sm.add_constant(X.numpy(), has_constant="add") if self.options.fit_intercept else X.numpy()
        coefs, intercepts = [], []
        for target in y.numpy().T:  # OLS's standard errors are per target
            params = sm.OLS(target, design).fit().params
            coefs.append(params[1:] if self.options.fit_intercept else params)
            intercepts.append(params[0] if self.options.fit_intercept else 0.0)
        return _from_numpy(np.stack(coefs), np.array(intercepts), X)


class _LstsqOnDesign(_Peer):
    def solve(self, A: np.ndarray, y: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def fit_unchecked(self, X: torch.Tensor, y: torch.Tensor) -> LinearFit:
        X_np, y_np = X.numpy(), y.numpy()
        A = np.column_stack([X_np, np.ones(len(X_np), dtype=X_np.dtype)]) if self.options.fit_intercept else X_np
        theta = self.solve(A, y_np)
        d = X.shape[1]
        intercept = theta[d] if self.options.fit_intercept else np.zeros(y.shape[1])
        return _from_numpy(theta[:d].T, intercept, X)


class ScipyLstsq(_LstsqOnDesign, declaration=SCIPY_LSTSQ):
    requires = ("scipy", "pip install scipy")
    grid = {"driver": LAPACK_DRIVERS}

    def solve(self, A: np.ndarray, y: np.ndarray) -> np.ndarray:
        from scipy import linalg

        options: ScipyLstsqOptions = self.options
        return linalg.lstsq(A, y, lapack_driver=options.driver, check_finite=False)[0]


class NumpyLstsq(_LstsqOnDesign, declaration=NUMPY_LSTSQ):
    requires = ("numpy", "pip install numpy")

    def solve(self, A: np.ndarray, y: np.ndarray) -> np.ndarray:
        return np.linalg.lstsq(A, y, rcond=None)[0]


class CuMLLinearRegression(Implementation, declaration=CUML):
    """cuML on the GPU: tensors handed over through DLPack (no copy), parameters back the same way."""

    def objective(self) -> Objective:
        return EXACT_LEAST_SQUARES

    def unsupported_reason(self, device: str | torch.device, dtype: torch.dtype) -> str | None:
        reason = super().unsupported_reason(device, dtype)
        return reason or _missing("cuml", "RAPIDS cuML: conda or pip install cuml-cu12, CUDA machines only")

    def fit_unchecked(self, X: torch.Tensor, y: torch.Tensor) -> LinearFit:
        import cupy
        from cuml.linear_model import LinearRegression

        model = LinearRegression(fit_intercept=self.options.fit_intercept, algorithm="eig")
        coefs, intercepts = [], []
        for j in range(y.shape[1]):  # one target at a time: cuML's LinearRegression takes a vector
            model.fit(cupy.from_dlpack(X), cupy.from_dlpack(y[:, j].contiguous()))
            coefs.append(torch.from_dlpack(cupy.asarray(model.coef_).reshape(-1)))
            intercepts.append(float(model.intercept_) if self.options.fit_intercept else 0.0)
        weight = torch.stack(coefs).to(X.dtype)
        return LinearFit(weight, torch.tensor(intercepts, dtype=X.dtype, device=X.device))
