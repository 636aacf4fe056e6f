"""One side of a same-machine A/B: times cases of the project checked out at a given root.

Run as a script by `bench.ab` with the root as its argument; it imports `bench` and `impls` from
that root (not from the installed package), sets the cases up once, then answers `round` requests
on stdin with one JSON line of per-call times on stdout. Both sides stay resident, so interleaved
rounds cost no process start-up and machine drift hits both equally.
"""

from __future__ import annotations

import importlib
import json
import math
import os
import sys
import time


def _reply(message: dict) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


def _slowed(call, factor: float):
    """Test hook: the same call stretched to `factor` times its duration, inside the timed window."""

    def slow():
        start = time.perf_counter()
        result = call()
        target = start + factor * (time.perf_counter() - start)
        while time.perf_counter() < target:
            pass
        return result

    return slow


# Where each piece lives, newest layout first: the worker drives revisions from before the
# bench/ sub-packages too (module names as strings, so they are resolved in the driven tree).
LAYOUTS = (
    {"problems": "bench.problems.catalogue", "cases": "bench.harness.cases", "runner": "bench.harness.preparation",
     "timing": "bench.harness.timing"},
    {"problems": "bench.problems.catalogue", "cases": "bench.harness.cases", "runner": "bench.harness.runner",
     "timing": "bench.harness.timing"},
    {"problems": "bench.problems", "cases": "bench.cases", "runner": "bench.runner", "timing": "bench.timing"},
)  # fmt: skip


def _synchronised(timing):
    """The driven tree's synchronising wrapper: `synchronised`, or `timed_call` before its rename."""
    return getattr(timing, "synchronised", None) or timing.timed_call


def _harness() -> tuple:
    """(load a problem, Case, ImplSpec, parse_dtype, prepare, synchronised) from the driven tree."""
    error: ImportError | None = None
    for layout in LAYOUTS:
        try:
            modules = {role: importlib.import_module(name) for role, name in layout.items()}
        except ImportError as exc:
            error = error or exc
            continue
        cases = modules["cases"]
        return (modules["problems"].load, cases.Case, cases.ImplSpec, cases.parse_dtype,
                modules["runner"].prepare, _synchronised(modules["timing"]))  # fmt: skip
    raise error


class WorkerError(Exception):
    """A case this side cannot run: the driver reports it as one line."""


def case_calls(root: str, cases: list[dict], slowdown: dict[str, float] | None = None) -> list:
    """One prepared, warmed call per case of the project at `root` (imported from there, not from the
    installed package). Shared by the timing worker and the instruction counter (`instructions.py`)."""
    sys.path[0] = root  # not this script's folder: its modules would shadow top-level names
    try:
        load_problem, Case, ImplSpec, parse_dtype, prepare, synchronised = _harness()
    except ImportError as exc:
        raise WorkerError(f"the project at {root} has no A/B-capable harness ({exc})") from None
    calls = []
    for case in cases:
        spec = ImplSpec.parse(case["impl"])
        prepared = prepare(load_problem(case["dataset"]), Case(spec, case["device"], parse_dtype(case["dtype"])), {})
        if prepared.skip_reason is not None:
            raise WorkerError(f"{case['impl']} {case['device']} {case['dtype']}: skipped: {prepared.skip_reason}")
        call = synchronised(prepared.fit, case["device"])
        factor = (slowdown or {}).get(spec.name)
        if factor:
            call = _slowed(call, factor)
        call()  # warm-up
        calls.append(call)
    return calls


def pin_threads(count: int) -> None:
    """Both sides run with the same, small thread count: on a shared machine a second intra-op
    thread turns sub-millisecond fits into waits of a scheduler's time slice at random
    (bench/harness/threads.py; the figures: docs/measurements.md)."""
    import torch
    from threadpoolctl import threadpool_limits

    torch.set_num_threads(count)
    threadpool_limits(limits=count)


def pin_cpu(cpu: int | None) -> int | None:
    """Both sides on one vCPU, after set-up (so the two imports still overlap): on a shared VM each
    vCPU runs at its own, changing speed, and a side that settled on the faster one read as faster
    code (pair medians 0.90–1.04 in one A/A). On one vCPU, ABBA rounds see the same state."""
    if cpu is None or not hasattr(os, "sched_setaffinity"):
        return None
    os.sched_setaffinity(0, {cpu})
    return cpu


def main(root: str) -> None:
    config = json.loads(sys.stdin.readline())
    pin_threads(config.get("threads", 1))
    try:
        calls = case_calls(root, config["cases"], config.get("slowdown"))
    except WorkerError as exc:
        _reply({"error": str(exc)})
        return
    cpu = pin_cpu(config.get("cpu"))
    import torch

    # Its own loop, not `bench.harness.timing.measure`: this script runs inside the driven tree, whose
    # harness may predate `measure` (it drives revisions from before the timing core); the driver,
    # not a stop rule, decides how many rounds, and a round is `number` calls (sub-ms fits).
    numbers = []
    for call in calls:
        start = time.perf_counter()
        call()
        single = time.perf_counter() - start
        numbers.append(max(1, math.ceil(config["min_sample_time"] / max(single, 1e-9))))
    _reply({"ready": True, "numbers": numbers, "threads": torch.get_num_threads(), "cpu": cpu})
    for line in sys.stdin:
        if not line.strip():
            continue
        request = json.loads(line)
        if "numbers" in request:  # the driver's common calls per round: both sides' rounds alike long
            numbers = request["numbers"]
            _reply({"numbers": numbers})
            continue
        wanted = request.get("cases", range(len(calls)))  # the driver's undecided cases
        times = []
        for index in wanted:
            call, number = calls[index], numbers[index]
            start = time.perf_counter()
            for _ in range(number):
                call()
            times.append((time.perf_counter() - start) / number)
        _reply({"times": times})


if __name__ == "__main__":
    main(sys.argv[1])
