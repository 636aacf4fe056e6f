"""A noise-free second gate: instructions executed per fit, counted by valgrind's callgrind through
`torch.utils.benchmark.Timer.collect_callgrind`.

Wall-clock gates on a shared two-core machine see only large changes; an instruction count does not
depend on what else the machine does. Two sides running the same code still differ a little (where
memory lands, when the allocator grows), by far less than wall clock does (the A/A figures and the
command that gives them: docs/measurements.md). What it cannot see: memory stalls, threads, the
GPU — a count is a proxy for CPU work, which is why both gates exist.

Cost: callgrind runs code many times slower, torch's import under it included. So each side is one
callgrind process: the statement runs the next case on every repeat (`repeats` = number
of cases), the import and the set-up stay outside the counted region, and the two sides run at once,
one per core.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from bench.errors import InputError
from bench.regression.ab import WORKER
from bench.regression.accepted import Accepted, case_name

# Run by the Timer's template inside the callgrind process, before counting starts.
SETUP = """
import gc, importlib.util, json
gc.disable()  # a collection landing inside one side's counted region is A/A noise; the template collects between
_spec = importlib.util.spec_from_file_location("linreg_bench_ab_worker", {worker!r})
_worker = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_worker)
_calls = _worker.case_calls({root!r}, json.loads({cases!r}))  # each prepared and run once
_fits_per_count = json.loads({fits!r})
# The template runs the statement once before counting (None), then `repeats` times: each case
# `counts` times over.
_turn = iter([None, *(index for _ in range({counts}) for index in range(len(_calls)))])


def next_case():
    index = next(_turn)
    if index is not None:
        for _ in range(_fits_per_count[index]):
            _calls[index]()
"""
COUNT_COLUMNS = ["dataset", "impl", "device", "dtype", "base_instructions", "new_instructions", "ratio", "verdict",
                 "regression", "accepted"]  # fmt: skip
QUIET_ENVIRONMENT = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "PYTHONHASHSEED": "0"}


@dataclass(frozen=True)
class CountPlan:
    cases: list[dict[str, str]]  # dataset, impl, device (cpu), dtype
    number: int = 1  # fits per count
    counts: int = 3  # counts per case; the median is kept (where arrays land moves BLAS's count a little)
    extra_work: dict[str, float] = field(default_factory=dict)  # new side only: validating the gate

    def __post_init__(self) -> None:
        if self.number < 1:
            raise InputError(f"--number must be >= 1, got {self.number}")
        if self.counts < 1:
            raise InputError(f"--counts must be >= 1, got {self.counts}")
        if any(case["device"] != "cpu" for case in self.cases):
            raise InputError("--measure instructions counts CPU work only: use --device cpu")
        for impl, factor in self.extra_work.items():
            if self.extra_fits(impl) < 1:
                needed = int(1 / (factor - 1) + 0.5) if factor > 1 else "any"
                raise InputError(
                    f"--inject-slowdown {impl}={factor:g} under --measure instructions adds whole fits: "
                    f"round({self.number} × {factor - 1:.3g}) = 0; give --number {needed} or more"
                )

    def extra_fits(self, impl: str) -> int:
        """Injected work is real work (sleep adds no instructions): whole extra fits of the case."""
        factor = self.extra_work.get(impl)
        return 0 if factor is None else round(self.number * (factor - 1))


def unavailable_reason() -> str | None:
    """Why instructions cannot be counted here, or None."""
    if sys.platform != "linux":
        return f"callgrind counts run on Linux only, not {sys.platform}"
    for tool in ("valgrind", "callgrind_control"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed (Debian/Ubuntu: apt-get install valgrind)"
    return None


def count_side(root: Path, plan: CountPlan, inject: bool) -> list[int]:
    """Instructions of `plan.number` fits of each case, in plan order (denoised: torch's own filter
    of CPython's bookkeeping)."""
    from torch.utils.benchmark import Timer

    fits = [plan.number + (plan.extra_fits(_impl_name(case["impl"])) if inject else 0) for case in plan.cases]
    setup = SETUP.format(
        worker=str(WORKER), root=str(root), cases=json.dumps(plan.cases), fits=json.dumps(fits), counts=plan.counts
    )
    timer = Timer("next_case()", setup=setup, num_threads=1)
    stats = timer.collect_callgrind(number=1, repeats=len(plan.cases) * plan.counts, collect_baseline=False)
    stats = stats if isinstance(stats, tuple) else (stats,)
    counts = np.array([s.counts(denoise=True) for s in stats], dtype=np.int64).reshape(plan.counts, len(plan.cases))
    return [int(c) for c in np.median(counts, axis=0)]


def count_both(base_root: Path, new_root: Path, plan: CountPlan) -> tuple[list[int], list[int]]:
    """Both sides at once (one core each). The Timer starts `python` from PATH: ours goes first."""
    reason = unavailable_reason()
    if reason is not None:
        raise InputError(f"--measure instructions: {reason}")
    saved = {key: os.environ.get(key) for key in (*QUIET_ENVIRONMENT, "PATH")}
    os.environ.update(QUIET_ENVIRONMENT, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    try:
        with ThreadPoolExecutor(max_workers=2) as pool:
            base = pool.submit(count_side, base_root, plan, False)
            new = pool.submit(count_side, new_root, plan, True)
            return base.result(), new.result()
    except Exception as exc:  # the Timer raises a bare error naming a log; say which side and why
        raise InputError(f"--measure instructions: callgrind run failed: {str(exc).strip().splitlines()[-1]}") from exc
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _impl_name(label: str) -> str:
    return label.partition(":")[0]


def compare_counts(
    plan: CountPlan, base: list[int], new: list[int], min_factor: float, accepted: list[Accepted]
) -> pd.DataFrame:
    """One row per case: counts, new / base, and the verdict. A change beyond `min_factor` either
    way is `more` / `fewer`; `more` is a regression unless an accepted entry covers it."""
    rows = []
    for case, base_count, new_count in zip(plan.cases, base, new, strict=True):
        ratio = new_count / base_count
        verdict = "more" if ratio >= min_factor else "fewer" if ratio <= 1 / min_factor else "same"
        cover = next((a for a in accepted if a.covers(case_name(case), ratio)), None)
        rows.append({
            **{key: case[key] for key in ("dataset", "impl", "device", "dtype")},
            "base_instructions": base_count, "new_instructions": new_count, "ratio": ratio, "verdict": verdict,
            "regression": verdict == "more" and cover is None,
            "accepted": cover.note() if cover is not None and verdict == "more" else "",
        })  # fmt: skip
    return pd.DataFrame(rows, columns=COUNT_COLUMNS)
