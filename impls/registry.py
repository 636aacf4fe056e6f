"""Stable names -> implementation classes; third parties add theirs via an entry point group."""

from __future__ import annotations

from importlib.metadata import entry_points
from typing import Any

from impls.base import Implementation
from impls.d2l_reference import D2LReference
from impls.manual_autograd import ManualAutograd
from impls.manual_gradient import ManualGradient
from impls.nn_linear import NNLinear
from impls.normal_equation import NormalEquation
from impls.options import OptionError
from impls.sklearn_baseline import SklearnBaseline

ENTRY_POINT_GROUP = "linreg_bench.impls"
BUILTIN: tuple[type[Implementation], ...] = (
    ManualAutograd, NNLinear, NormalEquation, SklearnBaseline, ManualGradient, D2LReference,
)  # fmt: skip


class UnknownImplementation(OptionError):
    """A name that is neither built in nor registered through the entry point group."""


def _plugins() -> dict[str, type[Implementation]]:
    found = {}
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        cls = ep.load()
        if not (isinstance(cls, type) and issubclass(cls, Implementation)):
            raise TypeError(f"entry point {ep.name} = {ep.value} is not an impls.Implementation subclass")
        found[cls.name] = cls
    return found


def registry() -> dict[str, type[Implementation]]:
    classes = {cls.name: cls for cls in BUILTIN}
    classes.update({name: cls for name, cls in _plugins().items() if name not in classes})
    return classes


def available() -> list[str]:
    """The registered names, built-ins first."""
    return list(registry())


def implementation_class(name: str) -> type[Implementation]:
    classes = registry()
    if name not in classes:
        raise UnknownImplementation(f"unknown implementation {name!r} (available: {', '.join(classes)})")
    return classes[name]


def create(name: str, **options: Any) -> Implementation:
    """`create("nn-linear", optimizer="adam", lr=0.1)` -> a configured implementation."""
    return implementation_class(name)(**options)
