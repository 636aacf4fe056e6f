"""Larger-than-memory fits: chunked moments give the in-memory answer, whatever the chunking."""

import pandas as pd
import pytest
import torch

import impls
from bench.cli import main
from bench.errors import InputError
from bench.problems.chunks import SyntheticStream, csv_chunks, parquet_chunks, synthetic_chunks, write_parquet
from bench.studies.streaming import Moments, solve, stream_fit, stream_sgd


@pytest.mark.parametrize("chunk_rows", [1_000, 7_777, 50_000])
def test_chunked_moments_match_the_in_memory_fit(chunk_rows):
    chunks, _, _ = synthetic_chunks(SyntheticStream(50_000, 4, 2, chunk_rows=chunk_rows, seed=5))
    Xs, ys = zip(*chunks, strict=True)
    full = impls.create("normal-equation", solver="svd").fit(torch.cat(Xs), torch.cat(ys))
    fit, info, _ = stream_fit(zip(Xs, ys, strict=True))
    assert torch.allclose(fit.weight, full.weight, atol=1e-12) and torch.allclose(fit.bias, full.bias, atol=1e-12)
    assert info["n"] == 50_000 and info["rank"] == 4


def test_merging_stays_accurate_with_large_column_means():
    chunks, _, _ = synthetic_chunks(SyntheticStream(20_000, 3, chunk_rows=3_000, seed=1))
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
        return synthetic_chunks(SyntheticStream(100_000, 4, chunk_rows=25_000, seed=2))[0]

    fit, moments, _ = stream_sgd(chunks, epochs=20, lr=0.5, batch_size=25_000)
    exact, _ = solve(moments)
    assert moments.n == 100_000 and torch.allclose(fit.weight, exact.weight, atol=1e-3)
    args = ["stream", "--method", "sgd", "--n", "100000", "--d", "4", "--chunk-rows", "25000", "--batch-size",
            "25000", "--epochs", "20", "--out", str(tmp_path)]  # fmt: skip
    assert main(args) == 0  # 20 full-chunk epochs reach the optimum's noise floor
    row = pd.read_csv(tmp_path / "stream.csv").iloc[0]
    assert row["method"] == "sgd" and row["status"] == "ok"
    assert 0 < row["opt_distance_se"] < row["opt_tol_se"] and 0 < row["truth_error_se"] < row["truth_tol_se"]


def _small_csv(path):
    g = torch.Generator().manual_seed(0)
    X = torch.randn(300, 2, generator=g, dtype=torch.float64)
    y = (
        X @ torch.tensor([1.0, 2.0], dtype=torch.float64)
        + 0.5
        + 0.1 * torch.randn(300, generator=g, dtype=torch.float64)
    )
    pd.DataFrame({"a": X[:, 0], "b": X[:, 1], "y": y}).to_csv(path, index=False)
    return path


def test_a_diverged_csv_stream_says_diverged_and_exits_1(tmp_path):
    """Before: `ok`, exit 0, weights of 1.6e14 (CSV streams were never judged)."""
    path = _small_csv(tmp_path / "c.csv")
    args = ["stream", "--csv", str(path), "--target", "y", "--method", "sgd", "--lr", "1e6", "--epochs", "3"]
    assert main([*args, "--out", str(tmp_path / "out")]) == 1
    row = pd.read_csv(tmp_path / "out" / "stream.csv").iloc[0]
    assert row["status"] == "diverged" and "over 100× that of predicting 0" in row["reason"]


def test_a_blown_up_synthetic_stream_is_diverged_not_merely_not_recovered(tmp_path):
    args = ["stream", "--n", "20000", "--d", "3", "--chunk-rows", "5000", "--method", "sgd", "--lr", "50",
            "--batch-size", "100", "--epochs", "2", "--out", str(tmp_path)]  # fmt: skip
    assert main(args) == 1
    assert pd.read_csv(tmp_path / "stream.csv").iloc[0]["status"] == "diverged"


