"""What a data-parallel fit needs from its process group, and how each kind of fit takes its rows.

Implementations stay free of `torch.distributed` set-up: the harness hands `fit_sharded` an object
with these collectives (bench/distributed/collectives.py times them over a real process group; a
one-rank stand-in serves tests and `--nproc 1`).
"""

from __future__ import annotations

from typing import Literal, Protocol

import torch

# How an implementation takes its data across ranks:
# "rows": each rank gets only its contiguous shard of the rows (closed forms: moments or R factors).
# "sampler": each rank sees the whole dataset and a distributed sampler splits every global batch
#            between the ranks, as DistributedSampler does for DDP (the one-process batch order).
DataParallel = Literal["rows", "sampler"]


class Collectives(Protocol):
    """The collectives a data-parallel fit calls; every rank calls them in the same order."""

    rank: int
    world_size: int

    def all_reduce_sum(self, tensor: torch.Tensor) -> None:
        """In place: every rank ends with the sum over ranks."""

    def all_gather(self, tensor: torch.Tensor) -> list[torch.Tensor]:
        """Every rank's tensor (same shape on every rank), in rank order."""


class SingleProcess:
    """The one-rank group: a sharded fit run without torch.distributed (tests, `--nproc 1`)."""

    rank = 0
    world_size = 1

    def all_reduce_sum(self, tensor: torch.Tensor) -> None:
        return None

    def all_gather(self, tensor: torch.Tensor) -> list[torch.Tensor]:
        return [tensor.clone()]


def row_shard(n: int, rank: int, world_size: int) -> slice:
    """Rank `rank`'s contiguous rows: sizes differ by at most one, lower ranks take the extra."""
    base, extra = divmod(n, world_size)
    start = rank * base + min(rank, extra)
    return slice(start, start + base + (rank < extra))


def global_batch_part(start: int, size: int, batch: int, rank: int) -> slice:
    """Rank `rank`'s part of the global batch at `start` (global size `size`, at most world × batch
    rows): a contiguous slice of it, `batch` rows per rank, possibly empty in the last batch."""
    first = min(start + rank * batch, start + size)
    return slice(first, min(first + batch, start + size))
