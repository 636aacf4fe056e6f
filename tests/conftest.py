from __future__ import annotations

import pytest

from bench import problems
from bench.timing import TimingConfig

FAST_TIMING = TimingConfig(warmup=0, min_rounds=1, max_rounds=1, min_time=0.0)


@pytest.fixture(scope="session")
def d2l_problem() -> problems.Problem:
    return problems.d2l()


@pytest.fixture(scope="session")
def crop_problem() -> problems.Problem:
    return problems.crop_yields()


@pytest.fixture
def fast_timing() -> TimingConfig:
    return FAST_TIMING
