"""A machine's stable key: what makes two runs' times comparable, never what changes run to run
(time, load, host name, git commit)."""

from __future__ import annotations

import hashlib
import json
from typing import Any

STABLE_FIELDS = ("cpu", "cpu_count", "torch", "torch_blas", "cuda_version", "cuda_device")


def _cpu(machine: dict[str, Any]) -> Any:
    cpu = machine.get("cpu")
    if isinstance(cpu, dict):  # pytest-benchmark's own record (py-cpuinfo), when our conftest did not add ours
        return cpu.get("brand_raw") or cpu.get("brand") or cpu.get("arch_string_raw")
    return cpu


def stable_fields(machine: dict[str, Any]) -> dict[str, Any]:
    fields = {name: machine.get(name) for name in STABLE_FIELDS}
    fields["cpu"] = _cpu(machine)
    if fields["cpu_count"] is None and isinstance(machine.get("cpu"), dict):
        fields["cpu_count"] = machine["cpu"].get("count")
    if fields["torch"] is None:
        fields["python"] = machine.get("python_version") or machine.get("python")
    return fields


def machine_key(machine: dict[str, Any]) -> str:
    """Eight hex digits of the stable fields: the same machine and software, the same key."""
    text = json.dumps(stable_fields(machine), sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:8]


def machine_label(machine: dict[str, Any]) -> str:
    """How a person reads the key: CPU × cores, torch and BLAS, the GPU if any."""
    fields = stable_fields(machine)
    parts = [f"{fields['cpu'] or 'unknown CPU'} × {fields['cpu_count'] or '?'}"]
    if fields.get("torch"):
        parts.append(f"torch {fields['torch']} ({fields['torch_blas'] or '?'})")
    if fields.get("cuda_device"):
        parts.append(f"{fields['cuda_device']} (CUDA {fields['cuda_version']})")
    return ", ".join(parts)
