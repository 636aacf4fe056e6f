"""Who this process is in a torchrun job, and its process group: gloo for CPU tensors, NCCL for
CUDA tensors (one GPU per local rank), with a timeout so a dead or hung rank fails the others
instead of hanging them."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import timedelta

from bench.errors import InputError

DEFAULT_TIMEOUT_S = 300.0  # a collective waits this long for a missing rank (`--dist-timeout`)


@dataclass(frozen=True)
class World:
    rank: int
    world_size: int
    local_rank: int
    backend: str

    @property
    def is_root(self) -> bool:
        return self.rank == 0


def launched_rank() -> tuple[int, int, int] | None:
    """(rank, world size, local rank) from torchrun's environment; None outside a multi-process job
    (no torchrun, or a world of one: today's single-process behaviour, unchanged)."""
    try:
        world_size = int(os.environ.get("WORLD_SIZE", "1"))
        if world_size <= 1:
            return None
        return int(os.environ["RANK"]), world_size, int(os.environ.get("LOCAL_RANK", os.environ["RANK"]))
    except (KeyError, ValueError):
        raise InputError("WORLD_SIZE is set but RANK is missing or not a number: start ranks with torchrun") from None


def is_secondary_rank() -> bool:
    """True in every rank but 0 of a torchrun job: those ranks print nothing and write nothing."""
    found = launched_rank()
    return found is not None and found[0] != 0


def backend_for_this_machine() -> str:
    """gloo for CPU tensors always; NCCL for CUDA tensors where this torch has it and a GPU is here."""
    import torch
    import torch.distributed as dist

    if torch.cuda.is_available() and dist.is_nccl_available():
        return "cpu:gloo,cuda:nccl"
    return "gloo"


def join(timeout_s: float = DEFAULT_TIMEOUT_S) -> World | None:
    """Initialise the default process group when launched by torchrun with more than one rank."""
    found = launched_rank()
    if found is None:
        return None
    import torch
    import torch.distributed as dist

    rank, world_size, local_rank = found
    backend = backend_for_this_machine()
    if "nccl" in backend:
        torch.cuda.set_device(local_rank % torch.cuda.device_count())
    if not dist.is_initialized():
        dist.init_process_group(backend=backend, timeout=timedelta(seconds=timeout_s))
    return World(rank, world_size, local_rank, backend)


def leave() -> None:
    import torch.distributed as dist

    if dist.is_initialized():
        dist.destroy_process_group()
