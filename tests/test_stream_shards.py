"""A data-parallel stream: each rank reads only its shard (synthetic chunks and Parquet row groups
by index, CSV by byte range), and the merged moments give the one-process fit."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from bench.cli import main
from bench.errors import InputError
from bench.problems.chunks import Shard, SyntheticStream, csv_chunks, parquet_chunks, synthetic_chunks, write_parquet


def rows_of(chunks) -> torch.Tensor:
    parts = [torch.cat([X, y], dim=1) for X, y in chunks]
    return torch.cat(parts) if parts else torch.empty(0)


def write_csv(path: Path, n: int, newline_at_end: bool = True) -> Path:
    rng = np.random.default_rng(4)
    X = rng.normal(size=(n, 3))
    frame = pd.DataFrame({"a": X[:, 0], "b": X[:, 1], "c": X[:, 2], "y": X @ [1.0, -2.0, 0.5] + 3})
    text = frame.to_csv(index=False)
    path.write_text(text if newline_at_end else text.rstrip("\n"))
    return path


@pytest.mark.parametrize("newline_at_end", [True, False])
@pytest.mark.parametrize("world", [1, 2, 3, 7, 300])
def test_csv_byte_ranges_cover_every_line_once(tmp_path, world, newline_at_end):
    path = write_csv(tmp_path / "d.csv", 101, newline_at_end)
    whole = rows_of(csv_chunks(path, ["y"], 16))
    shards = [rows_of(csv_chunks(path, ["y"], 16, Shard(rank, world))) for rank in range(world)]
    assert torch.equal(torch.cat([s for s in shards if s.numel()]), whole)  # in order, none twice, none lost
    if world == 300:
        assert any(s.numel() == 0 for s in shards)  # ranges shorter than a line: some hold no line start


def test_a_bad_cell_in_a_shard_is_named_by_its_line_in_the_whole_file(tmp_path):
    path = write_csv(tmp_path / "d.csv", 90)
    lines = path.read_text().splitlines()
    lines[70] = "1,2,oops,4"  # line 71 of the file
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(InputError, match=r"column 'c', line 71: not a finite number"):
        for _ in csv_chunks(path, ["y"], 10):
            pass
    with pytest.raises(InputError, match=r"column 'c', line 71: not a finite number"):
        for _ in csv_chunks(path, ["y"], 10, Shard(2, 3)):
            pass
    assert rows_of(csv_chunks(path, ["y"], 10, Shard(0, 3))).shape[0] == 30  # other shards never see it


def test_parquet_row_groups_and_synthetic_chunks_go_to_one_rank_each(tmp_path):
    path = tmp_path / "d.parquet"
    write_parquet(synthetic_chunks(SyntheticStream(1_000, 3, chunk_rows=100))[0], path)  # ten row groups
    whole = rows_of(parquet_chunks(path, ["y"], 64))
    shards = [rows_of(parquet_chunks(path, ["y"], 64, Shard(rank, 3))) for rank in range(3)]
    assert [s.shape[0] for s in shards] == [400, 300, 300]
    assert torch.equal(torch.cat(shards).sort(dim=0).values, whole.sort(dim=0).values)
    generated = [rows_of(synthetic_chunks(SyntheticStream(1_000, 3, chunk_rows=100), Shard(r, 3))[0]) for r in range(3)]
    assert torch.equal(torch.cat(generated).sort(dim=0).values, whole.sort(dim=0).values)


def stream(tmp_path: Path, name: str, *argv: str) -> tuple[int, pd.Series | None]:
    out = tmp_path / name
    code = main(["stream", *argv, "--chunk-rows", "500", "--out", str(out)])
    csv = out / "stream.csv"
    return code, pd.read_csv(csv).iloc[0] if csv.is_file() else None


@pytest.mark.parametrize("source", ["csv", "parquet"])
def test_stream_on_two_ranks_equals_one_process(tmp_path, source):
    if source == "csv":
        data = ["--csv", str(write_csv(tmp_path / "d.csv", 5_003)), "--target", "y"]
    else:
        write_parquet(synthetic_chunks(SyntheticStream(5_000, 3, chunk_rows=500, seed=2))[0], tmp_path / "d.parquet")
        data = ["--parquet", str(tmp_path / "d.parquet"), "--target", "y"]
    code, one = stream(tmp_path, "one", *data)
    assert code == 0 and one["status"] == "ok"
    code, two = stream(tmp_path, "two", *data, "--nproc", "2")
    assert code == 0 and two["status"] == "ok"
    assert (two["world_size"], two["backend"], two["n"]) == (2, "gloo", one["n"])
    assert 0 < two["comm_fraction"] < 1
    fits = [torch.load(tmp_path / name / "models" / "closed-form-stream.pt") for name in ("one", "two")]
    for key in ("weight", "bias"):
        assert torch.allclose(fits[1][key], fits[0][key], rtol=1e-12, atol=0), key


def test_a_rank_with_no_rows_or_bad_input_stops_every_rank_with_one_line(tmp_path, capfd):
    write_parquet(synthetic_chunks(SyntheticStream(600, 2, chunk_rows=600))[0], tmp_path / "one-group.parquet")
    code, _ = stream(tmp_path, "empty", "--parquet", str(tmp_path / "one-group.parquet"), "--target", "y",
                     "--nproc", "2")  # fmt: skip
    err = capfd.readouterr().err
    assert code == 2 and err.count("linreg-bench: error: rank 1 has no rows") == 1, err
    path = write_csv(tmp_path / "d.csv", 2_000)
    lines = path.read_text().splitlines()
    lines[1_900] = "1,2,,4"  # in rank 1's half
    path.write_text("\n".join(lines) + "\n")
    code, _ = stream(tmp_path, "bad", "--csv", str(path), "--target", "y", "--nproc", "2")
    err = capfd.readouterr().err
    assert code == 2 and err.count("linreg-bench: error: rank 1:") == 1 and "line 1901" in err, err


def test_streamed_sgd_is_refused_on_several_ranks(tmp_path, capsys):
    assert main(["stream", "--method", "sgd", "--nproc", "2", "--n", "1000", "--out", str(tmp_path / "s")]) == 2
    assert "only the closed form streams data-parallel" in capsys.readouterr().err
