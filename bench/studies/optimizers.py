"""Optimizers by name for the sweep: every `torch.optim` class through nn-linear, a few presets,
and the tutorial's hand-written SGD (`manual-autograd`) as the reference."""

from __future__ import annotations

from typing import Any

from bench.errors import InputError
from impls.nn_linear import optimizer_classes

# name -> (implementation, options, full batch?)
PRESETS: dict[str, tuple[str, dict[str, Any], bool]] = {
    "manual-autograd": ("manual-autograd", {}, False),
    "manual-gradient": ("manual-gradient", {}, False),
    "sgd": ("nn-linear", {"optimizer": "sgd"}, False),
    "sgd-momentum": ("nn-linear", {"optimizer": "sgd", "optimizer_args": {"momentum": 0.9}}, False),
    "nesterov": ("nn-linear", {"optimizer": "sgd", "optimizer_args": {"momentum": 0.9, "nesterov": True}}, False),
    "adam": ("nn-linear", {"optimizer": "adam"}, False),
    "adamw": ("nn-linear", {"optimizer": "adamw"}, False),
    "rmsprop": ("nn-linear", {"optimizer": "rmsprop"}, False),
    "adagrad": ("nn-linear", {"optimizer": "adagrad"}, False),
    "lbfgs": ("nn-linear", {"optimizer": "lbfgs"}, True),
    "lbfgs-wolfe": ("nn-linear", {"optimizer": "lbfgs", "optimizer_args": {"line_search_fn": "strong_wolfe"}}, True),
}
DEFAULT = tuple(PRESETS)


def preset(name: str) -> tuple[str, dict[str, Any], bool]:
    """A preset, or any other `torch.optim` optimizer by its lower-case name."""
    if name in PRESETS:
        impl, options, full_batch = PRESETS[name]
        return impl, dict(options), full_batch
    if name in optimizer_classes():
        return "nn-linear", {"optimizer": name}, name == "lbfgs"
    known = sorted(set(PRESETS) | set(optimizer_classes()))
    raise InputError(f"unknown optimizer {name!r} (available: {', '.join(known)})")
