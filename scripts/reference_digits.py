"""The judge's reference against the exact optimum of the data as given, on every NIST StRD set here.

    python scripts/reference_digits.py

Prints a Markdown table: for the route a run takes (exact where the problem is small) and for the
refined float64 route that larger problems take, the digits kept (min over parameters of
−log10 |θ − θ_exact| / |θ_exact|, uncapped; "all" where every parameter is the correctly rounded
exact value) beside the reference's own claim (`reference_digits`).
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from bench.judge.exact import exact_optimum
from bench.judge.reference import reference_solution
from bench.problems.csv_file import load_csv

ROOT = Path(__file__).resolve().parents[1]
FOLDERS = (ROOT / "bench" / "problems" / "data" / "strd", ROOT / "tests" / "data" / "strd")


def kept_digits(theta: np.ndarray, exact: np.ndarray) -> str:
    error = np.abs(theta - exact) / np.where(exact != 0, np.abs(exact), 1.0)
    return "all" if error.max() == 0 else f"{-np.log10(error.max()):.1f}"


def main() -> None:
    print("| set | n × p | exact solve (s) | route | kept | claimed | refined: kept | claimed |")
    print("|---|---|---|---|---|---|---|---|")
    for path in sorted(p for folder in FOLDERS for p in folder.glob("*.csv")):
        problem = load_csv(path, ["y"], certified=path.with_suffix(".certified.json"))
        intercept = problem.certified.intercept
        X, y = problem.X.numpy(), problem.y.numpy()
        start = time.perf_counter()
        weight, bias = exact_optimum(X, y, intercept)
        seconds = time.perf_counter() - start

        def theta(w, b, intercept=intercept):
            return np.concatenate([w, b[:, None]], axis=1) if intercept else w

        exact = theta(weight, bias)
        auto = reference_solution(X, y, intercept)
        refined = reference_solution(X, y, intercept, exact=False)
        print(f"| {path.stem} | {problem.n} × {problem.d + int(intercept)} | {seconds:.3f} | {auto.method} | "
              f"{kept_digits(theta(auto.weight, auto.bias), exact)} | {auto.digits:.1f} | "
              f"{kept_digits(theta(refined.weight, refined.bias), exact)} | {refined.digits:.1f} |")  # fmt: skip


if __name__ == "__main__":
    main()
