"""The A/B driver end to end on a tiny plan: two resident workers, interleaved rounds, one schema."""

import subprocess

import pytest

from bench.cli import main
from bench.errors import InputError
from bench.harness.machine import PROJECT_ROOT
from bench.regression import ab, ab_worker
from bench.regression.ab import ABPlan, exported, run_ab
from bench.regression.compare import CompareConfig, compare
from bench.regression.replicates import SequentialDesign

TINY = [{"dataset": "crop-yields-5", "impl": "normal-equation", "device": "cpu", "dtype": "float64"}]


def test_worker_pairs_are_added_until_an_injected_slowdown_is_decided_and_the_case_then_stops():
    # a 3x stretch: decided at a look (usually the first, at 3 pairs), and the case then stops
    design = SequentialDesign(factor=1.05, min_pairs=3, max_pairs=8)
    plan = ABPlan(TINY, design, rounds_per_pair=4, min_sample_time=0.002, slowdown={"normal-equation": 3.0})
    base, new = run_ab(PROJECT_ROOT, PROJECT_ROOT, plan, ("base", "new"))
    pairs = int(new.frame.loc[0, "pairs_to_verdict"])
    assert 3 <= pairs <= 8 and new.frame.loc[0, "time_blocks"] == " ".join(["4"] * pairs)
    assert base.frame.loc[0, "rounds"] == new.frame.loc[0, "rounds"] == 4 * pairs
    row = compare(base, new, CompareConfig(paired=True, design=design)).iloc[0]
    assert row["verdict"] == "slower" and row["regression"] and row["replicates"] == f"{pairs} worker pair(s)"


def test_ab_names_an_injected_slowdown_and_fails_the_gate_on_it(capsys):
    argv = ["ab", "--base", "HEAD", "--dataset", "crop-yields-5", "--impl", "normal-equation", "--dtype", "float64",
            "--rounds", "48", "--processes", "4", "--inject-slowdown", "normal-equation=3",
            "--fail-on-regression"]  # fmt: skip
    assert main(argv) == 1
    out, err = capsys.readouterr()
    assert "slowdown injected on the new side" in err and "injected slowdown normal-equation ×3" in out
    assert "The replicate is the worker pair" in out and "1 regression(s)" in out


@pytest.mark.parametrize(("rounds", "processes", "per_pair"), [(40, 5, 8), (21, 5, 4), (10, 5, 2), (12, 3, 4)])
def test_a_fixed_design_shares_the_rounds_in_whole_abba_pairs_with_one_look(rounds, processes, per_pair):
    plan = ABPlan.fixed(TINY, rounds, processes)
    assert plan.rounds_per_pair == per_pair
    assert plan.design.min_pairs == plan.design.max_pairs == processes and plan.design.looks == 1


def test_the_slowdown_hook_stretches_a_call_to_its_factor(monkeypatch):
    clock = iter(range(1000))  # a fake perf_counter: every reading is one second later
    monkeypatch.setattr(ab_worker.time, "perf_counter", lambda: float(next(clock)))
    slow = ab_worker._slowed(lambda: "fit", 3.0)
    assert slow() == "fit"
    # readings: start 0, after the call 1 -> target 0 + 3 * 1 = 3; the loop reads 2, 3 and stops
    assert next(clock) == 4


def test_a_worker_failure_is_one_clear_error():
    plan = ABPlan([{**TINY[0], "impl": "sklearn", "device": "cuda"}])  # never runs: the worker refuses
    with pytest.raises(InputError, match="A/B base side"):
        run_ab(PROJECT_ROOT, PROJECT_ROOT, plan, ("base", "new"))


def test_export_of_a_revision_leaves_the_checkout_alone():
    if subprocess.run(["git", "-C", str(PROJECT_ROOT), "rev-parse", "HEAD"], capture_output=True).returncode:
        pytest.skip("not a git checkout")
    with exported("HEAD") as root:
        assert (root / "bench" / "__init__.py").is_file() and (root / "impls" / "__init__.py").is_file()
    assert not root.exists()


def _last_flat_layout_commit() -> str | None:
    """The newest commit whose bench/ was one flat folder (before the sub-packages)."""
    git = ["git", "-C", str(PROJECT_ROOT)]
    found = subprocess.run([*git, "rev-list", "-1", "HEAD", "--", "bench/runner.py"], capture_output=True, text=True)
    if found.returncode or not found.stdout.strip():
        return None
    commit = found.stdout.strip()
    flat = subprocess.run([*git, "cat-file", "-e", f"{commit}:bench/runner.py"], capture_output=True)
    return commit if flat.returncode == 0 else f"{commit}~1"  # that commit moved it: its parent is flat


