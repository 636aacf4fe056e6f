"""Our closed form beside the peers users would pick instead, in one process: time on a large
problem, digits on NIST Longley and on the conditioning study's problems.

    python scripts/closed_form_peers.py [--n 1000000] [--d 100] [--rounds 5]

Prints a Markdown table: per implementation, the median public `fit` time (validation included) on
X ~ N(0, 1) of n × d in float64 and float32 (the candidates taking turns round by round), and the
digits (min LRE) it keeps in float64 on StRD Longley and on `linreg-bench conditioning`'s noise-free
problems at cond([X 1]) = 1e6 and 1e10 (a backward-stable solver keeps about 9.7 and 5.7 digits there,
the normal equations about 3.4 and none). Every figure comes from this one process, so the ratios
compare like with like; absolute times move by tens of per cent between runs on a shared machine.
"""

from __future__ import annotations

import argparse
import warnings
from functools import partial

import numpy as np
import torch

import impls
from bench.harness.timing import medians_in_turns
from bench.judge.digits import lre
from bench.problems import load
from bench.studies.conditioning import conditioned

CANDIDATES = (
    ("normal-equation", {}),
    ("sklearnex", {}),
    ("sklearn", {}),
    ("statsmodels", {}),
    ("scipy-lstsq", {"driver": "gelsd"}),
    ("scipy-lstsq", {"driver": "gelsy"}),
    ("scipy-lstsq", {"driver": "gelss"}),
    ("numpy-lstsq", {}),
)


def label(name: str, options: dict) -> str:
    return name + "".join(f":{k}={v}" for k, v in options.items())


CONDS = (1e6, 1e10)
FAST = 2  # the first two take turns with each other only (3 × --rounds: they are fast): a fit right
# after seconds of OpenBLAS (SciPy, NumPy) ran ~40% slower here, which in one round-robin always hit ours


def digits(impl, X: torch.Tensor, y: torch.Tensor, truth: np.ndarray) -> float:
    fit = impl.fit(X, y)
    theta = np.concatenate([fit.weight.double().numpy(), fit.bias.double().numpy()[:, None]], axis=1)
    return float(lre(theta, truth).min())


def accuracy_cells(impl) -> list[str]:
    """Longley's digits, then the conditioning study's at each of CONDS (float64)."""
    longley = load("strd-longley")
    cells = [digits(impl, longley.X, longley.y, longley.certified.theta())]
    for cond in CONDS:
        p = conditioned(cond)
        cells.append(digits(impl, p.X, p.y, torch.cat([p.true_weight, p.true_bias[:, None]], dim=1).numpy()))
    return [f"{value:.1f}" for value in cells]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--d", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    generator = torch.Generator().manual_seed(0)
    X64 = torch.randn(args.n, args.d, generator=generator, dtype=torch.float64)
    y64 = X64 @ torch.randn(args.d, 1, generator=generator, dtype=torch.float64) + 0.1
    data = {torch.float64: (X64, y64), torch.float32: (X64.float(), y64.float())}
    created = [(label(name, options), impls.create(name, **options)) for name, options in CANDIDATES]
    cells: dict[str, list[str]] = {name: [] for name, _ in created}
    for dtype, (X, y) in data.items():
        medians = {}
        for group, rounds in ((created[:FAST], 3 * args.rounds), (created[FAST:], args.rounds)):
            fits = {name: partial(impl.fit, X, y) for name, impl in group if not impl.unsupported_reason("cpu", dtype)}
            medians.update(medians_in_turns(fits, "cpu", rounds))
        for name, impl in created:
            reason = impl.unsupported_reason("cpu", dtype)
            cells[name].append(f"skipped: {reason}" if reason else f"{medians[name]:.3f} s")
    conds = " | ".join(f"digits at cond {cond:.0e}" for cond in CONDS)
    print(f"| implementation | {args.n:,} × {args.d} float64 | float32 | Longley digits | {conds} |")
    print("|---|---|---|---|" + "---|" * len(CONDS))
    for name, impl in created:
        accuracy = [""] * (1 + len(CONDS)) if impl.unsupported_reason("cpu", torch.float64) else accuracy_cells(impl)
        print(f"| {name} | {' | '.join(cells[name] + accuracy)} |")


if __name__ == "__main__":
    main()
