"""Certified values (NIST StRD format): read once, checked against the CSV's columns."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bench.errors import InputError


@dataclass(frozen=True)
class Certified:
    weight: np.ndarray  # (k, d)
    bias: np.ndarray  # (k,)
    intercept: bool

    def theta(self) -> np.ndarray:
        return np.concatenate([self.weight, self.bias[:, None]], axis=1) if self.intercept else self.weight


def load_certified(path: str | Path, features: tuple[str, ...], targets: tuple[str, ...]) -> Certified:
    """A certified-values JSON as shipped in bench/problems/data/strd, checked against the CSV's columns."""
    path = Path(path)
    try:
        doc = json.loads(path.read_text())
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"{path}: not a readable JSON file ({exc})") from None
    for key in ("weight", "bias", "intercept"):
        if key not in doc:
            raise InputError(
                f"{path}: missing key {key!r} (expected weight, bias, intercept, as in bench/problems/data/strd)"
            )
    if len(targets) != 1:
        raise InputError(f"{path}: certified values cover one target, the CSV has {len(targets)}")
    weight = np.asarray(doc["weight"], dtype=float).reshape(1, -1)
    if weight.shape[1] != len(features):
        raise InputError(f"{path}: {weight.shape[1]} certified weights for {len(features)} feature columns")
    listed = doc.get("features")
    if listed is not None and list(listed) != list(features):
        raise InputError(f"{path}: certified features {listed} do not match the CSV's {list(features)}")
    return Certified(weight, np.asarray([doc["bias"]], dtype=float), bool(doc["intercept"]))
