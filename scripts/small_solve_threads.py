"""The closed form's p × p stage on one intra-op thread and on two, on the machine at hand.

    python scripts/small_solve_threads.py [--p 201] [--calls 20]

Prints the median and the worst of `--calls` calls of `eigvalsh` and `cholesky` on a p × p Gram
matrix at each thread count. On a quiet machine the two are alike; with the other core busy, two
threads wait out descheduled time slices at every barrier (impls/small_linalg.py).
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch


def calls(fn, count: int) -> list[float]:
    times = []
    for _ in range(count):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--p", type=int, default=201)
    parser.add_argument("--calls", type=int, default=20)
    args = parser.parse_args()
    A = torch.randn(10 * args.p, args.p, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    G = A.T @ A
    print("| routine | threads | median | worst |")
    print("|---|---|---|---|")
    for name, fn in (("eigvalsh", lambda: torch.linalg.eigvalsh(G)), ("cholesky", lambda: torch.linalg.cholesky(G))):
        for threads in (1, 2):
            torch.set_num_threads(threads)
            fn()
            times = calls(fn, args.calls)
            print(f"| {name} | {threads} | {statistics.median(times) * 1e3:.2f} ms | {max(times) * 1e3:.2f} ms |")


if __name__ == "__main__":
    main()
