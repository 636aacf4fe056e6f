"""A communication model beside the measurements: all-reduce cost α + β·bytes fitted from gloo
on this machine, and what it predicts for many more ranks than this machine has. A model, not a
measurement: the reports say so on every row it makes.

Ring all-reduce over W ranks (what gloo and NCCL use for large messages) sends 2(W−1) messages
of bytes/W per rank: t(W, bytes) = 2(W−1)·α + 2(W−1)/W · bytes · β. With W = 2 the measured time
is 2α + bytes·β, from which α and β are fitted by least squares.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass

import numpy as np
import pandas as pd

PROBE_BYTES = (8, 64, 512, 4096, 32_768, 262_144, 2_097_152, 8_388_608)
PREDICT_RANKS = (8, 64, 512)


@dataclass(frozen=True)
class CommModel:
    alpha_s: float  # latency per message
    beta_s_per_byte: float  # inverse bandwidth

    def all_reduce_s(self, nbytes: float, world: int) -> float:
        if world <= 1:
            return 0.0
        return 2 * (world - 1) * self.alpha_s + 2 * (world - 1) / world * nbytes * self.beta_s_per_byte


def _probe_rank(sizes: list[int], repeats: int) -> list[float]:
    """Runs in every rank started by the launcher: the median time of `repeats` all-reduces per size."""
    import torch
    import torch.distributed as dist

    torch.set_num_threads(1)
    dist.init_process_group("gloo")
    try:
        medians = []
        for size in sizes:
            tensor = torch.zeros(max(1, size // 8), dtype=torch.float64)
            dist.all_reduce(tensor)  # warm the connection for this size
            dist.barrier()
            samples = []
            for _ in range(repeats):
                start = time.perf_counter()
                dist.all_reduce(tensor)
                samples.append(time.perf_counter() - start)
            medians.append(float(np.median(samples)))
        return medians
    finally:
        dist.destroy_process_group()


def measure_all_reduce(nproc: int = 2, sizes: tuple[int, ...] = PROBE_BYTES, repeats: int = 30) -> pd.DataFrame:
    """gloo all-reduce times on this machine, through torch's elastic launcher (as `--nproc` runs)."""
    from torch.distributed.launcher.api import LaunchConfig, elastic_launch

    config = LaunchConfig(
        min_nodes=1, max_nodes=1, nproc_per_node=nproc, run_id=uuid.uuid4().hex, rdzv_backend="c10d",
        rdzv_endpoint="localhost:0", max_restarts=0, monitor_interval=0.5, start_method="spawn",
    )  # fmt: skip
    times = elastic_launch(config, _probe_rank)(list(sizes), repeats)
    return pd.DataFrame({"world_size": nproc, "bytes": list(sizes), "seconds": max(times.values(), key=sum)})


def fit_model(frame: pd.DataFrame) -> CommModel:
    """α and β from measured (bytes, seconds) at one world size, by least squares on the ring
    formula in relative terms (each row divided by its time: the 8-byte latency counts as much as
    the 8 MB transfer, instead of vanishing beside it); both clipped at zero."""
    world = int(frame["world_size"].iloc[0])
    seconds = frame["seconds"].to_numpy(float)
    design = np.column_stack([np.full(len(frame), 2.0 * (world - 1)), 2.0 * (world - 1) / world * frame["bytes"]])
    (alpha, beta), *_ = np.linalg.lstsq(design / seconds[:, None], np.ones_like(seconds), rcond=None)
    return CommModel(max(0.0, float(alpha)), max(0.0, float(beta)))


def predicted_weak_scaling(
    model: CommModel, p: int, closed_form_s: float | None, sgd_s: float | None, sgd_steps: int,
    ranks: tuple[int, ...] = PREDICT_RANKS,
) -> pd.DataFrame:  # fmt: skip
    """Weak scaling (the same rows per rank), predicted: the closed form exchanges its p × p moments
    once, DDP SGD its p gradients every step. Per-rank compute is the one-rank time measured here
    (it does not change with the rank count under weak scaling); efficiency = T(1) / T(W). A method
    with no measured one-rank time (None) gets no rows."""
    rows = []
    for world in ranks:
        if closed_form_s is not None:
            comm = model.all_reduce_s(8 * (p * p + p + 1), world)
            rows.append({"world_size": world, "impl": "normal-equation", "comm_s": comm,
                         "efficiency": closed_form_s / (closed_form_s + comm), "source": "model"})  # fmt: skip
        if sgd_s is not None:
            comm = sgd_steps * model.all_reduce_s(8 * p, world)
            rows.append({"world_size": world, "impl": "DDP SGD", "comm_s": comm,
                         "efficiency": sgd_s / (sgd_s + comm), "source": "model"})  # fmt: skip
    return pd.DataFrame(rows)
