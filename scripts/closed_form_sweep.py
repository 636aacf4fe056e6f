"""Our default closed form against oneDAL (sklearnex) over the shape of X, in one process.

    python scripts/closed_form_sweep.py [--cells 100000000] [--rounds 5]

Prints a Markdown table: per shape n × d with n · d = --cells (plus 1e6 × 100 and 1e7 × 10), the
median public `fit` of `normal-equation` and of `sklearnex` in float64 and float32 (validation
included), their ratio and the roofline bound of the Gram pass (the larger of its flops at the
machine's peak and its bytes at memory bandwidth: bench/harness/roofline.py). The two take turns round
by round on the same arrays, so a change in the machine's speed hits both alike. The last column says the two
found the same coefficients (X ~ N(0, 1) is well conditioned: both should agree to ~1e-15 in float64
and ~1e-6 in float32).
"""

from __future__ import annotations

import argparse
import warnings
from functools import partial

import torch

import impls
from bench.harness.roofline import peaks
from bench.harness.timing import medians_in_turns

SHAPES = ((10_000_000, 10), (1_000_000, 100))
SWEEP_D = (5, 20, 50, 200, 400)


def shapes(cells: int) -> list[tuple[int, int]]:
    swept = [(cells // d, d) for d in SWEEP_D]
    return sorted({*SHAPES, *swept}, key=lambda shape: shape[1])


def relative_difference(a: torch.Tensor, b: torch.Tensor) -> float:
    """max |a − b| / max |b|: how far the two coefficient vectors are apart, in b's scale."""
    return float((a.double() - b.double()).abs().max() / b.double().abs().max())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cells", type=int, default=100_000_000, help="n · d of the swept shapes")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    ours, onedal = impls.create("normal-equation"), impls.create("sklearnex")
    reason = onedal.unsupported_reason("cpu", torch.float64)
    if reason:
        raise SystemExit(f"closed_form_sweep: sklearnex is not usable here: {reason}")
    print("| n × d | dtype | ours | sklearnex | sklearnex / ours | bound | ours / bound | coefficients agree to |")
    print("|---|---|---|---|---|---|---|---|")
    for n, d in shapes(args.cells):
        generator = torch.Generator().manual_seed(0)
        X = torch.randn(n, d, generator=generator, dtype=torch.float64)
        y = X @ torch.randn(d, 1, generator=generator, dtype=torch.float64) + 0.1
        for dtype in (torch.float64, torch.float32):
            Xd, yd = X.to(dtype), y.to(dtype)
            fits = {"ours": partial(ours.fit, Xd, yd), "onedal": partial(onedal.fit, Xd, yd)}
            medians = medians_in_turns(fits, "cpu", args.rounds)
            ours_s, onedal_s = medians["ours"], medians["onedal"]
            name = str(dtype).removeprefix("torch.")
            bound = peaks("cpu", dtype).bound_s(ours.cost(n, d, 1, Xd.element_size()))
            agree = relative_difference(ours.fit(Xd, yd).weight, onedal.fit(Xd, yd).weight)
            print(f"| {n:,} × {d} | {name} | {ours_s:.3f} s | {onedal_s:.3f} s | {onedal_s / ours_s:.2f}× | "
                  f"{bound:.3f} s | {ours_s / bound:.1f}× | {agree:.1e} |", flush=True)  # fmt: skip
            del Xd, yd


if __name__ == "__main__":
    main()
