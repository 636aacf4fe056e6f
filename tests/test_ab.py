"""The A/B driver end to end on a tiny plan: two resident workers, interleaved rounds, one schema."""

import subprocess

import pytest

from bench.ab import ABPlan, exported, run_ab
from bench.cli import main
from bench.compare import compare
from bench.errors import InputError
from bench.machine import PROJECT_ROOT

TINY = [{"dataset": "crop-yields-5", "impl": "normal-equation", "device": "cpu", "dtype": "float64"}]


def test_interleaved_rounds_with_an_injected_slowdown():
    plan = ABPlan(TINY, rounds=6, min_sample_time=0.002, slowdown={"normal-equation": 3.0})
    base, new = run_ab(PROJECT_ROOT, PROJECT_ROOT, plan, ("base", "new"))
    assert base.frame.loc[0, "rounds"] == new.frame.loc[0, "rounds"] == 6
    row = compare(base, new).iloc[0]
    assert row["ratio"] > 2  # the hook stretches only the new side


def test_a_worker_failure_is_one_clear_error():
    plan = ABPlan([{**TINY[0], "impl": "sklearn", "device": "cuda"}], rounds=3)  # never runs: the worker refuses
    with pytest.raises(InputError, match="A/B base side"):
        run_ab(PROJECT_ROOT, PROJECT_ROOT, plan, ("base", "new"))


def test_export_of_a_revision_leaves_the_checkout_alone():
    if subprocess.run(["git", "-C", str(PROJECT_ROOT), "rev-parse", "HEAD"], capture_output=True).returncode:
        pytest.skip("not a git checkout")
    with exported("HEAD") as root:
        assert (root / "bench" / "ab_worker.py").is_file() and (root / "impls").is_dir()
    assert not root.exists()


def test_bad_revision_and_too_few_rounds_exit_2(capsys):
    assert main(["ab", "--base", "no-such-revision-xyz"]) == 2
    assert main(["ab", "--rounds", "2"]) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 2 and "--base no-such-revision-xyz: not a commit" in err[0] and "--rounds must be >= 3" in err[1]
