"""The `pytest11` plugin: the `linreg_bench` fixture and its session options.

Loading it costs what pytest itself imports: no torch, pandas or harness, so a session that never
asks for the fixture starts as fast as without it. The fixture asks for pytest-benchmark's
`benchmark` by parameter (not `getfixturevalue`): that is how `--benchmark-only` knows the test
is a benchmark, and only tests that use `linreg_bench` depend on pytest-benchmark.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from bench.harness.axes import DEVICES, DTYPE_NAMES

if TYPE_CHECKING:
    from bench.pytest_plugin.fixture import LinregBench

USED = pytest.StashKey[bool]()  # the fixture ran in this session: the machine record is worth its import
DEFAULT_DEVICE, DEFAULT_DTYPE = "cpu", "float32"  # float32: torch's default dtype, what a tutorial fits in


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("linreg-bench", "linreg-bench (the linreg_bench fixture)")
    group.addoption("--linreg-device", choices=DEVICES, default=DEFAULT_DEVICE,
                    help=f"device of linreg_bench calls that name none (default {DEFAULT_DEVICE})")  # fmt: skip
    group.addoption("--linreg-dtype", choices=DTYPE_NAMES, default=DEFAULT_DTYPE,
                    help=f"dtype of linreg_bench calls that name none (default {DEFAULT_DTYPE})")  # fmt: skip


@pytest.fixture
def linreg_bench(request: pytest.FixtureRequest, benchmark: Any) -> LinregBench:
    """`linreg_bench(impl_or_name, problem, device=None, dtype=None, **options)`: time one fit of an
    `impls.Implementation` instance (registered or not) or a registered name on a built-in problem
    through `benchmark`, judge it with the harness's checks, record the verdict in
    `benchmark.extra_info`, fail with the judge's reason when it is not recovered; returns the fit."""
    from bench.pytest_plugin.fixture import LinregBench

    request.config.stash[USED] = True
    device = request.config.getoption("linreg_device", DEFAULT_DEVICE)
    dtype = request.config.getoption("linreg_dtype", DEFAULT_DTYPE)
    return LinregBench(benchmark, device, dtype)


@pytest.hookimpl(optionalhook=True)
def pytest_benchmark_update_machine_info(config: pytest.Config, machine_info: dict) -> None:
    """Saved files carry the harness's machine record (torch, BLAS, threads, CUDA), as `run` writes it."""
    if config.stash.get(USED, False) and "linreg_bench" not in machine_info:
        from bench.harness.machine import machine_info as harness_machine_info

        machine_info["linreg_bench"] = harness_machine_info()
