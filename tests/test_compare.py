"""The regression gate on constructed samples, not timings: it must say `same` to noise and catch a real shift."""

import json

import numpy as np
import pandas as pd
import pytest

from bench.cli import main
from bench.errors import InputError
from bench.regression.accepted import Accepted
from bench.regression.compare import (
    CompareConfig,
    apply_accepted,
    compare,
    compare_pairs,
    compare_runs,
    machine_differences,
)
from bench.regression.replicates import SequentialDesign
from bench.results.readers import LoadedResults, load_results
from bench.results.schema import results_frame

RNG = np.random.default_rng(42)


def timings(scale: float = 1.0, n: int = 30, seed: int = 0) -> np.ndarray:
    """Right-skewed like real round times: a floor plus lognormal noise (~5% spread)."""
    rng = np.random.default_rng(seed)
    return scale * (0.010 + 0.0005 * rng.lognormal(0, 0.6, n))


def loaded(samples_by_impl: dict[str, np.ndarray], origin: str) -> LoadedResults:
    rows = [
        {"dataset": "d2l", "impl": impl, "device": "cpu", "dtype": "float32", "status": "ok",
         "time_samples_s": " ".join(f"{t:.9g}" for t in times)}
        for impl, times in samples_by_impl.items()
    ]  # fmt: skip
    return LoadedResults(results_frame(rows), {"cpu": "x", "torch": "2.13.0"}, origin)


def test_one_run_a_side_is_decided_against_the_noise_band_with_no_p_from_its_rounds():
    """Before: a p from the rounds of one process per side, which two runs of one commit 'passed'
    at 5.7e-09 for a 1.34× difference that was the machine's, not the code's."""
    config = CompareConfig()
    same = compare_runs([timings(seed=1)], [timings(1.34, seed=2)], config)
    assert same["verdict"] == "same" and np.isnan(same["p_value"]) and same["method"].startswith("one run a side")
    slower = compare_runs([timings(seed=1)], [timings(4.0, seed=2)], config)  # beyond the default ×3.5
    assert slower["verdict"] == "slower" and slower["regression"]
    assert compare_runs([timings(seed=1)], [timings(2.0, seed=2)], config)["verdict"] == "same"  # inside it
    assert compare_runs([timings(seed=1)], [timings(0.25, seed=2)], config)["verdict"] == "faster"
    assert compare_runs([timings(seed=1)], [timings(1.2, seed=2)], CompareConfig(noise=1.1))["verdict"] == "slower"


def test_several_runs_a_side_are_tested_at_the_run_level():
    rng = np.random.default_rng(0)

    def runs(scale):  # each run its own machine state: a per-run factor, then its rounds
        return [timings(scale * rng.lognormal(0, 0.03), seed=int(rng.integers(1e6))) for _ in range(5)]

    slower = compare_runs(runs(1.0), runs(1.3), CompareConfig(alpha=0.01))
    assert slower["verdict"] == "slower" and slower["replicates"] == "5 vs 5 run(s)"
    assert slower["ratio"] == pytest.approx(1.3, rel=0.1) and slower["ratio_low"] > 1.1
    assert compare_runs(runs(1.0), runs(1.0), CompareConfig(alpha=0.01))["verdict"] == "same"


def test_a_significant_change_smaller_than_the_factor_is_same():
    rng = np.random.default_rng(1)
    base = [timings(seed=int(rng.integers(1e6))) for _ in range(8)]
    new = [timings(1.04, seed=int(rng.integers(1e6))) for _ in range(8)]
    result = compare_runs(base, new, CompareConfig(alpha=0.01, min_factor=1.10))
    assert result["p_value"] < 0.01 and result["verdict"] == "same"


def test_too_few_rounds_is_a_verdict_of_its_own_and_the_other_cases_are_judged():
    """Before: one case with pytest-benchmark's default 5 rounds refused the whole comparison."""
    base = loaded({"five": timings(n=5, seed=1), "many": timings(n=30, seed=2)}, "base")
    new = loaded({"five": timings(4.0, n=5, seed=3), "many": timings(4.0, n=30, seed=4)}, "new")
    verdicts = compare(base, new).set_index("impl")["verdict"].to_dict()
    assert verdicts == {"five": "too-few-rounds", "many": "slower"}


def test_new_and_gone_cases():
    base = loaded({"a": timings(seed=1), "b": timings(seed=2)}, "base")
    new = loaded({"a": timings(seed=3), "c": timings(seed=4)}, "new")
    verdicts = compare(base, new).set_index("impl")["verdict"].to_dict()
    assert verdicts == {"a": "same", "b": "gone", "c": "new"}


