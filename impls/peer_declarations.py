"""The peers users would pick instead of linreg-bench's own closed forms, declared apart from their
code (torch-free, like impls/declarations.py). They are opt-in: not in `impls.available()` nor in a
default run, listed by `impls.peers()`, run by name (`--impl sklearnex`), and skipped with the
reason where their package is not installed (`pip install "linreg-bench[peers]"`)."""

from __future__ import annotations

from impls.declarations import Declaration
from impls.peer_options import ScipyLstsqOptions

SKLEARNEX = Declaration(
    "sklearnex",
    "impls.other_libraries:Sklearnex",
    "Intel oneDAL through scikit-learn-intelex: one blocked pass for XᵀX and Xᵀy, then Cholesky (CPU)",
    devices=("cpu",),
)
STATSMODELS = Declaration(
    "statsmodels",
    "impls.other_libraries:StatsmodelsOLS",
    "statsmodels OLS (pinv, the statisticians' reference; its standard errors match the judge's), float64",
    devices=("cpu",),
)
SCIPY_LSTSQ = Declaration(
    "scipy-lstsq",
    "impls.other_libraries:ScipyLstsq",
    "scipy.linalg.lstsq on [X 1] with a LAPACK driver: gelsd (default) | gelsy | gelss (CPU)",
    ScipyLstsqOptions,
    devices=("cpu",),
)
NUMPY_LSTSQ = Declaration(
    "numpy-lstsq",
    "impls.other_libraries:NumpyLstsq",
    "numpy.linalg.lstsq on [X 1] (gelsd; computes float32 input in float64) (CPU)",
    devices=("cpu",),
)
CUML = Declaration(
    "cuml",
    "impls.other_libraries:CuMLLinearRegression",
    "RAPIDS cuML LinearRegression (eig) on the GPU, through DLPack (CUDA only)",
    devices=("cuda",),
)

PEERS: tuple[Declaration, ...] = (SKLEARNEX, STATSMODELS, SCIPY_LSTSQ, NUMPY_LSTSQ, CUML)
