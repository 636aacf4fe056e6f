"""linreg-bench in a user's own repository: the `linreg_bench` pytest fixture (`plugin`, a `pytest11`
entry point) and `linreg_cases`, one line that parametrizes a test over the built-in problems,
devices and dtypes. Importing this imports no torch: the fixture loads the harness on first use."""

from bench.pytest_plugin.cases import QUICK_PROBLEMS, linreg_cases

__all__ = ["QUICK_PROBLEMS", "linreg_cases"]
