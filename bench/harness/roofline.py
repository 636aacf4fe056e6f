"""This machine's peaks (read bandwidth, matrix-multiply throughput) per device, dtype and library
(torch's kernels, or NumPy/SciPy's BLAS for scikit-learn), measured once and cached per machine for
PEAKS_MAX_AGE_S, and the roofline bound of a fit: max(bytes / bandwidth, flops / peak)."""

from __future__ import annotations

import contextlib
import json
import math
import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
from platformdirs import user_cache_dir

from bench.atomic import write_json
from bench.harness.machine import cpu_model
from bench.harness.timing import TimingConfig, measure
from impls import Implementation, LinearFit
from impls.cost import Cost

# Probe sizes per device type: each probe must run long against the clock's and the launch's
# overhead (a 1536² GEMM is ~0.1 ms on an H100, so a GPU gets larger ones).
BANDWIDTH_BYTES = {"cpu": 256 * 2**20, "cuda": 2 * 2**30}
GEMM_SIZE = {"cpu": 1536, "cuda": 8192}
PEAKS_MAX_AGE_S = 30 * 24 * 3600  # a firmware, kernel or power-setting change should not last forever
LIBRARIES = ("torch", "numpy")


@dataclass(frozen=True)
class Peaks:
    device: str
    dtype: str
    bandwidth_bytes_s: float  # reading a BANDWIDTH_BYTES tensor (sum), best of PROBE_REPEATS
    gemm_flops_s: float  # GEMM_SIZE² matmul, best of PROBE_REPEATS
    threads: int
    library: str = "torch"
    measured_at: float = 0.0  # time.time() of the probe; 0 (older caches): expired

    def bound_s(self, cost: Cost) -> float:
        return max(cost.bytes / self.bandwidth_bytes_s, cost.flops / self.gemm_flops_s)


PeaksProvider = Callable[[str, torch.dtype, str], Peaks]  # (device, compute dtype, library) -> its peaks


PROBE_REPEATS = 5  # a peak is the best of this many rounds: the machine at its least disturbed


def _best(fn, device: str, repeats: int = PROBE_REPEATS) -> float:
    """The fastest of `repeats` rounds of the one round loop, after one warm-up."""
    return min(measure(fn, device, TimingConfig.exactly(repeats))[0].samples)


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


def probe_numpy(dtype: torch.dtype) -> Peaks:
    """The same probes through NumPy (its BLAS, its threads): what scikit-learn's LAPACK runs on."""
    import numpy as np

    np_dtype = np.dtype(str(dtype).removeprefix("torch."))
    buffer = np.ones(BANDWIDTH_BYTES["cpu"] // np_dtype.itemsize, dtype=np_dtype)
    bandwidth = BANDWIDTH_BYTES["cpu"] / _best(buffer.sum, "cpu")
    del buffer
    size = GEMM_SIZE["cpu"]
    a = np.random.default_rng(0).standard_normal((size, size)).astype(np_dtype)
    flops = 2.0 * size**3 / _best(lambda: a @ a, "cpu")
    return Peaks("cpu", np_dtype.name, bandwidth, flops, torch.get_num_threads(), "numpy")


def _cache_file() -> Path:
    """The per-user cache folder of this platform (LINREG_BENCH_CACHE overrides it: tests, CI)."""
    root = os.environ.get("LINREG_BENCH_CACHE") or user_cache_dir("linreg-bench", appauthor=False)
    return Path(root) / "peaks.json"


def _key(device: str, dtype: torch.dtype, library: str) -> str:
    name = torch.cuda.get_device_name(torch.device(device)) if device.startswith("cuda") else cpu_model()
    if library == "numpy":
        import numpy as np

        return f"{name}|{device}|{dtype}|threads={torch.get_num_threads()}|numpy={np.__version__}"
    return f"{name}|{device}|{dtype}|threads={torch.get_num_threads()}|torch={torch.__version__}"


def peaks(device: str, dtype: torch.dtype, library: str = "torch") -> Peaks:
    """Measured once per machine, device, dtype, library, thread count and library version; then
    cached for PEAKS_MAX_AGE_S. NumPy's peaks are CPU only (scikit-learn runs there)."""
    if library not in LIBRARIES or (library == "numpy" and torch.device(device).type != "cpu"):
        raise ValueError(f"no peaks for library {library!r} on {device}")
    path, key = _cache_file(), _key(device, dtype, library)
    try:
        cached = json.loads(path.read_text())
    except (OSError, ValueError):
        cached = {}
    entry = cached.get(key)
    if entry is not None and time.time() - entry.get("measured_at", 0.0) < PEAKS_MAX_AGE_S:
        return Peaks(**entry)
    measured = probe_numpy(dtype) if library == "numpy" else probe(device, dtype)
    measured = Peaks(**{**asdict(measured), "measured_at": time.time()})
    cached[key] = asdict(measured)
    with contextlib.suppress(OSError):  # a read-only home only costs a re-measurement next time
        write_json(path, cached)
    return measured


def roofline_figures(
    impl: Implementation, dtype: torch.dtype, shape: tuple[int, int, int], median_s: float, peaks: Peaks,
    fit: LinearFit | None = None,
) -> dict[str, float]:  # fmt: skip
    """A timed case against the machine's roofline: the bound from the work model of the route the
    fit took (`fit_cost`; the algorithm's `cost` without a fit) on data of `shape` (n, d, k) and the
    peaks of the dtype and library that did the arithmetic (`peaks_key`), the time as a multiple of
    it, the achieved rates."""
    n, d, k = shape
    itemsize = torch.empty(0, dtype=dtype).element_size()
    cost = impl.cost(n, d, k, itemsize) if fit is None else impl.fit_cost(fit, n, d, k, itemsize)
    if cost is None:
        return {}
    bound = peaks.bound_s(cost)
    return {
        "work_bytes": cost.bytes, "work_flops": cost.flops, "bound_s": bound,
        "time_vs_bound": median_s / bound if bound > 0 else math.nan,
        "achieved_gbs": cost.bytes / median_s / 1e9, "achieved_gflops": cost.flops / median_s / 1e9,
    }  # fmt: skip


def peaks_key(impl: Implementation, dtype: torch.dtype) -> tuple[torch.dtype, str]:
    """(dtype, library) whose peaks bound `impl` on input of `dtype`."""
    return impl.compute_dtype(dtype), impl.peaks_library
