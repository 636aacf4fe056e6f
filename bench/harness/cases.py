"""What one case is: an implementation with options, on a device, in a dtype."""

from __future__ import annotations

import json
from dataclasses import dataclass, fields
from typing import Any

import torch

import impls
from bench.errors import InputError
from bench.harness.axes import DTYPE_NAMES

DTYPES = {name: getattr(torch, name) for name in DTYPE_NAMES}


def dtype_name(dtype: torch.dtype) -> str:
    return str(dtype).removeprefix("torch.")


def parse_dtype(name: str) -> torch.dtype:
    if name not in DTYPES:
        raise InputError(f"unknown dtype {name!r} (available: {', '.join(DTYPES)})")
    return DTYPES[name]


def _value(text: str) -> Any:
    """CLI option values: JSON where it parses (numbers, true/false, objects), else the string."""
    lowered = text.strip()
    if lowered.lower() in ("true", "false"):
        return lowered.lower() == "true"
    try:
        return json.loads(lowered)
    except json.JSONDecodeError:
        return lowered


def file_stem(label: str) -> str:
    return label.replace(":", ".").replace(",", ".").replace(" ", "").replace('"', "")


def model_file_name(label: str, device: str, dtype: str) -> str:
    """models/<this>: where a case's fit is saved, from its row's impl, device and dtype alone."""
    return f"{file_stem(label)}-{device}-{dtype}.pt"


@dataclass(frozen=True)
class ImplSpec:
    """`nn-linear` or `nn-linear:optimizer=adam,lr=0.1` — a name and the options that differ."""

    name: str
    options: tuple[tuple[str, Any], ...] = ()

    @property
    def label(self) -> str:
        if not self.options:
            return self.name
        return self.name + ":" + ",".join(f"{k}={json.dumps(v) if isinstance(v, dict) else v}" for k, v in self.options)

    @property
    def file_stem(self) -> str:
        """The label as a file name: no ':' or ',' (shells and Windows dislike them)."""
        return file_stem(self.label)

    @classmethod
    def parse(cls, text: str) -> ImplSpec:
        name, _, rest = text.partition(":")
        cls_ = impls.implementation_class(name.strip())
        option_fields = {f.name for f in fields(cls_.Options)}
        options: dict[str, Any] = {}
        optimizer_args: dict[str, Any] = {}
        for item in filter(None, (part.strip() for part in rest.split(","))):
            key, sep, value = item.partition("=")
            if not sep:
                raise InputError(f"--impl {text}: option {item!r} needs a value (key=value)")
            key = key.strip()
            if key in option_fields:
                options[key] = _value(value)
            elif "optimizer_args" in option_fields:  # nn-linear:optimizer=sgd,momentum=0.9
                optimizer_args[key] = _value(value)
            else:
                try:
                    impls.check_option_names(cls_.Options, [key], name.strip(), f"--impl {text}")
                except impls.OptionError as exc:
                    raise InputError(str(exc)) from None
        if optimizer_args:
            options["optimizer_args"] = {**options.get("optimizer_args", {}), **optimizer_args}
        spec = cls(name.strip(), tuple(options.items()))
        try:
            cls_(**dict(spec.options))  # validate now, at the boundary, not in the middle of a run
        except impls.OptionError as exc:
            raise InputError(f"--impl {text}: {exc}") from None
        return spec


@dataclass(frozen=True)
class Case:
    spec: ImplSpec
    device: str
    dtype: torch.dtype

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.spec.label, self.device, dtype_name(self.dtype))

    @property
    def model_name(self) -> str:
        return model_file_name(self.spec.label, self.device, dtype_name(self.dtype))


def plan(specs: list[ImplSpec], devices: list[str], dtypes: list[torch.dtype]) -> list[Case]:
    return [Case(spec, device, dtype) for spec in specs for device in devices for dtype in dtypes]


def default_specs() -> list[ImplSpec]:
    """Every implementation with its defaults, then the option sets it declares worth comparing
    by default (`default_variants`: nn-linear's in-memory loader beside the tutorial's DataLoader)."""
    specs = []
    for name in impls.available():
        specs.append(ImplSpec(name))
        specs += [
            ImplSpec(name, tuple(options.items())) for options in impls.implementation_class(name).default_variants
        ]
    return specs
