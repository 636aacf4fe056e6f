"""The built-in problems by name, as `list` shows them: shape and description are declared here and
nothing is built (synthetic-large is 800 MB) or imported (torch) until a problem is loaded."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bench.errors import InputError
from bench.problems.problem import SIZES, Problem


@dataclass(frozen=True)
class Entry:
    """A built-in problem as `list` shows it, without building its data (synthetic-large is 800 MB)."""

    builder: str  # a function in bench.problems.builtin
    shape: str  # "n × d → k", or the parameters for `synthetic`
    description: str
    arguments: dict[str, Any] = field(default_factory=dict)

    def build(self, **params: Any) -> Problem:
        from bench.problems import builtin

        return getattr(builtin, self.builder)(**self.arguments, **params)


CATALOGUE: dict[str, Entry] = {
    "d2l": Entry("d2l", "1,000 × 2 → 1", "d2l: y = Xw + b + N(0, 0.01²), w = [2, -3.4], b = 4.2"),
    "univariate": Entry("univariate", "15 × 1 → 1", "univariate GD tutorial: 15 fixed points, full-batch GD, MSE"),
    "crop-yields": Entry("crop_yields", "15 × 3 → 2", "Zero to GANs crop yields: (temp, rainfall, humidity) -> "
                         "(apples, oranges)"),
    "crop-yields-5": Entry("crop_yields", "5 × 3 → 2", "crop yields, the tutorial's first 5 rows", {"rows": 5}),
    "synthetic": Entry("synthetic", "--n --d --k --noise --seed", "X ~ N(0, 1), true w, b ~ N(0, 1), Gaussian noise"),
    **{f"synthetic-{size}": Entry("synthetic_size", f"{n:,} × {d} → 1", f"synthetic, noise 0.1 ({size})",
                                  {"size": size})
       for size, (n, d) in SIZES.items()},
    "strd-norris": Entry("strd", "36 × 1 → 1", "NIST StRD Norris, certified values", {"key": "strd-norris"}),
    "strd-longley": Entry("strd", "16 × 6 → 1", "NIST StRD Longley (cond ~5e9), certified values",
                          {"key": "strd-longley"}),
    "strd-noint1": Entry("strd", "11 × 1 → 1", "NIST StRD NoInt1 (no intercept), certified values",
                         {"key": "strd-noint1"}),
}  # fmt: skip


def available() -> list[str]:
    return list(CATALOGUE)


def load(name: str, **params: Any) -> Problem:
    """A built-in problem by name; `params` only for `synthetic` (n, d, k, noise, seed)."""
    if name not in CATALOGUE:
        raise InputError(f"unknown dataset {name!r} (available: {', '.join(CATALOGUE)}; or --csv PATH)")
    try:
        return CATALOGUE[name].build(**params)
    except TypeError:
        raise InputError(f"dataset {name} takes no parameters {sorted(params)}") from None
