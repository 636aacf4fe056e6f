"""Parametrize a test over built-in problems, devices and dtypes in one line, without torch."""

from __future__ import annotations

from collections.abc import Iterable

import pytest

from bench.harness.axes import DEVICES, DTYPE_NAMES
from bench.problems.catalogue import CATALOGUE

# The built-in problems that fit in well under a second each: the tutorials, the small synthetic
# problem and the NIST StRD ones (certified digits). `synthetic` needs parameters; medium and large
# are for runs that mean to take time.
QUICK_PROBLEMS = ("d2l", "univariate", "crop-yields", "crop-yields-5", "synthetic-small", "strd-norris",
                  "strd-longley", "strd-noint1")  # fmt: skip


def linreg_cases(
    problems: Iterable[str] = QUICK_PROBLEMS,
    devices: Iterable[str] = DEVICES,
    dtypes: Iterable[str] = DTYPE_NAMES,
) -> pytest.MarkDecorator:
    """`@linreg_cases()` over `test(linreg_bench, problem, device, dtype)`: one test per combination,
    with ids like `d2l-cpu-float64`; cases this machine cannot run are skipped with the reason."""
    problems, devices, dtypes = list(problems), list(devices), list(dtypes)
    for kind, given, known in (("problem", problems, CATALOGUE), ("device", devices, DEVICES),
                               ("dtype", dtypes, DTYPE_NAMES)):  # fmt: skip
        unknown = [name for name in given if name not in known]
        if unknown:
            raise ValueError(f"linreg_cases: unknown {kind} {', '.join(unknown)} (available: {', '.join(known)})")
    params = [
        pytest.param(problem, device, dtype, id=f"{problem}-{device}-{dtype}")
        for problem in problems
        for device in devices
        for dtype in dtypes
    ]
    return pytest.mark.parametrize(("problem", "device", "dtype"), params)
