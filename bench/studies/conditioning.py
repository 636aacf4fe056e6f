"""Digits of agreement against the condition number of [X 1], per implementation, solver and dtype.

The problems are noise-free with known parameters, and their ill-conditioning is intrinsic (X is
centred and mixes its columns), so neither centring nor column scaling can cure it: a backward-stable
solver keeps about −log10(eps·κ) digits, the normal equations about −log10(eps·κ²).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import torch

from bench.harness.cases import Case, ImplSpec, dtype_name
from bench.harness.preparation import prepare
from bench.judge.digits import lre
from bench.problems.problem import Problem

DEFAULT_CONDS = tuple(10.0**e for e in range(0, 13, 2))
DEFAULT_SPECS = (
    "normal-equation", "normal-equation:solver=qr", "normal-equation:solver=lstsq",
    "normal-equation:solver=cholesky", "normal-equation:solver=cholesky,scaling=none", "sklearn",
)  # fmt: skip


def conditioned(cond: float, n: int = 1000, d: int = 10, seed: int = 0) -> Problem:
    """Noise-free y = Xw + b with cond([X 1]) = `cond` exactly (in exact arithmetic)."""
    g = torch.Generator().manual_seed(seed)
    Z = torch.randn(n, d, generator=g, dtype=torch.float64)
    U, _ = torch.linalg.qr(Z - Z.mean(dim=0))  # orthonormal columns, each orthogonal to 1
    V, _ = torch.linalg.qr(torch.randn(d, d, generator=g, dtype=torch.float64))
    s = n**0.5 * torch.logspace(0, -np.log10(cond), d, dtype=torch.float64)  # [X 1] has √n for 1/√n
    X = U @ torch.diag(s) @ V.T
    w = torch.randn(1, d, generator=g, dtype=torch.float64)
    b = torch.ones(1, dtype=torch.float64)
    return Problem(f"cond-{cond:.0e}", X, X @ w.T + b, description=f"cond([X 1]) = {cond:.0e}, no noise",
                   true_weight=w, true_bias=b)  # fmt: skip


def sweep(
    specs: list[ImplSpec], dtypes: list[torch.dtype], conds: list[float], n: int, d: int,
    on_row: Callable[[dict], None] | None = None,
) -> pd.DataFrame:  # fmt: skip
    rows = []
    for cond in conds:
        problem = conditioned(cond, n, d)
        truth = torch.cat([problem.true_weight, problem.true_bias[:, None]], dim=1).numpy()
        for spec in specs:
            for dtype in dtypes:
                row = {"cond": cond, "impl": spec.label, "dtype": dtype_name(dtype), "n": n, "d": d}
                try:
                    prepared = prepare(problem, Case(spec, "cpu", dtype), {})
                    if prepared.skip_reason:
                        row.update(status="skipped", reason=prepared.skip_reason)
                    else:
                        fit = prepared.fit()
                        theta = torch.cat([fit.weight, fit.bias[:, None]], dim=1).double().numpy()
                        row.update(status="ok", digits=float(lre(theta, truth).min()), reason="; ".join(fit.notes))
                except Exception as exc:  # one failing solver never stops the sweep
                    row.update(status="error", reason=f"{type(exc).__name__}: {exc}")
                rows.append(row)
                if on_row is not None:
                    on_row(row)
    return pd.DataFrame(rows)
