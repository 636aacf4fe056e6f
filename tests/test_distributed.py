"""Data-parallel fits: the pieces alone (one process), then two real gloo ranks (file rendezvous in
tmp_path, one thread each, a timeout), then `linreg-bench run --nproc 2` end to end."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import torch
import torch.multiprocessing as mp

from bench import problems
from bench.cli import main
from bench.distributed.data_parallel import check_shards
from bench.distributed.launch import torchrun_arguments, without_nproc
from bench.errors import InputError
from bench.harness.ranks import RUN_STEPS
from bench.judge.digits import lre
from impls import implementation_class
from impls.sharded import SingleProcess, global_batch_part, row_shard
from tests import distributed_workers as workers

pytestmark = pytest.mark.skipif(
    not torch.distributed.is_available() or not torch.distributed.is_gloo_available(),
    reason="this torch build has no torch.distributed with gloo",
)


@pytest.mark.parametrize(("n", "world"), [(10, 2), (11, 2), (7, 3), (2, 2)])
def test_row_shards_cover_every_row_once_and_differ_by_at_most_one(n, world):
    shards = [row_shard(n, rank, world) for rank in range(world)]
    assert [i for s in shards for i in range(n)[s]] == list(range(n))
    sizes = [s.stop - s.start for s in shards]
    assert max(sizes) - min(sizes) <= 1


def test_a_global_batch_splits_into_contiguous_rank_parts():
    # global batch of 2 x 3 rows at row 12; the last global batch has only 4 rows, 1 for rank 1
    assert [global_batch_part(12, 6, 3, r) for r in (0, 1)] == [slice(12, 15), slice(15, 18)]
    assert [global_batch_part(18, 4, 3, r) for r in (0, 1)] == [slice(18, 21), slice(21, 22)]
    assert global_batch_part(18, 2, 3, 1) == slice(20, 20)  # nothing left for rank 1: an empty part


def test_shards_a_fit_cannot_combine_are_refused_naming_the_rank():
    check_shards([(5, 3, 1), (5, 3, 1)], "d")  # fine
    with pytest.raises(InputError, match="rank 1 has no rows"):
        check_shards([(1, 3, 1), (0, 3, 1)], "tiny")
    with pytest.raises(InputError, match="rank 2 has 4 feature and 1 target columns, rank 0 has 3 and 1"):
        check_shards([(5, 3, 1), (5, 3, 1), (5, 4, 1)], "d")


def test_nproc_is_taken_off_the_command_the_ranks_run():
    argv = ["run", "--nproc", "2", "--dataset", "d2l", "--nproc=3", "--impl", "sklearn"]
    assert without_nproc(argv) == ["run", "--dataset", "d2l", "--impl", "sklearn"]
    assert torchrun_arguments(2) == ["--standalone", "--nproc-per-node=2", "--max-restarts=0",
                                     "--monitor-interval=0.5", "-m", "bench"]  # fmt: skip


@pytest.mark.parametrize("solver", ["auto", "cholesky", "tsqr", "svd", "qr", "lstsq"])
@pytest.mark.parametrize("intercept", [True, False])
def test_one_rank_sharded_closed_form_is_the_one_process_fit(solver, intercept):
    problem = problems.load("crop-yields")
    fitter = implementation_class("normal-equation")(solver=solver, fit_intercept=intercept)
    one, sharded = fitter.fit(problem.X, problem.y), fitter.fit_sharded(problem.X, problem.y, SingleProcess())
    scale = float(one.weight.abs().max())
    assert float((one.weight - sharded.weight).abs().max()) <= 1e-12 * scale
    assert float((one.bias - sharded.bias).abs().max()) <= 1e-12 * max(1.0, float(one.bias.abs().max()))


def _spawn(fn, tmp_path, *args) -> list[dict]:
    mp.start_processes(fn, args=(2, str(tmp_path), *args), nprocs=2, join=True, start_method="spawn")
    return [torch.load(tmp_path / f"rank{r}.pt") for r in range(2)]


def _relative(a: torch.Tensor, b: torch.Tensor) -> float:
    return float((a - b).abs().max() / b.abs().max())


@pytest.mark.parametrize("dataset", ["synthetic-medium", "strd-longley"])
def test_two_gloo_ranks_give_the_one_process_closed_form(tmp_path, dataset):
    problem = problems.load(dataset)
    one = implementation_class("normal-equation")().fit(problem.X, problem.y)
    ranks = _spawn(workers.sharded_fit, tmp_path, dataset, "normal-equation", {})
    for found in ranks:  # every rank ends with the same answer, the one-process fit's
        assert _relative(found["weight"], one.weight) <= 1e-12 and _relative(found["bias"], one.bias) <= 1e-12
        assert found["comm_s"] > 0
    assert torch.equal(ranks[0]["weight"], ranks[1]["weight"])


def test_tsqr_keeps_eleven_certified_digits_on_longley(tmp_path):
    problem = problems.load("strd-longley")
    found = _spawn(workers.sharded_fit, tmp_path, "strd-longley", "normal-equation", {"solver": "tsqr"})[0]
    theta = np.concatenate([found["weight"].numpy(), found["bias"].numpy()[:, None]], axis=1)
    digits = lre(theta, problem.certified.theta())
    assert digits.min() >= 11, digits
    # The check can fail: the textbook normal equations (uncentred, unscaled) square cond and keep fewer.
    textbook = implementation_class("normal-equation")(solver="cholesky", scaling="none").fit(problem.X, problem.y)
    theta = np.concatenate([textbook.weight.numpy(), textbook.bias.numpy()[:, None]], axis=1)
    assert lre(theta, problem.certified.theta()).min() < 11


def test_all_reduced_sgd_at_batch_b_per_rank_is_the_one_process_run_at_2b(tmp_path):
    options = {"batch_size": 5, "lr": 0.03, "epochs": 2}
    problem = problems.load("d2l")
    one = implementation_class("manual-gradient")(**{**options, "batch_size": 10}).fit(problem.X.double(), problem.y)
    ranks = _spawn(workers.sharded_fit, tmp_path, "d2l", "manual-gradient", options)
    for found in ranks:
        assert _relative(found["weight"], one.weight) <= 1e-10 and _relative(found["bias"], one.bias) <= 1e-10
    # and not at batch 5 in one process: the comparison can tell the batch sizes apart
    five = implementation_class("manual-gradient")(**options).fit(problem.X, problem.y)
    assert _relative(ranks[0]["weight"], five.weight) > 1e-6


def test_ddp_nn_linear_at_batch_b_per_rank_is_one_process_at_2b_in_the_same_order(tmp_path):
    options = {"batch_size": 5, "lr": 0.03, "epochs": 2, "optimizer": "adam"}
    problem = problems.load("d2l")
    fitter = implementation_class("nn-linear")
    one = fitter(**{**options, "batch_size": 10}).fit_sharded(problem.X, problem.y, SingleProcess())
    ranks = _spawn(workers.sharded_fit, tmp_path, "d2l", "nn-linear", options)
    for found in ranks:
        assert _relative(found["weight"], one.weight) <= 1e-10 and _relative(found["bias"], one.bias) <= 1e-10
        assert found["comm_s"] > 0  # DDP's all-reduce went through the timed hook
    five = fitter(**options).fit_sharded(problem.X, problem.y, SingleProcess())
    assert _relative(ranks[0]["weight"], five.weight) > 1e-6


def test_lbfgs_has_no_ddp_form_and_says_why():
    fitter = implementation_class("nn-linear")(optimizer="lbfgs")
    assert "re-evaluates the loss" in fitter.single_process_reason()
    assert "single-process by nature" in implementation_class("sklearn")().single_process_reason()
    assert implementation_class("nn-linear")().single_process_reason() is None


def test_a_rank_that_dies_fails_the_run_in_one_line_and_keeps_finished_cases(tmp_path):
    context = mp.start_processes(workers.dies_after_first_case, args=(2, str(tmp_path)), nprocs=2, join=False,
                                 start_method="spawn")  # fmt: skip
    for process in context.processes:  # not context.join(): it would stop rank 0 as soon as rank 1 died
        process.join(timeout=3 * workers.TIMEOUT_S)
    assert [process.exitcode for process in context.processes] == [0, 9]
    message = (tmp_path / "rank0.txt").read_text()
    assert message.startswith("rank 0: ") and "another rank died or stopped answering" in message
    assert "\n" not in message
    kept = pd.read_csv(tmp_path / "run" / "results.csv")
    assert list(kept["impl"]) == ["normal-equation"] and list(kept["status"]) == ["ok"]


@pytest.mark.parametrize("bad_input", [False, True], ids=["error", "bad-input"])
@pytest.mark.parametrize("step", RUN_STEPS)
def test_rank_0_failing_at_any_step_ends_rank_1_at_once_with_one_line(tmp_path, step, bad_input):
    context = mp.start_processes(workers.rank_0_fails_at, args=(2, str(tmp_path), step, bad_input), nprocs=2,
                                 join=False, start_method="spawn")  # fmt: skip
    for process in context.processes:  # a rank left waiting would wait out DIST_TIMEOUT_S; this is longer
        process.join(timeout=2 * workers.DIST_TIMEOUT_S)
    assert [process.exitcode for process in context.processes] == [0, 0]  # both workers saved what they saw
    rank0, rank1 = (json.loads((tmp_path / f"rank{rank}.json").read_text()) for rank in (0, 1))
    failed_at = float((tmp_path / "failed_at").read_text())
    if bad_input:  # every rank exits 2; rank 0 says it, the others say nothing (cli/main.py)
        assert rank0["code"] == 2 and rank0["stderr"] == f"linreg-bench: error: injected at {step}\n"
        assert rank1["code"] == 2 and rank1["stderr"] == ""
    else:
        assert rank0["code"] == f"raised injected at {step}"
        said = (f"linreg-bench: error: rank 0 failed while {step} (RuntimeError: injected at {step}); "
                "the cases finished before it are kept\n")  # fmt: skip
        assert rank1["code"] == 1 and rank1["stderr"] == said
    # told within one broadcast (plus cli/main.py's grace for bad input), never after the timeout
    assert rank1["ended"] - failed_at < workers.DIST_TIMEOUT_S / 4, rank1["ended"] - failed_at


def test_run_nproc_2_end_to_end(tmp_path, capfd):
    out = tmp_path / "run"
    argv = ["run", "--nproc", "2", "--dataset", "synthetic-small", "--impl", "normal-equation",
            "--impl", "manual-gradient", "--impl", "sklearn", "--device", "cpu", "--dtype", "float64",
            "--rounds", "3", "--min-time", "0", "--no-plots", "--no-roofline", "--out", str(out)]  # fmt: skip
    assert main(argv) == 0, capfd.readouterr().err
    printed = capfd.readouterr().out  # rank 0's summary (the ranks are child processes)
    assert "comm_fraction" in printed and "2 (gloo)" in printed
    rows = pd.read_csv(out / "results.csv").set_index("impl")
    assert list(rows["world_size"]) == [2, 2, 2]
    assert rows.loc["normal-equation", "status"] == "ok" and rows.loc["manual-gradient", "status"] == "ok"
    assert rows.loc["sklearn", "status"] == "skipped"
    assert "single-process by nature" in rows.loc["sklearn", "reason"]
    assert 0 < rows.loc["normal-equation", "comm_fraction"] < 1
    assert rows.loc["normal-equation", "backend"] == "gloo"


def test_run_nproc_refuses_more_ranks_than_rows(tmp_path, capfd):
    argv = ["run", "--nproc", "3", "--dataset", "synthetic", "--n", "2", "--d", "1", "--impl", "normal-equation",
            "--device", "cpu", "--dtype", "float64", "--no-plots", "--no-roofline",
            "--out", str(tmp_path / "r")]  # fmt: skip
    assert main(argv) == 2
    err = capfd.readouterr().err  # the ranks are child processes: their stderr is the file descriptor's
    assert "linreg-bench: error: synthetic-2x1x1: rank 2 has no rows (3 ranks for 2 rows)" in err, err
    assert err.count("has no rows") == 1  # rank 0 says it; the others meet the same error silently


def test_the_ring_model_recovers_alpha_and_beta_and_predicts_more_ranks():
    from bench.distributed.comm_model import CommModel, fit_model, predicted_weak_scaling

    truth = CommModel(alpha_s=50e-6, beta_s_per_byte=1e-9)
    sizes = [8, 4096, 262_144, 8_388_608]
    frame = pd.DataFrame({"world_size": 2, "bytes": sizes, "seconds": [truth.all_reduce_s(b, 2) for b in sizes]})
    fitted = fit_model(frame)
    assert fitted.alpha_s == pytest.approx(50e-6, rel=1e-6) and fitted.beta_s_per_byte == pytest.approx(1e-9, rel=1e-6)
    assert truth.all_reduce_s(1000, 1) == 0.0
    assert truth.all_reduce_s(1000, 8) == pytest.approx(14 * 50e-6 + 2 * 7 / 8 * 1000 * 1e-9)
    predicted = predicted_weak_scaling(truth, p=101, closed_form_s=1.0, sgd_s=1.0, sgd_steps=10_000)
    closed = predicted[predicted["impl"] == "normal-equation"].set_index("world_size")["efficiency"]
    sgd = predicted[predicted["impl"] == "DDP SGD"].set_index("world_size")["efficiency"]
    assert (predicted["source"] == "model").all()
    assert closed[512] > 0.9 > sgd[8]  # one exchange of p² numbers against 10,000 latencies
    assert closed.is_monotonic_decreasing and sgd.is_monotonic_decreasing
    only_closed = predicted_weak_scaling(truth, p=11, closed_form_s=1.0, sgd_s=None, sgd_steps=1)
    assert set(only_closed["impl"]) == {"normal-equation"}


def test_scale_nproc_measures_strong_and_weak_scaling(tmp_path):
    out = tmp_path / "scale"
    argv = ["scale", "--nproc", "1", "2", "--n", "4000", "--d", "3", "--impl", "manual-gradient",
            "--batch-size", "20", "--no-model", "--out", str(out)]  # fmt: skip
    assert main(argv) == 0
    frame = pd.read_csv(out / "scale_nproc.csv")
    assert list(zip(frame["mode"], frame["world_size"], strict=True)) == [("strong", 1), ("strong", 2), ("weak", 2)]
    assert (frame["status"] == "ok").all(), frame[["impl", "status", "reason"]]
    weak = frame[frame["mode"] == "weak"]
    assert list(weak["n"]) == [8000] and list(weak["n_per_rank"]) == [4000] and list(weak["batch_per_rank"]) == [20]
    strong = frame[frame["mode"] == "strong"]
    assert list(strong["batch_per_rank"]) == [20, 10]  # the global batch stays 20
    base = frame[frame["world_size"] == 1]
    assert (base["speedup"] == 1).all() and (base["efficiency"] == 1).all()
    assert (out / "scale_nproc.png").is_file() and "Strong: the same n" in (out / "scale_nproc.md").read_text()


def test_scale_nproc_refuses_what_has_no_data_parallel_form(tmp_path, capsys):
    assert main(["scale", "--nproc", "1", "2", "--impl", "sklearn", "--out", str(tmp_path / "s")]) == 2
    assert "single-process by nature" in capsys.readouterr().err
    assert main(["scale", "--nproc", "2", "4", "--out", str(tmp_path / "s")]) == 2  # no one-rank baseline


def test_cuda_cases_need_a_gpu_per_local_rank():
    from bench.distributed.data_parallel import gpu_shortage_reason

    assert gpu_shortage_reason("cpu", 4, 0) is None
    assert gpu_shortage_reason("cuda", 2, 2) is None
    assert gpu_shortage_reason("cuda", 4, 2) == "4 ranks on this machine need a GPU each for NCCL; 2 visible"


def test_a_data_parallel_run_resumes_only_what_is_missing(tmp_path, capfd):
    out = tmp_path / "run"
    argv = ["run", "--nproc", "2", "--dataset", "synthetic-small", "--impl", "normal-equation", "--impl",
            "manual-gradient", "--device", "cpu", "--dtype", "float64", "--rounds", "3", "--min-time", "0",
            "--no-plots", "--no-roofline"]  # fmt: skip
    assert main([*argv, "--out", str(out)]) == 0, capfd.readouterr().err
    first = pd.read_csv(out / "results.csv")
    # as if the run had been killed before its second case finished
    first[first["impl"] == "normal-equation"].to_csv(out / "results.csv", index=False)
    assert main([*argv, "--resume", str(out)]) == 0, capfd.readouterr().err
    assert "1 case(s) already finished, 1 to run" in capfd.readouterr().err
    resumed = pd.read_csv(out / "results.csv").set_index("impl")
    assert sorted(resumed.index) == ["manual-gradient", "normal-equation"]
    kept = first.set_index("impl").loc["normal-equation"]
    assert resumed.loc["normal-equation", "time_samples_s"] == kept["time_samples_s"]  # not run again
    assert resumed.loc["manual-gradient", "status"] == "ok" and resumed.loc["manual-gradient", "world_size"] == 2