def test_error_rows_are_reported_as_error_not_a_crash():
    """Before: `compare` exited 2 ("no raw round times") when either side had an error row."""
    base = loaded({"a": timings(seed=1), "b": timings(seed=2), "c": timings(seed=3)}, "base")
    new = loaded({"a": timings(seed=4), "b": timings(seed=5), "c": timings(seed=6)}, "new")
    for side, impl in ((new, "b"), (base, "c")):
        at = side.frame.index[side.frame["impl"] == impl]
        side.frame.loc[at, ["status", "time_samples_s"]] = ["error", None]
    result = compare(base, new).set_index("impl")
    assert result["verdict"].to_dict() == {"a": "same", "b": "error", "c": "error"}
    assert result["regression"].to_dict() == {"a": False, "b": True, "c": False}  # new errors are regressions


def test_missing_raw_rounds_are_a_clear_error():
    base = loaded({"a": timings()}, "base.csv")
    base.frame.loc[0, "time_samples_s"] = None
    with pytest.raises(InputError, match=r"base\.csv: case d2l a cpu float32 has no raw round times"):
        compare(base, loaded({"a": timings()}, "new"))


def _benchmark_json(path, scale, with_data=True, seed=0):
    data = timings(scale, seed=seed).tolist()
    stats = {"median": float(np.median(data)), "iqr": 0.0, "rounds": len(data)}
    if with_data:
        stats["data"] = data
    document = {
        "machine_info": {"cpu": "x", "linreg_bench": {"torch": "2.13.0"}},
        "commit_info": {"id": "abc"},
        "benchmarks": [{"name": "test_fit[d2l-sklearn-cpu-float32]", "group": "d2l", "stats": stats,
                        "extra_info": {"impl": "sklearn", "device": "cpu", "dtype": "float32", "dataset": "d2l",
                                       "status": "ok", "excess_loss": 1e-9}}],
    }  # fmt: skip
    path.write_text(json.dumps(document))
    return path


def test_pytest_benchmark_json_reads_into_the_run_schema(tmp_path):
    result = load_results(_benchmark_json(tmp_path / "b.json", 1.0))
    row = result.frame.iloc[0]
    assert (row["impl"], row["dataset"], row["status"], row["rounds"]) == ("sklearn", "d2l", "ok", 30)
    assert row["excess_loss"] == 1e-9 and result.machine["torch"] == "2.13.0"
    assert list(result.frame.columns[:4]) == ["impl", "device", "dtype", "dataset"]


def test_cli_gate_exits_1_only_for_a_regression_when_asked(tmp_path, capsys):
    base = _benchmark_json(tmp_path / "base.json", 1.0, seed=1)
    same = _benchmark_json(tmp_path / "same.json", 1.0, seed=2)
    slow = _benchmark_json(tmp_path / "slow.json", 4.0, seed=2)  # beyond the one-run noise band (×3.5)
    assert main(["compare", str(base), str(same), "--fail-on-regression"]) == 0
    assert main(["compare", str(base), str(slow)]) == 0  # reports, does not gate, unless asked
    assert main(["compare", str(base), str(slow), "--fail-on-regression", "--out", str(tmp_path / "c")]) == 1
    assert "slower (regression)" in capsys.readouterr().out
    written = pd.read_csv(tmp_path / "c" / "comparison.csv")
    assert written.loc[0, "verdict"] == "slower" and bool(written.loc[0, "regression"])
    assert main(["compare", str(base), str(slow), "--fail-on-regression", "--noise", "5"]) == 0


def test_cli_missing_raw_rounds_exit_2(tmp_path, capsys):
    base = _benchmark_json(tmp_path / "base.json", 1.0, with_data=False)
    assert main(["compare", str(base), str(base)]) == 2
    err = capsys.readouterr().err
    assert "has no raw round times" in err and "--benchmark-save-data" in err and err.count("\n") == 1


def test_run_folders_compare_too(tmp_path):
    for name in ("a", "b"):
        args = ["run", "--impl", "normal-equation", "--device", "cpu", "--dtype", "float64", "--no-plots"]
        assert main([*args, "--rounds", "8", "--min-time", "0", "--out", str(tmp_path / name)]) == 0
    assert main(["compare", str(tmp_path / "a"), str(tmp_path / "b"), "--out", str(tmp_path / "c")]) == 0
    assert len(pd.read_csv(tmp_path / "c" / "comparison.csv")) == 1


