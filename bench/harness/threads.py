"""Thread counts that mean what the row says: torch's intra-op pool *and* the BLAS/OpenMP pools
that NumPy, SciPy and scikit-learn use (through threadpoolctl), set together for a block."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import torch
from threadpoolctl import threadpool_info, threadpool_limits


@contextmanager
def limited_threads(count: int | None) -> Iterator[None]:
    """torch and every native thread pool limited to `count` for a block, restored after it
    (None: leave them alone)."""
    if count is None:
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(count)
    try:
        with threadpool_limits(limits=count):
            yield
    finally:
        torch.set_num_threads(before)


# Below this much work a fit is over in about a millisecond, and a second intra-op thread can only
# wait: on a loaded machine OpenMP's barrier waits out a descheduled worker's time slice (the
# figures, and the command that gives them: docs/measurements.md, "Threads under load").
SMALL_WORK_FLOPS = 5e7
LOADED_FRACTION = 0.5  # a 1-minute load average above this share of the cores distorts timings


def threads_for(flops: float | None, requested: int | None) -> int | None:
    """The thread count a case runs with: what the user asked for, else one thread for small work
    (None: leave torch's default)."""
    if requested is not None:
        return requested
    if flops is not None and flops < SMALL_WORK_FLOPS:
        return 1
    return None


def machine_load() -> dict[str, Any]:
    """The load average when the run starts (others' work: ours has not begun) and whether it is
    high enough to distort timings (more than half the cores busy)."""
    try:
        one, five, _ = os.getloadavg()
    except OSError:  # not on every platform
        return {}
    cores = os.cpu_count() or 1
    loaded = one > LOADED_FRACTION * cores
    return {"load_average_1m": round(one, 2), "load_average_5m": round(five, 2), "loaded": loaded}


def native_pools() -> list[dict[str, Any]]:
    """Which BLAS / OpenMP libraries are loaded, their versions and thread counts (for machine.json)."""
    keys = ("user_api", "internal_api", "prefix", "version", "num_threads", "threading_layer", "architecture")
    return [{k: pool.get(k) for k in keys if pool.get(k) is not None} for pool in threadpool_info()]
