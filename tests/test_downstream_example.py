"""examples/downstream/ keeps working: its tests run as its CI runs them (`--benchmark-only`, the
quick problems), in a copy outside this repository, and every `linreg-bench` command its workflow
runs is one this CLI accepts."""

from __future__ import annotations

import json
import re
import shlex
import shutil
from pathlib import Path

import pytest
import torch

from bench.cli.main import build_parser
from bench.pytest_plugin import QUICK_PROBLEMS
from bench.pytest_plugin.plugin import DEFAULT_DEVICE

pytest_plugins = ["pytester"]

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "downstream"
WORKFLOW = EXAMPLE / ".github" / "workflows" / "benchmarks.yml"
PLUGIN = "bench.pytest_plugin.plugin"


@pytest.fixture
def repository(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    shutil.copytree(EXAMPLE, pytester.path, dirs_exist_ok=True, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setenv("PYTHONPATH", str(ROOT))  # linreg-bench itself; the example's own pyproject adds "."
    for name in ("PYTEST_XDIST_WORKER", "PYTEST_XDIST_WORKER_COUNT", "PYTEST_XDIST_TESTRUNUID"):
        monkeypatch.delenv(name, raising=False)  # its own session, not a worker of ours
    return pytester


def test_the_examples_benchmarks_pass_as_its_ci_runs_them(repository):
    result = repository.runpytest_subprocess(
        "-p", PLUGIN, "-p", "no:cacheprovider", "tests", "--benchmark-only", "--benchmark-json", "new.json",
        "--benchmark-min-rounds", "10", "--benchmark-max-time", "0.001",
    )  # fmt: skip
    cases = len(QUICK_PROBLEMS) * 2  # × float32, float64 on each device
    cuda = torch.cuda.is_available()
    result.assert_outcomes(passed=2 * cases if cuda else cases, skipped=0 if cuda else cases)
    benchmarks = json.loads((repository.path / "new.json").read_text())["benchmarks"]
    verdicts = {(b["extra_info"]["dataset"], b["extra_info"]["device"], b["extra_info"]["dtype"]):
                b["extra_info"]["status"] for b in benchmarks}  # fmt: skip
    assert len(verdicts) == len(benchmarks) == result.parseoutcomes()["passed"]
    assert set(verdicts.values()) == {"ok"} and {d for _, d, _ in verdicts} >= {DEFAULT_DEVICE}


def linreg_bench_commands(text: str) -> list[list[str]]:
    """Every shell line of the workflow that starts with `linreg-bench`, as argv (shell operators dropped)."""
    commands = []
    for line in text.splitlines():
        match = re.match(r"\s*(?:run:\s*)?linreg-bench\s+(.*)", line)
        if match:
            argv = shlex.split(re.split(r"\s(?:\|\||&&|\||>>?)\s", match.group(1))[0])
            commands.append([a.replace("$GITHUB_WORKSPACE/", "") for a in argv])
    return commands


def test_every_linreg_bench_command_in_the_workflow_is_one_the_cli_accepts():
    text = WORKFLOW.read_text()
    commands = linreg_bench_commands(text)
    assert [argv[0] for argv in commands] == ["compare", "history"]
    parser = build_parser()
    for argv in commands:
        parser.parse_args(argv)  # exits 2 on a flag this CLI does not have


def test_the_workflow_caches_the_saved_runs_and_publishes_the_history():
    text = WORKFLOW.read_text()
    assert "uses: actions/cache/restore@v4" in text and "uses: actions/cache/save@v4" in text
    assert text.count("path: .benchmarks") == 2 and "--benchmark-autosave --benchmark-save-data" in text
    assert "uses: actions/upload-artifact@v4" in text and "history/history.html" in text
    assert "--fail-on-regression" in text
