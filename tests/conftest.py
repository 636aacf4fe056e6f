from __future__ import annotations

import os

import pytest

from bench.harness.timing import TimingConfig
from bench.problems import builtin as problems

FAST_TIMING = TimingConfig(warmup=0, min_rounds=1, max_rounds=1, min_time=0.0)


@pytest.fixture(autouse=True, scope="session")
def private_cache(tmp_path_factory):
    """Hermetic: peaks the tests probe go to a temporary cache, not the user's (subprocesses inherit it)."""
    saved = os.environ.get("LINREG_BENCH_CACHE")
    os.environ["LINREG_BENCH_CACHE"] = str(tmp_path_factory.mktemp("cache"))
    yield
    if saved is None:
        os.environ.pop("LINREG_BENCH_CACHE", None)
    else:
        os.environ["LINREG_BENCH_CACHE"] = saved


@pytest.fixture(scope="session")
def d2l_problem() -> problems.Problem:
    return problems.d2l()


@pytest.fixture(scope="session")
def crop_problem() -> problems.Problem:
    return problems.crop_yields()


@pytest.fixture
def fast_timing() -> TimingConfig:
    return FAST_TIMING


BENCHMARK_OUTPUT_OPTIONS = (
    "benchmark_only",
    "benchmark_json",
    "benchmark_save",
    "benchmark_autosave",
    "benchmark_enable",
)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--run-large", action="store_true", help="also run the large (1,000,000 x 100) benchmark problem")


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    # Plain `pytest` runs each benchmark once, untimed, as a test of its recovery check; timing is
    # for `pytest --benchmark-only` (or --benchmark-json / --benchmark-save / --benchmark-enable).
    if not any(config.getoption(name, None) for name in BENCHMARK_OUTPUT_OPTIONS):
        config.option.benchmark_disable = True
    # Saved runs are the history store (`linreg-bench history`): keep every round, as the step
    # detection weighs each commit by its rounds' spread (pytest-benchmark keeps only statistics).
    if config.getoption("benchmark_save", None) or config.getoption("benchmark_autosave", None):
        config.option.benchmark_save_data = True


# `pytest -m quick`: a one-minute check across every package. Left out: the benchmark matrix, and
# the tests that start processes, kill runs or train for seconds (listed here by module or name).
SLOW_MODULES = {"test_resume.py", "test_ab.py", "test_plugins.py", "test_sklearn_estimator.py", "test_streaming.py",
                "test_pytest_plugin.py", "test_downstream_example.py", "test_compile.py",
                "test_fuzz_cli.py"}  # fmt: skip
SLOW_NAMES = ("lbfgs", "without_fcntl", "without_our_code", "fresh_process", "imports_no_heavy", "console_script",
              "default_run_writes", "side_by_side", "sweep_command", "answers_honestly",
              # data-parallel: each starts two or three real processes
              "gloo_ranks", "tsqr_keeps", "all_reduced_sgd", "ddp_nn_linear", "rank_that_dies", "run_nproc",
              "scale_nproc_measures", "two_ranks_equals_one_process", "no_rows_or_bad_input",
              "parallel_run_resumes")  # fmt: skip


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        path = item.path
        slow = "benchmarks" in path.parts or path.name in SLOW_MODULES or any(n in item.name for n in SLOW_NAMES)
        if not slow:
            item.add_marker(pytest.mark.quick)


def pytest_benchmark_update_machine_info(config: pytest.Config, machine_info: dict) -> None:
    """The same machine and software record as `linreg-bench run` (torch, BLAS, threads, CUDA)."""
    from bench.harness.machine import machine_info as harness_machine_info

    machine_info["linreg_bench"] = harness_machine_info()
