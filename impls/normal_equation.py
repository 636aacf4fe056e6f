"""The closed form: least squares on the design matrix `A = [X 1]` by one of four factorisations."""

from __future__ import annotations

import math

import torch

from impls.base import Implementation
from impls.cost import Cost, closed_form, combined
from impls.declarations import NORMAL_EQUATION
from impls.fit import FitFacts, LinearFit
from impls.gram import AUTO_MAX_COND, centred_gram, gram_and_sums
from impls.objective import EXACT_LEAST_SQUARES, Objective
from impls.options import SCALINGS, SOLVERS, NormalEquationOptions
from impls.sharded import Collectives
from impls.sharded_closed_form import sharded_normal_equation
from impls.small_linalg import small_solve_threads
from impls.validation import prove_finite
from impls.weighting import to_unweighted

MAX_OFFSET = 1.0  # centre algebraically while every column's mean² ≤ this × its variance


def design_matrix(X: torch.Tensor, fit_intercept: bool) -> torch.Tensor:
    if not fit_intercept:
        return X
    return torch.cat([X, torch.ones(X.shape[0], 1, dtype=X.dtype, device=X.device)], dim=1)


def gram(X: torch.Tensor, y: torch.Tensor, fit_intercept: bool) -> tuple[torch.Tensor, torch.Tensor]:
    """AᵀA and Aᵀy for A = [X 1], from X's sums (the one blocked pass of `gram_and_sums`), without
    copying X into A."""
    XtX, Xty, x_sum, y_sum = gram_and_sums(X, y)
    if not fit_intercept:
        return XtX, Xty
    col_sums = x_sum[None, :]
    n = torch.full((1, 1), X.shape[0], dtype=X.dtype, device=X.device)
    AtA = torch.cat([torch.cat([XtX, col_sums.T], dim=1), torch.cat([col_sums, n], dim=1)], dim=0)
    Aty = torch.cat([Xty, y_sum[None, :]], dim=0)
    return AtA, Aty


def column_norms(X: torch.Tensor) -> torch.Tensor:
    """‖column‖, accumulated in float64 so that squaring cannot overflow (float32 columns of 1e24
    would give inf); 1 for an all-zero column."""
    norms = torch.linalg.vector_norm(X, dim=0, dtype=torch.float64).to(X.dtype)
    return torch.where(norms > 0, norms, torch.ones_like(norms))


def rank_cutoff(s: torch.Tensor, shape: tuple[int, int]) -> torch.Tensor:
    """numpy's `matrix_rank` tolerance: s_max · max(n, p) · eps."""
    return s.max() * max(shape) * torch.finfo(s.dtype).eps


def centred_products(X: torch.Tensor, y: torch.Tensor, work: dict | None = None) -> tuple[torch.Tensor, ...]:
    """(XcᵀXc, Xcᵀyc, x̄, ȳ). Centred algebraically (XᵀX − n·x̄x̄ᵀ) when the column means are small
    against the spread, so nothing cancels; otherwise a second, exactly centring pass (counted in
    `work["gram_passes"]` for the work model)."""
    n = X.shape[0]
    XtX, Xty, x_sum, y_sum = gram_and_sums(X, y)
    prove_finite(X, y, (x_sum, y_sum), "normal-equation")
    x_mean, y_mean = x_sum / n, y_sum / n
    variance = XtX.diagonal() / n - x_mean**2
    if bool((x_mean**2 <= MAX_OFFSET * variance).all()):
        return XtX - n * torch.outer(x_mean, x_mean), Xty - n * torch.outer(x_mean, y_mean), x_mean, y_mean
    if work is not None:
        work["gram_passes"] = 2
    return (*centred_gram(X, y, x_mean, y_mean), x_mean, y_mean)


def solve_auto(
    X: torch.Tensor, y: torch.Tensor, fit_intercept: bool, notes: list[str], work: dict | None = None
) -> tuple[torch.Tensor, tuple[torch.Tensor | None, torch.Tensor | None]] | None:
    """((d, k) coefficients, (x̄, ȳ)), or None when the scaled Gram matrix is too ill-conditioned."""
    if fit_intercept:
        G, b, x_mean, y_mean = centred_products(X, y, work)
    else:
        G, b, x_sum, y_sum = gram_and_sums(X, y)
        prove_finite(X, y, (x_sum, y_sum), "normal-equation")
        x_mean = y_mean = None
    scale = G.diagonal().sqrt()
    scale = torch.where(scale > 0, scale, torch.ones_like(scale))
    G = G / scale[:, None] / scale[None, :]
    with small_solve_threads(G.shape[0], G.device):
        try:
            eigenvalues = torch.linalg.eigvalsh(G)
        except torch.linalg.LinAlgError:  # checked only here: a finiteness test on every fit costs ~2%
            overflow = not bool(torch.isfinite(scale).all())
            why = f"the Gram matrix overflows {str(X.dtype).removeprefix('torch.')}" if overflow else "eigvalsh failed"
            notes.append(f"auto: {why}; used svd on the scaled columns")
            return None
        cond = float(eigenvalues[-1] / eigenvalues[0]) if float(eigenvalues[0]) > 0 else float("inf")
        if cond > AUTO_MAX_COND:
            notes.append(f"auto: cond of the scaled Gram matrix is {cond:.2g} > {AUTO_MAX_COND:g}; used svd")
            return None
        coef = torch.cholesky_solve(b / scale[:, None], torch.linalg.cholesky(G)) / scale[:, None]
    return coef, (x_mean, y_mean)


