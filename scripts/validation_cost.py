"""What the public `fit` pays for checking its input, beside the fit itself, in one process.

    python scripts/validation_cost.py [--n 1000000] [--d 100] [--rounds 5]

Per dtype: the default closed form's public `fit` (checked) and `fit_unchecked`, the element-wise
check it used to run (`torch.isfinite(X).all()`, a full-size boolean temporary), the one-reduction
check other solvers run (`torch.isfinite(X.sum())`), and the checked fit's overhead in per cent.
"""

from __future__ import annotations

import argparse

import torch

import impls
from bench.harness.timing import median_seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--d", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    generator = torch.Generator().manual_seed(0)
    print("| dtype | fit (checked) | fit_unchecked | overhead | isfinite(X).all() | isfinite(X.sum()) |")
    print("|---|---|---|---|---|---|")
    for dtype in (torch.float64, torch.float32):
        X = torch.randn(args.n, args.d, generator=generator, dtype=dtype)
        y = X @ torch.randn(args.d, 1, generator=generator, dtype=dtype) + 0.1
        impl = impls.create("normal-equation")
        checked = median_seconds(lambda impl=impl, X=X, y=y: impl.fit(X, y), "cpu", args.rounds)
        unchecked = median_seconds(lambda impl=impl, X=X, y=y: impl.fit_unchecked(X, y), "cpu", args.rounds)
        elementwise = median_seconds(lambda X=X: bool(torch.isfinite(X).all()), "cpu", args.rounds)
        summed = median_seconds(lambda X=X: bool(torch.isfinite(X.sum())), "cpu", args.rounds)
        overhead = 100 * (checked - unchecked) / unchecked
        print(f"| {str(dtype).removeprefix('torch.')} | {checked:.3f} s | {unchecked:.3f} s | {overhead:+.1f}% | "
              f"{elementwise:.3f} s | {summed:.3f} s |")  # fmt: skip


if __name__ == "__main__":
    main()
