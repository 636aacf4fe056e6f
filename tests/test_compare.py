"""The regression gate on constructed samples, not timings: it must say `same` to noise and catch a real shift."""

import json

import numpy as np
import pandas as pd
import pytest

from bench.cli import main
from bench.errors import InputError
from bench.regression.compare import (
    CompareConfig,
    compare,
    compare_samples,
    machine_differences,
    rounds_needed,
    smallest_p_value,
)
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


def test_identical_distributions_are_same():
    result = compare_samples(timings(seed=1), timings(seed=2), CompareConfig())
    assert result["verdict"] == "same" and not result["regression"]
    assert result["ratio_low"] <= 1 <= result["ratio_high"]


def test_a_20_percent_shift_is_slower_and_a_regression():
    result = compare_samples(timings(seed=1), timings(1.2, seed=2), CompareConfig())
    assert result["verdict"] == "slower" and result["regression"]
    assert result["ratio"] == pytest.approx(1.2, rel=0.03) and result["ratio_low"] > 1.1


def test_a_faster_case_is_never_a_regression():
    result = compare_samples(timings(seed=1), timings(0.8, seed=2), CompareConfig())
    assert result["verdict"] == "faster" and not result["regression"]


def test_a_3_percent_shift_does_not_fail_with_a_1_10_factor():
    result = compare_samples(timings(seed=1, n=200), timings(1.03, seed=2, n=200), CompareConfig(min_factor=1.10))
    assert result["p_value"] < 1e-6  # significant with this many rounds...
    assert result["verdict"] == "same" and not result["regression"]  # ...but smaller than the factor


def test_a_significant_speed_up_smaller_than_the_factor_is_same_and_one_beyond_it_is_faster():
    config = CompareConfig(min_factor=1.05)
    small = compare_samples(timings(seed=1, n=200), timings(0.97, seed=2, n=200), config)
    assert small["p_value"] < 1e-6 and small["verdict"] == "same"
    large = compare_samples(timings(seed=1, n=200), timings(0.94, seed=2, n=200), config)
    assert large["verdict"] == "faster" and not large["regression"]


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
    slow = _benchmark_json(tmp_path / "slow.json", 1.2, seed=2)
    assert main(["compare", str(base), str(same), "--fail-on-regression"]) == 0
    assert main(["compare", str(base), str(slow)]) == 0  # reports, does not gate, unless asked
    assert main(["compare", str(base), str(slow), "--fail-on-regression", "--out", str(tmp_path / "c")]) == 1
    assert "slower (regression)" in capsys.readouterr().out
    written = pd.read_csv(tmp_path / "c" / "comparison.csv")
    assert written.loc[0, "verdict"] == "slower" and bool(written.loc[0, "regression"])
    assert main(["compare", str(base), str(slow), "--fail-on-regression", "--min-factor", "1.5"]) == 0


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


def test_too_few_rounds_for_alpha_are_refused_not_reported_same(tmp_path, capsys):
    """Before: with <= 6 rounds a side the exact rank test can never reach p < 0.002, yet compare
    and ab ran and said `same` to any slowdown, a 3x one included."""
    assert smallest_p_value(6, 6) == pytest.approx(2 / 924) and smallest_p_value(6, 6) > 0.002
    assert rounds_needed(0.002) == 7 and rounds_needed(0.05) == 4
    paths = [_benchmark_json(tmp_path / f"{name}.json", scale, seed=seed) for name, scale, seed in
             (("base", 1.0, 1), ("new", 3.0, 2))]  # fmt: skip
    for path in paths:  # keep 6 rounds a side
        doc = json.loads(path.read_text())
        doc["benchmarks"][0]["stats"]["data"] = doc["benchmarks"][0]["stats"]["data"][:6]
        path.write_text(json.dumps(doc))
    assert main(["compare", *map(str, paths), "--fail-on-regression"]) == 2
    err = capsys.readouterr().err
    assert "smallest p is 0.0022, never below --alpha 0.002: give at least 7 rounds a side" in err
    assert main(["compare", *map(str, paths), "--fail-on-regression", "--alpha", "0.01"]) == 1  # now it can fire
    assert main(["ab", "--rounds", "6"]) == 2
    assert "--rounds 6: with 6 and 6 rounds" in capsys.readouterr().err


def test_machine_differences_are_named():
    assert machine_differences({"torch": "2.13.0", "cpu": "x"}, {"torch": "2.14.1", "cpu": "x"}) == [
        "torch: '2.13.0' vs '2.14.1'"
    ]


def drifting_rounds(slowdown: float, pairs: int = 20, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """What a loaded machine does to an ABBA A/B: each round's level drifts by up to ±40% (load,
    clocks), both sides of a pair alike, with 1% noise of their own."""
    rng = np.random.default_rng(seed)
    level = 0.010 * rng.uniform(0.6, 1.4, pairs)
    return level * rng.lognormal(0, 0.01, pairs), slowdown * level * rng.lognormal(0, 0.01, pairs)


def test_paired_rounds_catch_a_10_percent_slowdown_that_drift_hides_from_the_unpaired_test():
    base, new = drifting_rounds(1.10)
    unpaired = compare_samples(base, new, CompareConfig())
    paired = compare_samples(base, new, CompareConfig(paired=True))
    assert unpaired["verdict"] == "same"  # the drift swamps 10% between rounds
    assert paired["verdict"] == "slower" and paired["regression"]
    assert paired["ratio_low"] <= 1.10 <= paired["ratio_high"] and paired["ratio"] == pytest.approx(1.10, rel=0.01)


def test_paired_rounds_say_same_to_an_a_a_comparison():
    base, new = drifting_rounds(1.0, seed=3)
    result = compare_samples(base, new, CompareConfig(paired=True))
    assert result["verdict"] == "same" and not result["regression"]
    assert result["ratio_low"] <= 1.0 <= result["ratio_high"]


def test_the_signed_rank_gate_needs_ten_pairs_at_the_default_alpha():
    assert smallest_p_value(9, 9, paired=True) == pytest.approx(2 / 512) and smallest_p_value(9, 9, paired=True) > 0.002
    assert rounds_needed(0.002, paired=True) == 10
    base, new = drifting_rounds(2.0, pairs=9)  # every pair twice as slow, yet 9 pairs cannot reach 0.002
    assert compare_samples(base, new, CompareConfig(paired=True))["verdict"] == "same"
    base, new = drifting_rounds(2.0, pairs=10)
    assert compare_samples(base, new, CompareConfig(paired=True))["verdict"] == "slower"