def solve_svd(
    A: torch.Tensor, y: torch.Tensor, notes: list[str], facts: FitFacts, rank: int | None = None
) -> torch.Tensor:
    """Truncated SVD: the minimum-norm least-squares solution, in A's own units; the rank it finds goes
    into `facts`. `rank`, when given, is the numerical rank found elsewhere (on the scaled columns,
    which decide it fairly)."""
    U, s, Vh = torch.linalg.svd(A, full_matrices=False)
    keep = s > rank_cutoff(s, tuple(A.shape)) if rank is None else torch.arange(s.numel(), device=s.device) < rank
    found = int(keep.sum())
    if rank is None:
        facts.rank, facts.columns = found, A.shape[1]
        if found < A.shape[1]:
            notes.append(f"rank-deficient: rank {found} of {A.shape[1]} columns; minimum-norm solution")
    s_inv = torch.where(keep, 1.0 / s, torch.zeros_like(s))
    return Vh.T @ (s_inv[:, None] * (U.T @ y))


def solve_qr(A: torch.Tensor, y: torch.Tensor, notes: list[str], facts: FitFacts) -> torch.Tensor:
    if A.shape[0] < A.shape[1]:  # R would be wide: no triangular solve, and no unique answer
        notes.append(f"qr: {A.shape[0]} rows for {A.shape[1]} columns, so X is rank-deficient; fell back to svd")
        facts.fell_back = True
        return solve_svd(A, y, notes, facts)
    Q, R = torch.linalg.qr(A, mode="reduced")
    diag = R.diagonal().abs()
    if diag.min() <= rank_cutoff(diag, tuple(A.shape)):
        notes.append("qr: R is singular (rank-deficient X); fell back to svd")
        facts.fell_back = True
        return solve_svd(A, y, notes, facts)
    return torch.linalg.solve_triangular(R, Q.T @ y, upper=True)


def solve_lstsq(A: torch.Tensor, y: torch.Tensor, notes: list[str], facts: FitFacts) -> torch.Tensor:
    driver = "gelsd" if A.device.type == "cpu" else None  # CUDA has only gels
    result = torch.linalg.lstsq(A, y, driver=driver)
    if driver == "gelsd":
        facts.rank, facts.columns = int(result.rank), A.shape[1]
        if facts.rank_deficient:
            notes.append(f"rank-deficient: rank {int(result.rank)} of {A.shape[1]} columns; minimum-norm solution")
    return result.solution


def solve_cholesky(
    X: torch.Tensor, y: torch.Tensor, fit_intercept: bool, notes: list[str], facts: FitFacts
) -> torch.Tensor:
    AtA, Aty = gram(X, y, fit_intercept)
    with small_solve_threads(AtA.shape[0], AtA.device):
        L, info = torch.linalg.cholesky_ex(AtA)
    if int(info) != 0:
        notes.append("cholesky: AᵀA is not positive definite (rank-deficient or badly conditioned X); fell back to svd")
        facts.fell_back = True
        return solve_svd(design_matrix(X, fit_intercept), y, notes, facts)
    # Rounding can leave a singular AᵀA "positive definite", and Cholesky then answers noise. Its
    # factor bounds the condition number from below, (max/min diag L)² (exactly singular ends near
    # 1/eps); past 1/√eps the normal equations keep under half the digits: the note says how many.
    # The answer stays Cholesky's (that is the solver asked for); the judge's digit floor rules on it.
    diag = L.diagonal()
    cond = float((diag.max() / diag.min()) ** 2)
    eps = torch.finfo(AtA.dtype).eps
    if cond * eps**0.5 > 1:
        digits = max(0.0, -math.log10(eps * cond))
        notes.append(
            f"cholesky: AᵀA is nearly singular (condition ≥ {cond:.1e}): expect at most {digits:.0f} correct digits"
        )
    with small_solve_threads(AtA.shape[0], AtA.device):
        return torch.cholesky_solve(Aty, L)


