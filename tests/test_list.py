"""`linreg-bench list` reads declarations: no data built, no heavy library imported, and what it
says about each problem and option is true."""

import subprocess
import sys

import pytest

from bench.cli.info import option_labels
from bench.problems.catalogue import CATALOGUE, load
from impls import implementation_class

HEAVY = ("pandas", "sklearn", "scipy", "matplotlib", "pyarrow")
LIST_AND_REPORT = (
    "from bench.cli import main; import sys; main(['list']); print(sorted(m for m in {heavy} if m in sys.modules))"
)


def test_list_imports_no_heavy_library():
    code = LIST_AND_REPORT.format(heavy=HEAVY)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[]"  # before: all five, and synthetic-large built (1.2 GB)


@pytest.mark.parametrize("name", [n for n in CATALOGUE if n not in ("synthetic", "synthetic-large")])
def test_each_declared_shape_is_the_built_problems_shape(name):
    problem = load(name)
    assert CATALOGUE[name].shape == f"{problem.n:,} × {problem.d} → {problem.k}"


def test_options_are_listed_with_their_rules():
    assert "optimizer" not in option_labels(implementation_class("manual-gradient"))  # refuses one
    assert "optimizer" in option_labels(implementation_class("nn-linear"))
    assert "graph (CUDA only)" in option_labels(implementation_class("manual-gradient"))
