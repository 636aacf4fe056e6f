"""`linreg-bench list` reads declarations: no data built, no heavy library imported, and what it
says about each problem and option is true."""

import subprocess
import sys

import pytest

import impls
from bench.cli.info import option_labels
from bench.problems.catalogue import CATALOGUE, load
from impls import declaration, implementation_class

HEAVY = ("torch", "numpy", "pandas", "sklearn", "scipy", "matplotlib", "pyarrow")
LIST_AND_REPORT = (
    "from bench.cli import main; import sys; main(['list']); print(sorted(m for m in {heavy} if m in sys.modules))"
)


def test_list_imports_no_heavy_library():
    code = LIST_AND_REPORT.format(heavy=HEAVY)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[]"  # before: all, and synthetic-large built (1.2 GB)


@pytest.mark.parametrize("name", [n for n in CATALOGUE if n not in ("synthetic", "synthetic-large")])
def test_each_declared_shape_is_the_built_problems_shape(name):
    problem = load(name)
    assert CATALOGUE[name].shape == f"{problem.n:,} × {problem.d} → {problem.k}"


def test_options_are_listed_with_their_rules():
    assert "optimizer" not in option_labels(declaration("manual-gradient"))  # refuses one
    assert "optimizer" in option_labels(declaration("nn-linear"))
    assert "graph (CUDA only)" in option_labels(declaration("manual-gradient"))


@pytest.mark.parametrize("name", impls.available())
def test_each_declaration_is_what_its_class_does(name):
    """`list` reads declarations; the classes take theirs at definition, so the two cannot drift."""
    declared, cls = declaration(name), implementation_class(name)
    assert (cls.name, cls.summary, cls.Options, cls.devices) == (
        declared.name,
        declared.summary,
        declared.Options,
        declared.devices,
    )
    assert getattr(cls, "takes_optimizer", False) is declared.takes_optimizer


def test_a_class_under_another_declaration_is_refused():
    from impls.declarations import NN_LINEAR

    with pytest.raises(TypeError, match=r"declared as impls\.nn_linear:NNLinear"):

        class Impostor(impls.Implementation, declaration=NN_LINEAR):
            pass
