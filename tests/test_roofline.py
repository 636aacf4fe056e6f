"""The roofline: the probe, its per-machine cache, and the bound it gives a work model."""

import json
import math

import pytest
import torch

from bench.harness import roofline
from impls.cost import Cost


def test_bound_is_the_slower_of_moving_the_bytes_and_doing_the_flops():
    peaks = roofline.Peaks("cpu", "float64", bandwidth_bytes_s=1e10, gemm_flops_s=1e11, threads=2)
    assert peaks.bound_s(Cost(bytes=1e10, flops=1e9)) == pytest.approx(1.0)  # memory-bound
    assert peaks.bound_s(Cost(bytes=1e8, flops=1e12)) == pytest.approx(10.0)  # compute-bound


def test_probe_measures_positive_finite_peaks(monkeypatch):
    monkeypatch.setitem(roofline.BANDWIDTH_BYTES, "cpu", 2**20)  # small: this tests the plumbing, not the machine
    monkeypatch.setitem(roofline.GEMM_SIZE, "cpu", 64)
    peaks = roofline.probe("cpu", torch.float32)
    assert (peaks.device, peaks.dtype, peaks.threads) == ("cpu", "float32", torch.get_num_threads())
    assert all(math.isfinite(v) and v > 0 for v in (peaks.bandwidth_bytes_s, peaks.gemm_flops_s))


def test_peaks_are_probed_once_per_machine_then_read_from_the_cache(monkeypatch, tmp_path):
    monkeypatch.setenv("LINREG_BENCH_CACHE", str(tmp_path))
    probes = []

    def fake_probe(device, dtype):
        probes.append((device, dtype))
        return roofline.Peaks(device, str(dtype).removeprefix("torch."), 1e10, 1e11, torch.get_num_threads())

    monkeypatch.setattr(roofline, "probe", fake_probe)
    first = roofline.peaks("cpu", torch.float64)
    assert roofline.peaks("cpu", torch.float64) == first
    assert probes == [("cpu", torch.float64)]
    roofline.peaks("cpu", torch.float32)  # another dtype is another key
    assert len(probes) == 2
    cached = json.loads((tmp_path / "peaks.json").read_text())
    assert len(cached) == 2 and all("torch=" + torch.__version__ in key for key in cached)


def test_an_unreadable_cache_is_measured_again_not_an_error(monkeypatch, tmp_path):
    monkeypatch.setenv("LINREG_BENCH_CACHE", str(tmp_path))
    (tmp_path / "peaks.json").write_text("{not json")
    monkeypatch.setattr(roofline, "probe", lambda device, dtype: roofline.Peaks(device, "float64", 1.0, 2.0, 1))
    assert roofline.peaks("cpu", torch.float64).gemm_flops_s == 2.0


def test_the_tests_never_write_the_user_s_cache():
    """conftest points LINREG_BENCH_CACHE at a temporary folder: the CLI tests probe peaks there."""
    import os

    from bench.harness.roofline import _cache_file

    assert str(_cache_file()).startswith(os.environ["LINREG_BENCH_CACHE"])


def _fake_probes(monkeypatch, tmp_path) -> list:
    monkeypatch.setenv("LINREG_BENCH_CACHE", str(tmp_path))
    probes = []

    def fake(device, dtype, library="torch"):
        probes.append((device, dtype, library))
        return roofline.Peaks(device, str(dtype).removeprefix("torch."), 1e10, 1e11, 1, library)

    monkeypatch.setattr(roofline, "probe", lambda device, dtype: fake(device, dtype))
    monkeypatch.setattr(roofline, "probe_numpy", lambda dtype: fake("cpu", dtype, "numpy"))
    return probes


def test_cached_peaks_expire(monkeypatch, tmp_path):
    probes = _fake_probes(monkeypatch, tmp_path)
    roofline.peaks("cpu", torch.float64)
    roofline.peaks("cpu", torch.float64)
    assert len(probes) == 1  # fresh: read from the cache
    now = roofline.time.time()
    monkeypatch.setattr(roofline.time, "time", lambda: now + roofline.PEAKS_MAX_AGE_S + 1)
    roofline.peaks("cpu", torch.float64)
    assert len(probes) == 2  # older than PEAKS_MAX_AGE_S: measured again
    cache = tmp_path / "peaks.json"
    entries = json.loads(cache.read_text()).items()
    stale = {key: {k: v for k, v in entry.items() if k != "measured_at"} for key, entry in entries}
    cache.write_text(json.dumps(stale))  # a cache written before entries had a date
    roofline.peaks("cpu", torch.float64)
    assert len(probes) == 3


def test_sklearn_is_held_to_numpy_s_peaks_and_accumulation_to_float64_s(monkeypatch, tmp_path):
    from impls import implementation_class

    probes = _fake_probes(monkeypatch, tmp_path)
    sklearn = implementation_class("sklearn")()
    accumulating = implementation_class("normal-equation")(accumulate="float64")
    assert roofline.peaks_key(sklearn, torch.float32) == (torch.float32, "numpy")
    assert roofline.peaks_key(accumulating, torch.float32) == (torch.float64, "torch")
    assert roofline.peaks_key(implementation_class("normal-equation")(), torch.float32) == (torch.float32, "torch")
    roofline.peaks("cpu", torch.float64, "numpy")
    assert probes == [("cpu", torch.float64, "numpy")]
    cached = json.loads((tmp_path / "peaks.json").read_text())
    assert any("numpy=" in key for key in cached)
    with pytest.raises(ValueError, match="no peaks for library 'numpy' on cuda"):
        roofline.peaks("cuda", torch.float64, "numpy")
