"""The p × p stage of a closed form (eigenvalues, Cholesky, triangular solves) on one thread.

A 201 × 201 `eigvalsh` takes ~1.5 ms on one thread; with two intra-op threads on a loaded two-core
machine it took 0.3–0.8 s in one call of two, and `cholesky` 20–38 ms against ~1 ms: every one of the
factorisation's many small parallel regions ends in an OpenMP barrier that waits out a descheduled
thread's time slice. Below SMALL_SOLVE_FLOPS the second thread has nothing to win, so the stage runs
on one (`python scripts/small_solve_threads.py` prints both on the machine at hand).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch

# p³ below this (p ≲ 460): a factorisation of a few ms on one core, where a second thread saves at
# most that and, under load, can cost hundreds of ms.
SMALL_SOLVE_FLOPS = 1e8


@contextmanager
def small_solve_threads(p: int, device: torch.device) -> Iterator[None]:
    """One intra-op thread for the block when the p × p work is small and on the CPU; torch's count
    restored after it. (torch's thread count is process-wide: as for `torch.set_num_threads`, don't
    fit from two Python threads at once.)"""
    before = torch.get_num_threads()
    if device.type != "cpu" or float(p) ** 3 > SMALL_SOLVE_FLOPS or before == 1:
        yield
        return
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)