def test_csv_streams_are_judged_against_the_optimum_of_their_moments(tmp_path):
    path = _small_csv(tmp_path / "c.csv")
    good = ["stream", "--csv", str(path), "--target", "y", "--method", "sgd", "--lr", "0.5", "--batch-size", "300",
            "--epochs", "200", "--out", str(tmp_path / "good")]  # fmt: skip
    assert main(good) == 0
    row = pd.read_csv(tmp_path / "good" / "stream.csv").iloc[0]
    assert row["status"] == "ok" and row["opt_distance_se"] < row["opt_tol_se"]
    short = [*good[:-4], "--epochs", "1", "--lr", "0.01", "--out", str(tmp_path / "short")]
    assert main(short) == 1  # one small step from zero: far from the optimum, and the row says so
    row = pd.read_csv(tmp_path / "short" / "stream.csv").iloc[0]
    assert row["status"] == "not-recovered" and "standard errors from the least-squares optimum" in row["reason"]


def test_parquet_is_read_in_chunks_across_row_groups_and_gives_the_in_memory_fit(tmp_path):
    path = tmp_path / "d.parquet"
    assert write_parquet(synthetic_chunks(SyntheticStream(10_000, 3, chunk_rows=3_000, seed=4))[0], path) == 10_000
    chunks = list(parquet_chunks(path, ["y"], 2_500))  # batches that straddle the 3,000-row groups
    assert [X.shape[0] for X, _ in chunks] == [2_500] * 4 and chunks[0][0].shape[1] == 3
    Xs, ys = zip(*synthetic_chunks(SyntheticStream(10_000, 3, chunk_rows=3_000, seed=4))[0], strict=True)
    full = impls.create("normal-equation", solver="svd").fit(torch.cat(Xs), torch.cat(ys))
    fit, info, _ = stream_fit(iter(chunks))
    assert info["n"] == 10_000 and torch.allclose(fit.weight, full.weight, atol=1e-12)
    out = tmp_path / "out"
    assert main(["stream", "--parquet", str(path), "--target", "y", "--chunk-rows", "4000", "--out", str(out)]) == 0
    assert pd.read_csv(out / "stream.csv").iloc[0]["n"] == 10_000


def _parquet(tmp_path, frame: pd.DataFrame):
    path = tmp_path / "bad.parquet"
    frame.to_parquet(path, row_group_size=4)
    return path


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        (pd.DataFrame({"a": [1.0, 2.0, 3.0]}), "no target column 'y'"),
        (pd.DataFrame({"a": ["p", "q", "r"], "y": [1.0, 2.0, 3.0]}), "column 'a' is .*string, not a number"),
        (pd.DataFrame({"a": [1.0, 2, 3, 4, 5, None], "y": [1.0] * 6}), "column 'a', row 6: not a finite number"),
        (pd.DataFrame({"a": [1.0] * 6, "y": [1.0, 2, 3, float("inf"), 5, 6]}), "column 'y', row 4: not a finite"),
        (pd.DataFrame({"y": [1.0, 2.0]}), "no feature columns"),
    ],
)
def test_bad_parquet_gets_one_line_naming_file_column_and_row(tmp_path, frame, message):
    path = _parquet(tmp_path, frame)
    with pytest.raises(InputError, match=message) as caught:
        list(parquet_chunks(path, ["y"], 4))
    assert str(path) in str(caught.value) and "\n" not in str(caught.value)


def test_unreadable_or_missing_parquet_and_a_target_without_a_file_exit_2(tmp_path, capsys):
    (tmp_path / "not.parquet").write_text("a,y\n1,2\n")
    assert main(["stream", "--parquet", str(tmp_path / "not.parquet"), "--target", "y"]) == 2
    assert "not a readable Parquet file" in capsys.readouterr().err
    assert main(["stream", "--parquet", str(tmp_path / "none.parquet"), "--target", "y"]) == 2
    assert "no such file" in capsys.readouterr().err
    assert main(["stream", "--target", "y", "--n", "1000"]) == 2
    assert "--target names a column" in capsys.readouterr().err
    write_parquet(synthetic_chunks(SyntheticStream(100, 2, chunk_rows=50))[0], tmp_path / "ok.parquet")
    assert main(["stream", "--parquet", str(tmp_path / "ok.parquet")]) == 2
    assert "--target" in capsys.readouterr().err
