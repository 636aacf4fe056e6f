"""Certified values (NIST StRD format): read once, checked against the CSV's columns."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bench.errors import InputError
from bench.files import input_file


@dataclass(frozen=True)
class Certified:
    weight: np.ndarray  # (k, d)
    bias: np.ndarray  # (k,)
    intercept: bool

    def theta(self) -> np.ndarray:
        return np.concatenate([self.weight, self.bias[:, None]], axis=1) if self.intercept else self.weight


def load_certified(path: str | Path, features: tuple[str, ...], targets: tuple[str, ...]) -> Certified:
    """A certified-values JSON as shipped in bench/problems/data/strd, checked against the CSV's columns."""
    path = input_file(path, "JSON file", pipes=True)
    try:
        doc = json.loads(path.read_text())
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"{path}: not a readable JSON file ({exc})") from None
    if not isinstance(doc, dict):
        raise InputError(f"{path}: not a certified-values object (expected weight, bias, intercept)")
    for key in ("weight", "bias", "intercept"):
        if key not in doc:
            raise InputError(
                f"{path}: missing key {key!r} (expected weight, bias, intercept, as in bench/problems/data/strd)"
            )
    if len(targets) != 1:
        raise InputError(f"{path}: certified values cover one target, the CSV has {len(targets)}")
    weight = _numbers(path, "weight", doc["weight"]).reshape(1, -1)
    bias = _numbers(path, "bias", doc["bias"]).reshape(-1)
    if bias.size != 1:
        raise InputError(f"{path}: 'bias' must be one number, got {bias.size}")
    if not isinstance(doc["intercept"], bool):
        raise InputError(f"{path}: 'intercept' must be true or false, got {doc['intercept']!r}")
    if weight.shape[1] != len(features):
        raise InputError(f"{path}: {weight.shape[1]} certified weights for {len(features)} feature columns")
    listed = doc.get("features")
    if listed is not None and list(listed) != list(features):
        raise InputError(f"{path}: certified features {listed} do not match the CSV's {list(features)}")
    return Certified(weight, bias, doc["intercept"])


def _numbers(path: Path, key: str, value: object) -> np.ndarray:
    """A certified number or list of numbers, finite; anything else names the key."""
    items = value if isinstance(value, list) else [value]
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in items):
        raise InputError(f"{path}: {key!r} must be a number or a list of numbers, got {value!r}"[:300])
    numbers = np.asarray(items, dtype=float)
    if not np.isfinite(numbers).all():
        raise InputError(f"{path}: {key!r} holds a value that is not a finite number")
    return numbers
