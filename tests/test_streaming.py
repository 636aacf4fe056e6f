"""Larger-than-memory fits: chunked moments give the in-memory answer, whatever the chunking."""

import pandas as pd
import pytest
import torch

import impls
from bench.cli import main
from bench.streaming import Moments, csv_chunks, solve, stream_fit, stream_sgd, synthetic_chunks


@pytest.mark.parametrize("chunk_rows", [1_000, 7_777, 50_000])
def test_chunked_moments_match_the_in_memory_fit(chunk_rows):
    chunks, _, _ = synthetic_chunks(50_000, 4, 2, chunk_rows=chunk_rows, seed=5)
    Xs, ys = zip(*chunks, strict=True)
    full = impls.create("normal-equation", solver="svd").fit(torch.cat(Xs), torch.cat(ys))
    fit, info, _ = stream_fit(zip(Xs, ys, strict=True))
    assert torch.allclose(fit.weight, full.weight, atol=1e-12) and torch.allclose(fit.bias, full.bias, atol=1e-12)
    assert info["n"] == 50_000 and info["rank"] == 4


def test_merging_stays_accurate_with_large_column_means():
    chunks, _, _ = synthetic_chunks(20_000, 3, chunk_rows=3_000, seed=1)
    Xs, ys = zip(*((X * 1e-3 + 1e5, y) for X, y in chunks), strict=True)
    full = impls.create("normal-equation", solver="svd").fit(torch.cat(Xs), torch.cat(ys))
    moments = Moments()
    for X, y in zip(Xs, ys, strict=True):
        moments.add(X, y)
    fit, _ = solve(moments)
    assert torch.allclose(fit.weight, full.weight, rtol=1e-8)


def test_csv_is_read_in_chunks_and_checked(tmp_path):
    frame = pd.DataFrame({"a": range(100), "b": [i % 7 for i in range(100)]})
    frame["y"] = 2 * frame["a"] - frame["b"] + 1
    frame.to_csv(tmp_path / "d.csv", index=False)
    fit, info, _ = stream_fit(csv_chunks(tmp_path / "d.csv", ["y"], 30))
    assert info["n"] == 100 and torch.allclose(fit.weight, torch.tensor([[2.0, -1.0]], dtype=torch.float64))
    frame["b"] = frame["b"].astype(object)
    frame.loc[64, "b"] = "x"
    frame.to_csv(tmp_path / "bad.csv", index=False)
    assert main(["stream", "--csv", str(tmp_path / "bad.csv"), "--target", "y", "--chunk-rows", "30"]) == 2


def test_stream_command_reports_time_memory_and_recovery(tmp_path):
    assert main(["stream", "--n", "200000", "--d", "5", "--chunk-rows", "30000", "--out", str(tmp_path)]) == 0
    row = pd.read_csv(tmp_path / "stream.csv").iloc[0]
    assert row["n"] == 200_000 and row["status"] == "ok" and row["peak_rss_mb"] > 0
    assert row["truth_error_se"] < row["truth_tol_se"]
    assert impls.LinearFit.load(tmp_path / "models" / "closed-form-stream.pt").weight.shape == (1, 5)


def test_streamed_sgd_approaches_the_optimum_and_is_judged_by_the_same_check(tmp_path):
    def chunks():
        return synthetic_chunks(100_000, 4, chunk_rows=25_000, seed=2)[0]

    fit, moments, _ = stream_sgd(chunks, epochs=20, lr=0.5, batch_size=25_000)
    exact, _ = solve(moments)
    assert moments.n == 100_000 and torch.allclose(fit.weight, exact.weight, atol=1e-3)
    args = ["stream", "--method", "sgd", "--n", "100000", "--d", "4", "--chunk-rows", "25000", "--batch-size",
            "25000", "--epochs", "20", "--out", str(tmp_path)]  # fmt: skip
    assert main(args) in (0, 1)  # recovered or not, it says which
    row = pd.read_csv(tmp_path / "stream.csv").iloc[0]
    assert row["method"] == "sgd" and row["status"] in ("ok", "not-recovered") and row["truth_error_se"] > 0
