"""Thread counts that mean what the row says: torch's intra-op pool *and* the BLAS/OpenMP pools
that NumPy, SciPy and scikit-learn use (through threadpoolctl), set together for a block."""

from __future__ import annotations

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


def native_pools() -> list[dict[str, Any]]:
    """Which BLAS / OpenMP libraries are loaded, their versions and thread counts (for machine.json)."""
    keys = ("user_api", "internal_api", "prefix", "version", "num_threads", "threading_layer", "architecture")
    return [{k: pool.get(k) for k in keys if pool.get(k) is not None} for pool in threadpool_info()]
