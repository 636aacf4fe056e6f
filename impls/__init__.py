"""Interchangeable linear-regression implementations behind one interface.

`available()` lists the names, `create(name, **options)` builds one, and every implementation's
`fit(X, y)` returns a `LinearFit`. Nothing here knows about the benchmarking harness (`bench`).
"""

from impls.base import Implementation, IterativeImplementation
from impls.fit import LinearFit
from impls.options import ClosedFormOptions, OptionError, TrainOptions
from impls.registry import ENTRY_POINT_GROUP, UnknownImplementation, available, create, implementation_class
from impls.validation import InvalidInput, validate

__all__ = [
    "ENTRY_POINT_GROUP",
    "ClosedFormOptions",
    "Implementation",
    "InvalidInput",
    "IterativeImplementation",
    "LinearFit",
    "OptionError",
    "TrainOptions",
    "UnknownImplementation",
    "available",
    "create",
    "implementation_class",
    "validate",
]
