"""This machine's peaks (read bandwidth, matrix-multiply throughput) per device and dtype, measured
once and cached per machine, and the roofline bound of a fit: max(bytes / bandwidth, flops / peak)."""

from __future__ import annotations

import contextlib
import json
import math
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
from platformdirs import user_cache_dir

from bench.atomic import write_json
from bench.harness.machine import cpu_model
from bench.harness.timing import synchronize
from impls import Implementation
from impls.cost import Cost

# Probe sizes per device type: each probe must run long against the clock's and the launch's
# overhead (a 1536² GEMM is ~0.1 ms on an H100, so a GPU gets larger ones).
BANDWIDTH_BYTES = {"cpu": 256 * 2**20, "cuda": 2 * 2**30}
GEMM_SIZE = {"cpu": 1536, "cuda": 8192}


@dataclass(frozen=True)
class Peaks:
    device: str
    dtype: str
    bandwidth_bytes_s: float  # reading a BANDWIDTH_BYTES tensor (sum), best of 5
    gemm_flops_s: float  # GEMM_SIZE² matmul, best of 5
    threads: int

    def bound_s(self, cost: Cost) -> float:
        return max(cost.bytes / self.bandwidth_bytes_s, cost.flops / self.gemm_flops_s)


def _best(fn, device: str, repeats: int = 5) -> float:
    fn()
    synchronize(device)
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        synchronize(device)
        best = min(best, time.perf_counter() - start)
    return best


def probe(device: str, dtype: torch.dtype) -> Peaks:
    kind = torch.device(device).type
    itemsize = torch.empty(0, dtype=dtype).element_size()
    buffer = torch.ones(BANDWIDTH_BYTES[kind] // itemsize, dtype=dtype, device=device)
    bandwidth = BANDWIDTH_BYTES[kind] / _best(buffer.sum, device)
    del buffer
    size = GEMM_SIZE[kind]
    a = torch.randn(size, size, dtype=dtype, device=device)
    flops = 2.0 * size**3 / _best(lambda: a @ a, device)
    return Peaks(device, str(dtype).removeprefix("torch."), bandwidth, flops, torch.get_num_threads())


def _cache_file() -> Path:
    """The per-user cache folder of this platform (LINREG_BENCH_CACHE overrides it: tests, CI)."""
    root = os.environ.get("LINREG_BENCH_CACHE") or user_cache_dir("linreg-bench", appauthor=False)
    return Path(root) / "peaks.json"


def _key(device: str, dtype: torch.dtype) -> str:
    name = torch.cuda.get_device_name(torch.device(device)) if device.startswith("cuda") else cpu_model()
    return f"{name}|{device}|{dtype}|threads={torch.get_num_threads()}|torch={torch.__version__}"


def peaks(device: str, dtype: torch.dtype) -> Peaks:
    """Measured once per machine, device, dtype, thread count and torch version; then cached."""
    path, key = _cache_file(), _key(device, dtype)
    try:
        cached = json.loads(path.read_text())
    except (OSError, ValueError):
        cached = {}
    if key in cached:
        return Peaks(**cached[key])
    measured = probe(device, dtype)
    cached[key] = asdict(measured)
    with contextlib.suppress(OSError):  # a read-only home only costs a re-measurement next time
        write_json(path, cached)
    return measured


def roofline_figures(
    impl: Implementation, dtype: torch.dtype, n: int, d: int, k: int, median_s: float, peaks: Peaks
) -> dict[str, float]:
    """A timed case against the machine's roofline: the bound from the implementation's work model
    and the measured peaks, the time as a multiple of it, and the achieved rates."""
    cost = impl.cost(n, d, k, torch.empty(0, dtype=dtype).element_size())
    if cost is None:
        return {}
    bound = peaks.bound_s(cost)
    return {
        "work_bytes": cost.bytes, "work_flops": cost.flops, "bound_s": bound,
        "time_vs_bound": median_s / bound if bound > 0 else math.nan,
        "achieved_gbs": cost.bytes / median_s / 1e9, "achieved_gflops": cost.flops / median_s / 1e9,
    }  # fmt: skip
