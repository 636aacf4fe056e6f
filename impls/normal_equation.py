"""The closed form: least squares on the design matrix `A = [X 1]` by one of four factorisations."""

from __future__ import annotations

import math

import torch

from impls.base import Implementation
from impls.cost import Cost, closed_form
from impls.declarations import NORMAL_EQUATION
from impls.fit import LinearFit
from impls.options import SCALINGS, SOLVERS, NormalEquationOptions
from impls.weighting import to_unweighted

AUTO_MAX_COND = 1e3  # auto takes the Cholesky fast path while cond(centred, scaled Gram) ≤ this: ≤ 3 digits lost
GRAM_BLOCK_BYTES = 2 * 2**20  # CPU: a block stays in L2 for the products after the first (16 MiB: ~7% slower)
GPU_GRAM_BLOCK_BYTES = 256 * 2**20  # CUDA: no cache to aim at, and every product is a launch; few, large blocks
MAX_OFFSET = 1.0  # centre algebraically while every column's mean² ≤ this × its variance


def design_matrix(X: torch.Tensor, fit_intercept: bool) -> torch.Tensor:
    if not fit_intercept:
        return X
    return torch.cat([X, torch.ones(X.shape[0], 1, dtype=X.dtype, device=X.device)], dim=1)


def gram(X: torch.Tensor, y: torch.Tensor, fit_intercept: bool) -> tuple[torch.Tensor, torch.Tensor]:
    """AᵀA and Aᵀy for A = [X 1], from X's sums, without copying X into A."""
    XtX, Xty = X.T @ X, X.T @ y
    if not fit_intercept:
        return XtX, Xty
    col_sums = X.sum(dim=0, keepdim=True)
    n = torch.full((1, 1), X.shape[0], dtype=X.dtype, device=X.device)
    AtA = torch.cat([torch.cat([XtX, col_sums.T], dim=1), torch.cat([col_sums, n], dim=1)], dim=0)
    Aty = torch.cat([Xty, y.sum(dim=0, keepdim=True)], dim=0)
    return AtA, Aty


def column_norms(X: torch.Tensor) -> torch.Tensor:
    """‖column‖, accumulated in float64 so that squaring cannot overflow (float32 columns of 1e24
    would give inf); 1 for an all-zero column."""
    norms = torch.linalg.vector_norm(X, dim=0, dtype=torch.float64).to(X.dtype)
    return torch.where(norms > 0, norms, torch.ones_like(norms))


def rank_cutoff(s: torch.Tensor, shape: tuple[int, int]) -> torch.Tensor:
    """numpy's `matrix_rank` tolerance: s_max · max(n, p) · eps."""
    return s.max() * max(shape) * torch.finfo(s.dtype).eps