def test_the_worker_drives_a_revision_from_before_the_sub_packages():
    revision = _last_flat_layout_commit()
    if revision is None:
        pytest.skip("no git history with the flat bench/ layout (a shallow clone?)")
    plan = ABPlan.fixed(TINY, 6, 3, min_sample_time=0.002)
    with exported(revision) as old_root:
        assert (old_root / "bench" / "runner.py").is_file()
        base, new = run_ab(old_root, PROJECT_ROOT, plan, ("flat", "sub-packages"))
    assert base.frame.loc[0, "rounds"] == new.frame.loc[0, "rounds"] == 6
    assert base.frame.loc[0, "time_median_s"] > 0 and new.frame.loc[0, "time_median_s"] > 0


def test_bad_revision_and_too_few_worker_pairs_exit_2(capsys):
    assert main(["ab", "--base", "no-such-revision-xyz"]) == 2
    assert main(["ab", "--processes", "2"]) == 2  # two pairs: a t over pairs with one degree of freedom
    assert main(["ab", "--rounds-per-pair", "1"]) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 3 and "--base no-such-revision-xyz: not a commit" in err[0]
    assert "--processes must be >= 3: the worker pair is the replicate" in err[1]
    assert "--rounds-per-pair must be >= 2" in err[2]


def test_both_sides_are_pinned_to_the_last_allowed_vcpu_and_the_report_says_so(monkeypatch):
    from bench.regression import ab

    monkeypatch.setattr(ab.os, "sched_getaffinity", lambda pid: {0, 1, 2, 3}, raising=False)
    assert ab.worker_cpu() == 3
    monkeypatch.setattr(ab.os, "sched_getaffinity", lambda pid: {5}, raising=False)
    assert ab.worker_cpu() is None  # one vCPU allowed: nothing to choose, nothing pinned


def test_a_pinned_ab_records_its_vcpu_and_equal_calls_per_round(monkeypatch):
    design = SequentialDesign(factor=1.05, min_pairs=3, max_pairs=3)
    plan = ABPlan(TINY, design, rounds_per_pair=2, min_sample_time=0.002, cpu=0)
    seen = []
    original = ab.Worker.set_numbers

    def spy(self, numbers):
        seen.append((self.name, list(numbers), list(self.ready["numbers"])))
        original(self, numbers)

    monkeypatch.setattr(ab.Worker, "set_numbers", spy)
    base, new = run_ab(PROJECT_ROOT, PROJECT_ROOT, plan, ("base", "new"))
    assert new.frame.loc[0, "pinned_cpu"] == 0
    # per pair, both sides get the same calls per round: the larger of the two sides' own counts
    for (_, common_a, own_a), (_, common_b, own_b) in zip(seen[::2], seen[1::2], strict=True):
        assert common_a == common_b == [max(a, b) for a, b in zip(own_a, own_b, strict=True)]
    row = compare(base, new, CompareConfig(paired=True, design=design)).iloc[0]
    assert row["pinned_cpu"] == 0 and 0 <= row["slow_state_share"] <= 1


def test_an_ab_with_out_draws_its_worker_pairs_and_links_the_picture(tmp_path, capsys):
    argv = ["ab", "--base", "HEAD", "--dataset", "crop-yields-5", "--impl", "normal-equation", "--dtype", "float64",
            "--rounds", "12", "--processes", "3", "--out", str(tmp_path / "ab")]  # fmt: skip
    assert main(argv) == 0
    capsys.readouterr()
    assert (tmp_path / "ab" / "ab_pairs.png").stat().st_size > 0 and (tmp_path / "ab" / "ab_pairs.svg").is_file()
    assert "](ab_pairs.png)" in (tmp_path / "ab" / "comparison.md").read_text()


def test_each_pair_ratio_is_the_median_of_its_own_rounds():
    import pandas as pd

    from bench.reports.ab_plots import pair_ratios

    base = pd.Series({"time_samples_s": "1 1 1 2 2 2", "time_blocks": "3 3"})
    new = pd.Series({"time_samples_s": "1.1 1.1 5 2 2 2", "time_blocks": "3 3"})
    assert pair_ratios(base, new) == pytest.approx([1.1, 1.0])


def test_too_few_worker_pairs_is_one_line_naming_the_option(capsys):
    assert main(["ab", "--max-pairs", "2", "--impl", "normal-equation"]) == 2
    err = capsys.readouterr().err
    assert err == "linreg-bench: error: --max-pairs 2: the first look is at worker pair 4; give --max-pairs 4 or more\n"
