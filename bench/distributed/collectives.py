"""The collectives a data-parallel fit calls (impls/sharded.py's protocol) over the default process
group, each one timed: the seconds spent inside them are the run's communication time. A failed
collective (a rank died, or the timeout passed) becomes one RankFailure that stops the run."""

from __future__ import annotations

import time
from typing import Any

import torch
import torch.distributed as dist


class RankFailure(RuntimeError):
    """Another rank died or hung: the process group is unusable, the run stops (finished cases kept)."""


def _failed(rank: int, what: str, exc: BaseException) -> RankFailure:
    first = " ".join(str(exc).split())[:200] or type(exc).__name__
    return RankFailure(f"rank {rank}: {what} failed — another rank died or stopped answering ({first})")


class TimedCollectives:
    """Collectives on the default group; `seconds` accumulates the time spent inside them. CUDA
    tensors are synchronised before and after, so the time is the collective's, not queued work's."""

    def __init__(self, device: str | torch.device) -> None:
        self.rank = dist.get_rank()
        self.world_size = dist.get_world_size()
        self.device = torch.device(device)
        self.seconds = 0.0

    def _sync(self) -> None:
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)

    def _timed(self, what: str, fn) -> Any:
        self._sync()
        start = time.perf_counter()
        try:
            result = fn()
            self._sync()
        except (RuntimeError, dist.DistError) as exc:
            raise _failed(self.rank, what, exc) from None
        self.seconds += time.perf_counter() - start
        return result

    def all_reduce_sum(self, tensor: torch.Tensor) -> None:
        self._timed("all_reduce", lambda: dist.all_reduce(tensor, op=dist.ReduceOp.SUM))

    def all_gather(self, tensor: torch.Tensor) -> list[torch.Tensor]:
        parts = [torch.empty_like(tensor) for _ in range(self.world_size)]
        self._timed("all_gather", lambda: dist.all_gather(parts, tensor.contiguous()))
        return parts


def _untimed(rank: int, what: str, fn) -> Any:
    try:
        return fn()
    except (RuntimeError, dist.DistError) as exc:
        raise _failed(rank, what, exc) from None


def barrier() -> None:
    _untimed(dist.get_rank(), "barrier", dist.barrier)


def maximum(value: float) -> float:
    """The largest `value` over the ranks (a round's time is the slowest rank's)."""
    tensor = torch.tensor([value], dtype=torch.float64)
    _untimed(dist.get_rank(), "all_reduce", lambda: dist.all_reduce(tensor, op=dist.ReduceOp.MAX))
    return float(tensor)


def gathered(value: Any) -> list[Any]:
    """Every rank's picklable `value`, in rank order."""
    out: list[Any] = [None] * dist.get_world_size()
    _untimed(dist.get_rank(), "all_gather_object", lambda: dist.all_gather_object(out, value))
    return out


def from_root(value: Any) -> Any:
    """Rank 0's picklable `value`, on every rank."""
    box = [value]
    _untimed(dist.get_rank(), "broadcast_object_list", lambda: dist.broadcast_object_list(box, src=0))
    return box[0]