def test_an_ordinary_pytest_benchmark_file_with_many_rounds_and_with_five_compares(tmp_path, capsys):
    """Before: 1,898 rounds crashed `smallest_p_value` (OverflowError from math.comb), and a case of
    5 rounds refused the whole comparison (exit 2)."""
    paths = []
    for name, scale in (("base", 1.0), ("new", 1.0)):
        path = _benchmark_json(tmp_path / f"{name}.json", scale, seed=len(paths))
        doc = json.loads(path.read_text())
        many = doc["benchmarks"][0]
        many["stats"]["data"] = timings(scale, n=1898, seed=len(paths)).tolist()
        five = json.loads(json.dumps(many))
        five["name"] = "test_fit[d2l-normal-equation-cpu-float32]"
        five["extra_info"]["impl"] = "normal-equation"
        five["stats"]["data"] = five["stats"]["data"][:5]
        doc["benchmarks"].append(five)
        path.write_text(json.dumps(doc))
        paths.append(path)
    assert main(["compare", *map(str, paths), "--fail-on-regression", "--out", str(tmp_path / "c")]) == 0
    verdicts = pd.read_csv(tmp_path / "c" / "comparison.csv").set_index("impl")["verdict"].to_dict()
    assert verdicts == {"sklearn": "same", "normal-equation": "too-few-rounds"}
    out = capsys.readouterr().out
    assert "One run a side cannot separate the code from the machine's state" in out


def test_a_folder_of_runs_is_several_runs_a_side(tmp_path):
    for side, scale in (("base", 1.0), ("new", 1.5)):
        (tmp_path / side).mkdir()
        for index in range(4):
            _benchmark_json(tmp_path / side / f"000{index}_run.json", scale * (1 + 0.01 * index), seed=index)
    assert main(["compare", str(tmp_path / "base"), str(tmp_path / "new"), "--fail-on-regression",
                 "--out", str(tmp_path / "c")]) == 1  # fmt: skip
    row = pd.read_csv(tmp_path / "c" / "comparison.csv").iloc[0]
    assert row["replicates"] == "4 vs 4 run(s)" and row["verdict"] == "slower"


def test_accepted_regressions_let_a_slower_case_through_every_gate_and_say_so():
    """Before: only the instruction-count gate read accepted-regressions.toml."""
    base, new = loaded({"a": timings(seed=1)}, "base"), loaded({"a": timings(4.0, seed=2)}, "new")
    comparison = compare(base, new)
    assert comparison.loc[0, "regression"]
    entry = Accepted("d2l a cpu float32", 5.0, "deliberate", "abc1234")
    passed = apply_accepted(comparison, [entry])
    assert not passed.loc[0, "regression"] and passed.loc[0, "accepted"] == entry.note()
    too_far = apply_accepted(comparison, [Accepted("d2l a cpu float32", 3.0, "deliberate", "abc1234")])
    assert too_far.loc[0, "regression"]


def test_machine_differences_are_named():
    assert machine_differences({"torch": "2.13.0", "cpu": "x"}, {"torch": "2.14.1", "cpu": "x"}) == [
        "torch: '2.13.0' vs '2.14.1'"
    ]


def pair_rounds(slowdown: float, pairs: int = 8, rounds: int = 6, seed: int = 0):
    """An A/B's rounds: each worker pair's processes have their own offsets (±3%), each round a drift
    of the machine shared by both sides of the round (±40%), and 1% noise of its own."""
    rng = np.random.default_rng(seed)
    base, new = [], []
    for _ in range(pairs):
        offset_b, offset_n = rng.lognormal(0, 0.03, 2)
        level = 0.010 * rng.uniform(0.6, 1.4, rounds)
        base.append(offset_b * level * rng.lognormal(0, 0.01, rounds))
        new.append(slowdown * offset_n * level * rng.lognormal(0, 0.01, rounds))
    return np.concatenate(base), np.concatenate(new), [rounds] * pairs


def test_ab_pairs_catch_a_20_percent_slowdown_through_the_drift():
    base, new, blocks = pair_rounds(1.20)
    result = compare_pairs(base, new, blocks, CompareConfig(paired=True, design=SequentialDesign(factor=1.05)))
    assert result["verdict"] == "slower" and result["regression"] and result["replicates"] == "8 worker pair(s)"
    assert result["ratio_low"] <= 1.20 <= result["ratio_high"]


def test_ab_pairs_say_same_or_inconclusive_to_an_a_a_and_never_slower():
    for seed in range(10):
        base, new, blocks = pair_rounds(1.0, seed=seed)
        design = SequentialDesign(factor=1.05, min_pairs=8, max_pairs=8)
        verdict = compare_pairs(base, new, blocks, CompareConfig(paired=True, design=design))["verdict"]
        assert verdict in ("same", "inconclusive"), seed  # α = 0.05 per A/A: 10 seeds, none wrong here
