"""Eager against torch.compile for the SGD loops, side by side in one process.

    python scripts/compile_ratio.py [--rounds 10]

Prints, per problem and implementation (CPU float32), the median fit time eager and compiled (the
compile itself, paid once per inputs, apart) and their ratio: where compiling pays and where its
guards and calls cost more than the fusion saves.
"""

from __future__ import annotations

import argparse
from functools import partial

import impls
from bench.harness.timing import medians_in_turns
from bench.problems import load

CASES = (("manual-gradient", {}), ("nn-linear", {"loader": "tensor"}))
PROBLEMS = ("d2l", "synthetic-medium")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=10)
    rounds = parser.parse_args().rounds
    print("| problem | impl | eager | compiled | eager / compiled | compile (once) |")
    print("|---|---|---|---|---|---|")
    for name in PROBLEMS:
        problem = load(name)
        X, y = problem.X.float(), problem.y.float()
        for impl_name, options in CASES:
            training = {**problem.training_for(impl_name), **options}
            eager = impls.create(impl_name, **training)
            compiled = impls.create(impl_name, compile=True, **training)
            compile_s = compiled.fit(X, y).work["compile_s"]
            fits = {"eager": partial(eager.fit, X, y), "compiled": partial(compiled.fit, X, y)}
            medians = medians_in_turns(fits, "cpu", rounds)  # in turns: a change of speed hits both
            eager_s, compiled_s = medians["eager"], medians["compiled"]
            print(f"| {name} | {impl_name} | {eager_s * 1e3:.1f} ms | {compiled_s * 1e3:.1f} ms | "
                  f"{eager_s / compiled_s:.2f}× | {compile_s:.1f} s |")  # fmt: skip


if __name__ == "__main__":
    main()
