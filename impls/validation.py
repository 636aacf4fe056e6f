"""The input contract of `Implementation.fit`, checked once at the boundary, never in timed code.

`fit` validates and then calls `fit_unchecked`, which assumes valid input (a finiteness check is
a full pass over the data and a device synchronisation, which would distort the timings); the
harness validates once while it prepares a case and then times `fit_unchecked` alone.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import torch

ArrayLike = torch.Tensor | np.ndarray

FLOATS = (torch.float16, torch.bfloat16, torch.float32, torch.float64)


class InvalidInput(ValueError):
    """X or y breaks the contract; the message names the array, the problem and where it is."""


def all_finite(t: torch.Tensor) -> bool:
    """One reduction instead of a full-size boolean temporary: a NaN or an infinity makes the sum
    non-finite (inf − inf is NaN), so a finite sum proves every element finite. Only a sum that is
    not finite (a bad value, or huge finite values that overflow when added) is looked at element
    by element, as scikit-learn's `_assert_all_finite` does."""
    return bool(torch.isfinite(t.sum())) or bool(torch.isfinite(t).all())


def prove_finite(X: torch.Tensor, y: torch.Tensor, sums: tuple[torch.Tensor, ...], who: str) -> None:
    """For a fit that summed X and y in its first pass anyway (the Gram pass): finite sums prove the
    data finite at no cost; otherwise look element by element, and raise where a value is bad (huge
    finite values that overflowed the sums pass, as in `all_finite`)."""
    if not all(bool(torch.isfinite(s).all()) for s in sums):
        validate(X, y, who)


def _first_nonfinite(t: torch.Tensor) -> tuple[int, int]:
    bad = (~torch.isfinite(t)).nonzero()[0].tolist()
    return (bad[0], bad[1]) if len(bad) == 2 else (bad[0], 0)


def validate(X: torch.Tensor, y: torch.Tensor, who: str = "fit", finite: bool = True) -> None:
    """The contract, or InvalidInput naming what breaks it and where. `finite=False` leaves the
    values to an implementation whose first pass proves them finite (`checks_finiteness`)."""
    for name, t in (("X", X), ("y", y)):
        if not isinstance(t, torch.Tensor):
            raise InvalidInput(f"{who}: {name} must be a torch.Tensor, got {type(t).__name__}")
        if t.dtype not in FLOATS:
            raise InvalidInput(
                f"{who}: {name} has dtype {str(t.dtype).removeprefix('torch.')}; convert it to a floating dtype "
                f"first ({name}.float() or {name}.double()): integer or boolean data cannot take gradient steps"
            )
    if X.ndim != 2:
        raise InvalidInput(f"{who}: X must be 2-D (n, d), got shape {tuple(X.shape)}")
    if y.ndim != 2:
        hint = " (use y[:, None] for one target)" if y.ndim == 1 else ""
        raise InvalidInput(f"{who}: y must be 2-D (n, k), got shape {tuple(y.shape)}{hint}")
    if X.shape[0] != y.shape[0]:
        raise InvalidInput(f"{who}: X has {X.shape[0]} rows but y has {y.shape[0]}")
    if X.shape[0] == 0 or X.shape[1] == 0 or y.shape[1] == 0:
        raise InvalidInput(f"{who}: empty data: X is {tuple(X.shape)}, y is {tuple(y.shape)}")
    if X.shape[0] < 2:
        raise InvalidInput(f"{who}: 1 sample: a single row cannot determine a regression; need at least 2")
    if X.device != y.device:
        raise InvalidInput(f"{who}: X is on {X.device} but y is on {y.device}; move both to one device")
    if X.dtype != y.dtype:
        raise InvalidInput(f"{who}: X is {X.dtype} but y is {y.dtype}; use one dtype for both")
    for name, t in (("X", X), ("y", y)) if finite else ():
        if not all_finite(t):
            row, col = _first_nonfinite(t)
            value = t[row, col].item()
            raise InvalidInput(f"{who}: {name} contains {value} at row {row}, column {col}")


def checked_input(
    X: Any,
    y: Any,
    who: str,
    unsupported_reason: Callable[[torch.device, torch.dtype], str | None],
    finite: bool = True,
) -> tuple[torch.Tensor, torch.Tensor, list[str]]:
    """(X, y, notes) ready for an implementation's `fit_unchecked`: NumPy arrays converted (and
    noted), the contract checked, and the device and dtype ones the implementation supports."""
    notes = []
    converted = []
    for name, value in (("X", X), ("y", y)):
        if hasattr(value, "toarray") or (isinstance(value, torch.Tensor) and value.layout != torch.strided):
            raise InvalidInput(
                f"{who}: {name} is sparse; linreg-bench fits dense data: densify it ({name}.toarray() or "
                f"{name}.to_dense()), or use scikit-learn directly for sparse data"
            )
        if isinstance(value, np.ndarray):
            notes.append(f"{name} was a NumPy {value.dtype} array: converted with torch.as_tensor")
            value = torch.as_tensor(value)
        converted.append(value)
    X, y = converted
    validate(X, y, who, finite)
    reason = unsupported_reason(X.device, X.dtype)
    if reason is not None:
        raise InvalidInput(reason)
    return X, y, notes


def checked_sample_weight(sample_weight: Any, X: torch.Tensor, who: str) -> torch.Tensor:
    """(n,) non-negative finite weights with a positive sum, in X's dtype and on X's device."""
    weight = torch.as_tensor(sample_weight)
    if weight.ndim != 1 or weight.shape[0] != X.shape[0]:
        raise InvalidInput(f"{who}: sample_weight must have shape ({X.shape[0]},), got {tuple(weight.shape)}")
    if weight.dtype == torch.bool or weight.is_complex():
        raise InvalidInput(f"{who}: sample_weight has dtype {str(weight.dtype).removeprefix('torch.')}; give numbers")
    weight = weight.to(device=X.device, dtype=X.dtype)
    if not all_finite(weight) or bool((weight < 0).any()):
        raise InvalidInput(f"{who}: sample_weight must be finite and >= 0")
    if not float(weight.sum()) > 0:
        raise InvalidInput(f"{who}: every sample weight is zero: no row would count")
    return weight
