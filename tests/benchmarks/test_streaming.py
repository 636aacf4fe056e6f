"""The streaming closed form: 1,000,000 x 10 generated and from Parquet always; 100,000,000 x 10 with --run-large.

Read the two together: the large one should take about 100 times the small one's time (it is
linear in n) with the same peak memory, `extra_info["peak_rss_mb"]`, bounded by one chunk.
"""

import pytest

from bench.harness.memory import PeakMemory
from bench.problems.chunks import SyntheticStream, parquet_chunks, synthetic_chunks, write_parquet
from bench.studies.streaming import stream_fit


@pytest.mark.parametrize("n", [1_000_000, pytest.param(100_000_000, marks=pytest.mark.large)])
def test_stream_fit(benchmark, request, n):
    if n > 1_000_000 and not request.config.getoption("--run-large"):
        pytest.skip("the 100,000,000-row stream runs only with --run-large")
    benchmark.group = "streaming closed form, d = 10, chunks of 1,000,000 rows"

    def fit():
        chunks, _, _ = synthetic_chunks(SyntheticStream(n, 10, chunk_rows=1_000_000))
        return stream_fit(chunks)

    with PeakMemory() as peak:
        _, info, _ = benchmark.pedantic(fit, rounds=3 if n <= 1_000_000 else 1, iterations=1)
    benchmark.extra_info.update(n=n, peak_rss_mb=peak.bytes / 2**20, rank=info["rank"])
    assert info["n"] == n and info["rank"] == 10


def test_stream_fit_from_parquet(benchmark, tmp_path):
    """The same 1,000,000 x 10 rows read back from Parquet (written once, untimed): what reading
    and checking the file adds to the generated stream above."""
    path = tmp_path / "stream.parquet"
    write_parquet(synthetic_chunks(SyntheticStream(1_000_000, 10, chunk_rows=250_000))[0], path)
    benchmark.group = "streaming closed form, d = 10, chunks of 1,000,000 rows"
    with PeakMemory() as peak:
        _, info, _ = benchmark.pedantic(
            lambda: stream_fit(parquet_chunks(path, ["y"], 1_000_000)), rounds=3, iterations=1
        )
    benchmark.extra_info.update(n=info["n"], peak_rss_mb=peak.bytes / 2**20, source="parquet")
    assert info["n"] == 1_000_000 and info["rank"] == 10