def block_rows(n: int, width: int, itemsize: int, device_type: str) -> int:
    """Rows per block of a blocked pass over an n × width matrix: blocks that fit the CPU's L2, so
    the products after the first read them from cache; on a GPU blocks of GPU_GRAM_BLOCK_BYTES,
    where 2 MiB blocks would make 1e6 × 100 float64 ~1,100 launches of tiny products."""
    block_bytes = GPU_GRAM_BLOCK_BYTES if device_type == "cuda" else GRAM_BLOCK_BYTES
    return max(1, min(n, max(256, block_bytes // (width * itemsize))))


def centred_gram(
    X: torch.Tensor, y: torch.Tensor, x_mean: torch.Tensor, y_mean: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """XcᵀXc and Xcᵀyc, block by block: each block of rows is centred into a small buffer that stays
    in cache and multiplied there, so X is read once and never copied whole."""
    n, d = X.shape
    k = y.shape[1]
    rows = block_rows(n, d + k, X.element_size(), X.device.type)
    buffer = torch.empty(rows, d + k, dtype=X.dtype, device=X.device)
    M = torch.zeros(d + k, d + k, dtype=X.dtype, device=X.device)
    for start in range(0, n, rows):
        block = buffer[: min(rows, n - start)]
        torch.sub(X[start : start + rows], x_mean, out=block[:, :d])
        torch.sub(y[start : start + rows], y_mean, out=block[:, d:])
        M.addmm_(block.T, block)
    return M[:d, :d], M[:d, d:]


def gram_and_sums(X: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, ...]:
    """XᵀX, Xᵀy, Xᵀ1 and yᵀ1 in one blocked pass over X, without copying it: each block is read
    from memory by the first product and from cache by the other two."""
    n, d = X.shape
    rows = block_rows(n, d, X.element_size(), X.device.type)
    ones = torch.ones(rows, dtype=X.dtype, device=X.device)
    XtX = torch.zeros(d, d, dtype=X.dtype, device=X.device)
    Xty = torch.zeros(d, y.shape[1], dtype=X.dtype, device=X.device)
    x_sum = torch.zeros(d, dtype=X.dtype, device=X.device)
    for start in range(0, n, rows):
        block, y_block = X[start : start + rows], y[start : start + rows]
        XtX.addmm_(block.T, block)
        Xty.addmm_(block.T, y_block)
        x_sum.addmv_(block.T, ones[: block.shape[0]])
    return XtX, Xty, x_sum, y.sum(dim=0)


def centred_products(X: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, ...]:
    """(XcᵀXc, Xcᵀyc, x̄, ȳ). Centred algebraically (XᵀX − n·x̄x̄ᵀ) when the column means are small
    against the spread, so nothing cancels; otherwise a second, exactly centring pass."""
    n = X.shape[0]
    XtX, Xty, x_sum, y_sum = gram_and_sums(X, y)
    x_mean, y_mean = x_sum / n, y_sum / n
    variance = XtX.diagonal() / n - x_mean**2
    if bool((x_mean**2 <= MAX_OFFSET * variance).all()):
        return XtX - n * torch.outer(x_mean, x_mean), Xty - n * torch.outer(x_mean, y_mean), x_mean, y_mean
    return (*centred_gram(X, y, x_mean, y_mean), x_mean, y_mean)


def solve_auto(
    X: torch.Tensor, y: torch.Tensor, fit_intercept: bool, notes: list[str]
) -> tuple[torch.Tensor, tuple[torch.Tensor | None, torch.Tensor | None]] | None:
    """((d, k) coefficients, (x̄, ȳ)), or None when the scaled Gram matrix is too ill-conditioned."""
    if fit_intercept:
        G, b, x_mean, y_mean = centred_products(X, y)
    else:
        G, b, _, _ = gram_and_sums(X, y)
        x_mean = y_mean = None
    scale = G.diagonal().sqrt()
    scale = torch.where(scale > 0, scale, torch.ones_like(scale))
    G = G / scale[:, None] / scale[None, :]
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


def solve_svd(A: torch.Tensor, y: torch.Tensor, notes: list[str], rank: int | None = None) -> torch.Tensor:
    """Truncated SVD: the minimum-norm least-squares solution, in A's own units. `rank`, when given,
    is the numerical rank found elsewhere (on the scaled columns, which decide it fairly)."""
    U, s, Vh = torch.linalg.svd(A, full_matrices=False)
    keep = s > rank_cutoff(s, tuple(A.shape)) if rank is None else torch.arange(s.numel(), device=s.device) < rank
    found = int(keep.sum())
    if rank is None and found < A.shape[1]:
        notes.append(f"rank-deficient: rank {found} of {A.shape[1]} columns; minimum-norm solution")
    s_inv = torch.where(keep, 1.0 / s, torch.zeros_like(s))
    return Vh.T @ (s_inv[:, None] * (U.T @ y))


def solve_qr(A: torch.Tensor, y: torch.Tensor, notes: list[str]) -> torch.Tensor:
    if A.shape[0] < A.shape[1]:  # R would be wide: no triangular solve, and no unique answer
        notes.append(f"qr: {A.shape[0]} rows for {A.shape[1]} columns, so X is rank-deficient; fell back to svd")
        return solve_svd(A, y, notes)
    Q, R = torch.linalg.qr(A, mode="reduced")
    diag = R.diagonal().abs()
    if diag.min() <= rank_cutoff(diag, tuple(A.shape)):
        notes.append("qr: R is singular (rank-deficient X); fell back to svd")
        return solve_svd(A, y, notes)
    return torch.linalg.solve_triangular(R, Q.T @ y, upper=True)


def solve_lstsq(A: torch.Tensor, y: torch.Tensor, notes: list[str]) -> torch.Tensor:
    driver = "gelsd" if A.device.type == "cpu" else None  # CUDA has only gels
    result = torch.linalg.lstsq(A, y, driver=driver)
    if driver == "gelsd" and int(result.rank) < A.shape[1]:
        notes.append(f"rank-deficient: rank {int(result.rank)} of {A.shape[1]} columns; minimum-norm solution")
    return result.solution


def solve_cholesky(X: torch.Tensor, y: torch.Tensor, fit_intercept: bool, notes: list[str]) -> torch.Tensor:
    AtA, Aty = gram(X, y, fit_intercept)
    L, info = torch.linalg.cholesky_ex(AtA)
    if int(info) != 0:
        notes.append("cholesky: AᵀA is not positive definite (rank-deficient or badly conditioned X); fell back to svd")
        return solve_svd(design_matrix(X, fit_intercept), y, notes)
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
    return torch.cholesky_solve(Aty, L)


class NormalEquation(Implementation, declaration=NORMAL_EQUATION):
    """Least squares in closed form; `cholesky` solves AᵀA θ = Aᵀy with the Gram matrix built from X."""

    supports_sample_weight = True
    grid = {"solver": SOLVERS, "scaling": SCALINGS}

    def fit_unchecked(self, X: torch.Tensor, y: torch.Tensor, sample_weight: torch.Tensor | None = None) -> LinearFit:
        o: NormalEquationOptions = self.options
        if sample_weight is not None:
            return self._fit_weighted(X, y, sample_weight)
        dtype, notes = X.dtype, []
        if o.accumulate == "float64":
            X, y = X.double(), y.double()
        if o.solver == "auto":
            fast = solve_auto(X, y, o.fit_intercept, notes)
            if fast is not None:
                coef, (x_mean, y_mean) = fast
                bias = y_mean - x_mean @ coef if o.fit_intercept else y.new_zeros(y.shape[1])
                return LinearFit(coef.T.to(dtype).contiguous(), bias.to(dtype).contiguous(), notes=notes)
        d = X.shape[1]
        if o.scaling == "none":
            theta = self._solve(X, y, o.fit_intercept, notes)
            weight = theta[:d].T
            bias = theta[d] if o.fit_intercept else torch.zeros(y.shape[1], dtype=X.dtype, device=X.device)
        else:
            x_mean = X.mean(dim=0) if o.fit_intercept else torch.zeros(d, dtype=X.dtype, device=X.device)
            y_mean = y.mean(dim=0) if o.fit_intercept else torch.zeros(y.shape[1], dtype=X.dtype, device=X.device)
            Xc = X - x_mean if o.fit_intercept else X
            scale = column_norms(Xc)
            coef = self._solve(Xc / scale, y - y_mean, False, notes) / scale[:, None]  # (d, k)
            if any("rank-deficient" in note for note in notes):  # minimum norm in X's units, not the scaled ones'
                rank = int((lambda s: (s > rank_cutoff(s, tuple(Xc.shape))).sum())(torch.linalg.svdvals(Xc / scale)))
                coef = solve_svd(Xc, y - y_mean, notes, rank=rank)
                notes.append("minimum norm in X's own units")
            weight, bias = coef.T, y_mean - x_mean @ coef
        return LinearFit(weight.to(dtype).contiguous(), bias.to(dtype).contiguous(), notes=notes)

    def _fit_weighted(self, X: torch.Tensor, y: torch.Tensor, sample_weight: torch.Tensor) -> LinearFit:
        """The same solver, without an intercept, on the rows scaled by √w about the weighted means."""
        Xw, yw, x_mean, y_mean = to_unweighted(X, y, sample_weight, self.options.fit_intercept)
        inner = self.with_options(fit_intercept=False).fit_unchecked(Xw, yw)
        bias = y_mean - inner.weight @ x_mean
        return LinearFit(inner.weight, bias.contiguous(), notes=[*inner.notes, "weighted by sample_weight"])

    def cost(self, n: int, d: int, k: int, itemsize: int) -> Cost:
        return closed_form(self.options.solver, n, d + int(self.options.fit_intercept), k, itemsize)

    def _solve(self, X: torch.Tensor, y: torch.Tensor, fit_intercept: bool, notes: list[str]) -> torch.Tensor:
        solver = "svd" if self.options.solver == "auto" else self.options.solver
        if solver == "cholesky":
            return solve_cholesky(X, y, fit_intercept, notes)
        solve = {"svd": solve_svd, "qr": solve_qr, "lstsq": solve_lstsq}[solver]
        return solve(design_matrix(X, fit_intercept), y, notes)
