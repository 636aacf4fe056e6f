"""Interchangeable linear-regression implementations behind one interface.

`available()` lists the names, `create(name, **options)` builds one, and every implementation's
`fit(X, y)` returns a `LinearFit`. Nothing here knows about the benchmarking harness (`bench`).

The names below are imported on first use (PEP 562), so that `impls.available()`, `declaration()`
and the options need no torch: listing what is installed stays cheap.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from impls.declarations import Declaration
from impls.options import ClosedFormOptions, OptionError, TrainOptions, check_option_names
from impls.registry import (
    ENTRY_POINT_GROUP,
    UnknownImplementation,
    available,
    create,
    declaration,
    implementation_class,
    peers,
)

if TYPE_CHECKING:
    from impls.base import Implementation, IterativeImplementation
    from impls.fit import LinearFit
    from impls.validation import InvalidInput, validate

_LAZY = {
    "Implementation": "impls.base",
    "IterativeImplementation": "impls.base",
    "LinearFit": "impls.fit",
    "InvalidInput": "impls.validation",
    "validate": "impls.validation",
}

__all__ = [
    "ENTRY_POINT_GROUP",
    "ClosedFormOptions",
    "Declaration",
    "Implementation",
    "InvalidInput",
    "IterativeImplementation",
    "LinearFit",
    "OptionError",
    "TrainOptions",
    "UnknownImplementation",
    "available",
    "check_option_names",
    "create",
    "declaration",
    "implementation_class",
    "peers",
    "validate",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'impls' has no attribute {name!r}")
