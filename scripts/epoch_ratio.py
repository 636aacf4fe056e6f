"""The tutorial loop as written against ours, per epoch, side by side in one process.

    python scripts/epoch_ratio.py [--rounds 15] [--repeats 5]

Prints, per problem (CPU float32, the tutorial's own lr, batch size and epochs), each SGD loop's
median time per epoch and how many times faster than `d2l-reference` (d2l's `data_iter` over a
Python list, `backward()`, `param -= lr * grad / B`) it is. The implementations take turns,
`--repeats` times, so a change in the machine's speed hits all of them alike; the ratio is the
median of the turns' ratios. The process pins itself to one vCPU as `ab`'s workers do (these
loops run on one thread anyway): on a shared VM each vCPU changes speed on its own, and unpinned
the ratio moved between 13× and 23× from one turn to the next.
"""

from __future__ import annotations

import argparse
import statistics
from functools import partial

import impls
from bench.harness.timing import median_seconds
from bench.problems import load
from bench.regression.ab import worker_cpu
from bench.regression.ab_worker import pin_cpu

LOOPS = ("d2l-reference", "manual-autograd", "manual-gradient")
PROBLEMS = ("d2l", "synthetic-small")


def seconds_per_epoch(impl, X, y, rounds: int) -> float:
    """The harness's own round loop (one warm-up, exactly `rounds` rounds), per epoch."""
    return median_seconds(partial(impl.fit, X, y), "cpu", rounds) / impl.options.epochs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    pin_cpu(worker_cpu())
    print("| problem | epochs | " + " | ".join(f"{name} / epoch" for name in LOOPS) + " | "
          + " | ".join(f"{name} vs d2l-reference" for name in LOOPS[1:]) + " |")  # fmt: skip
    print("|---" * (2 + 2 * len(LOOPS) - 1) + "|")
    for name in PROBLEMS:
        problem = load(name)
        X, y = problem.X.float(), problem.y.float()
        loops = {loop: impls.create(loop, **problem.training_for(loop)) for loop in LOOPS}
        turns = [{loop: seconds_per_epoch(impl, X, y, args.rounds) for loop, impl in loops.items()}
                 for _ in range(args.repeats)]  # fmt: skip
        per_epoch = {loop: statistics.median(t[loop] for t in turns) for loop in LOOPS}
        ratios = {loop: statistics.median(t["d2l-reference"] / t[loop] for t in turns) for loop in LOOPS[1:]}
        epochs = loops["manual-gradient"].options.epochs
        print(f"| {name} | {epochs} | " + " | ".join(f"{per_epoch[loop] * 1e3:.3g} ms" for loop in LOOPS) + " | "
              + " | ".join(f"{ratios[loop]:.1f}×" for loop in LOOPS[1:]) + " |")  # fmt: skip


if __name__ == "__main__":
    main()