class NormalEquation(Implementation, declaration=NORMAL_EQUATION):
    """Least squares in closed form; `cholesky` solves AᵀA θ = Aᵀy with the Gram matrix built from X."""

    supports_sample_weight = True
    data_parallel = "rows"
    grid = {"solver": SOLVERS, "scaling": SCALINGS}

    def objective(self) -> Objective:
        return EXACT_LEAST_SQUARES

    def checks_finiteness(self) -> bool:
        """`auto` sums X and y in its Gram pass: those sums prove the data finite (validation.py)."""
        return self.options.solver == "auto"

    def fit_unchecked(self, X: torch.Tensor, y: torch.Tensor) -> LinearFit:
        o: NormalEquationOptions = self.options
        dtype, notes, facts = X.dtype, [], FitFacts()
        if o.accumulate == "float64":
            X, y = X.double(), y.double()
        work: dict = {"route": o.solver}
        if o.solver == "auto":
            work.update(route="cholesky", gram_passes=1)
            fast = solve_auto(X, y, o.fit_intercept, notes, work)
            if fast is not None:
                coef, (x_mean, y_mean) = fast
                bias = y_mean - x_mean @ coef if o.fit_intercept else y.new_zeros(y.shape[1])
                return LinearFit(coef.T.to(dtype).contiguous(), bias.to(dtype).contiguous(), notes=notes, work=work)
            work["route"] = "gram-then-svd"
            facts.fell_back = True
        d = X.shape[1]
        if o.scaling == "none":
            theta = self._solve(X, y, o.fit_intercept, notes, facts)
            weight = theta[:d].T
            bias = theta[d] if o.fit_intercept else torch.zeros(y.shape[1], dtype=X.dtype, device=X.device)
        else:
            x_mean = X.mean(dim=0) if o.fit_intercept else torch.zeros(d, dtype=X.dtype, device=X.device)
            y_mean = y.mean(dim=0) if o.fit_intercept else torch.zeros(y.shape[1], dtype=X.dtype, device=X.device)
            Xc = X - x_mean if o.fit_intercept else X
            scale = column_norms(Xc)
            coef = self._solve(Xc / scale, y - y_mean, False, notes, facts) / scale[:, None]  # (d, k)
            if facts.rank_deficient:  # minimum norm in X's units, not the scaled ones': same rank, X's own SVD
                coef = solve_svd(Xc, y - y_mean, notes, FitFacts(), rank=facts.rank)
                notes.append("minimum norm in X's own units")
            weight, bias = coef.T, y_mean - x_mean @ coef
        if facts.fell_back and o.solver != "auto":
            work["route"] = f"{o.solver}-then-svd"
        fit = LinearFit(weight.to(dtype).contiguous(), bias.to(dtype).contiguous(), notes=notes, work=work)
        fit.facts = facts
        return fit

    def fit_weighted(self, X: torch.Tensor, y: torch.Tensor, sample_weight: torch.Tensor) -> LinearFit:
        """The same solver, without an intercept, on the rows scaled by √w about the weighted means."""
        Xw, yw, x_mean, y_mean = to_unweighted(X, y, sample_weight, self.options.fit_intercept)
        inner = self.with_options(fit_intercept=False).fit_unchecked(Xw, yw)
        bias = y_mean - inner.weight @ x_mean
        notes = [*inner.notes, "weighted by sample_weight"]
        return LinearFit(inner.weight, bias.contiguous(), notes=notes, work=inner.work, facts=inner.facts)

    def fit_sharded(self, X: torch.Tensor, y: torch.Tensor, comm: Collectives) -> LinearFit:
        """Each rank's rows reduced to moments or an R factor, exchanged once (impls/sharded_closed_form.py)."""
        o: NormalEquationOptions = self.options
        dtype = X.dtype
        if o.accumulate == "float64":
            X, y = X.double(), y.double()
        fit = sharded_normal_equation(X, y, o.solver, o.fit_intercept, comm)
        return LinearFit(fit.weight.to(dtype), fit.bias.to(dtype), notes=fit.notes, facts=fit.facts)

    def cost(self, n: int, d: int, k: int, itemsize: int) -> Cost:
        return closed_form(self.options.solver, n, d, k, itemsize, self.options.fit_intercept)

    def fit_cost(self, fit: LinearFit, n: int, d: int, k: int, itemsize: int) -> Cost:
        """Priced by the route taken: `auto`'s Gram pass (twice when it centred exactly), plus the
        svd it fell back to; a solver that fell back to svd pays for both."""
        intercept = self.options.fit_intercept
        route = str(fit.work.get("route", self.options.solver))
        first, _, then = route.partition("-then-")
        if first in ("cholesky", "gram") and self.options.solver == "auto":
            passes = float(fit.work.get("gram_passes", 1))
            one_pass = closed_form("cholesky", n, d, k, itemsize, intercept)
            work = Cost(passes * one_pass.bytes, passes * one_pass.flops)
        else:
            work = closed_form(first, n, d, k, itemsize, intercept)
        return combined(work, closed_form(then, n, d, k, itemsize, intercept)) if then else work

    def compute_dtype(self, dtype: torch.dtype) -> torch.dtype:
        return torch.float64 if self.options.accumulate == "float64" else dtype

    def _solve(
        self, X: torch.Tensor, y: torch.Tensor, fit_intercept: bool, notes: list[str], facts: FitFacts
    ) -> torch.Tensor:
        solver = "svd" if self.options.solver == "auto" else self.options.solver
        if solver == "cholesky":
            return solve_cholesky(X, y, fit_intercept, notes, facts)
        solve = {"svd": solve_svd, "qr": solve_qr, "tsqr": solve_qr, "lstsq": solve_lstsq}[solver]
        return solve(design_matrix(X, fit_intercept), y, notes, facts)
