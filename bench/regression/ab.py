"""Same-machine A/B of two revisions of this project, rounds interleaved (what `asv continuous` does).

Base is exported with `git archive` into a temporary folder, new is the working tree as it is.
A resident worker per side (`bench/regression/ab_worker.py`) sets its cases up once; the driver then asks
them for rounds in ABBA order, both pinned to one vCPU, so machine drift and background load hit
both sides alike. One process may still differ from another (memory layout, what it started
beside) however many rounds it runs, so the worker pair is the replicate: pairs are added one at a time until each
case's interval over pairs decides it (bench/regression/replicates.py), as pyperf spreads its
rounds over processes but without a fixed count.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from bench.errors import InputError
from bench.harness.machine import PROJECT_ROOT, machine_info
from bench.regression.replicates import MIN_PAIRS, SequentialDesign, pair_estimate, rounds_per_pair
from bench.results.readers import LoadedResults, by_pair
from bench.results.schema import results_frame

WORKER = Path(__file__).with_name("ab_worker.py")


PILOT_ROUNDS = 200  # rounds per worker pair until the variance components can choose (Kalibera & Jones)
# A round is at least this long (one fit when a fit takes longer). The vCPU's speed changes within
# tens of ms, so short rounds put A and B in the same state more often: in one 6 s A/A the median log
# ratio of 5 ms rounds moved about a third as much as that of 20 ms rounds (docs/regression-gates.md).
ROUND_SECONDS = 0.005


def worker_cpu() -> int | None:
    """The vCPU both sides are pinned to: the last one this process may use, leaving the first to the
    driver and the system. None where the OS cannot pin or only one is allowed (nothing to choose)."""
    if not hasattr(os, "sched_getaffinity"):
        return None
    allowed = sorted(os.sched_getaffinity(0))
    return allowed[-1] if len(allowed) > 1 else None


@dataclass(frozen=True)
class ABPlan:
    cases: list[dict[str, str]]  # dataset, impl, device, dtype
    design: SequentialDesign = field(default_factory=SequentialDesign)  # looks, α, factor, pairs
    rounds_per_pair: int | None = None  # None: PILOT_ROUNDS, then the optimum from the measured variances
    min_sample_time: float = ROUND_SECONDS
    slowdown: dict[str, float] = field(default_factory=dict)  # new side only: validating the gate
    threads: int = 1  # pinned on both sides (threads.SMALL_WORK_FLOPS says why)
    cpu: int | None = field(default_factory=worker_cpu)  # both sides on this vCPU (ab_worker.pin_cpu says why)

    def __post_init__(self) -> None:
        if self.rounds_per_pair is not None and self.rounds_per_pair < 2:
            raise InputError(f"--rounds-per-pair must be >= 2 (one ABBA pair), got {self.rounds_per_pair}")
        if self.threads < 1:
            raise InputError(f"--threads must be >= 1, got {self.threads}")
        if self.design.min_pairs < MIN_PAIRS:
            raise InputError(f"worker pairs: a t over pairs needs at least {MIN_PAIRS}, got {self.design.min_pairs}")
        if self.design.max_pairs < self.design.min_pairs:
            raise InputError(f"--max-pairs {self.design.max_pairs}: the first look is at worker pair "
                             f"{self.design.min_pairs}; give --max-pairs {self.design.min_pairs} or more")  # fmt: skip

    @classmethod
    def fixed(cls, cases: list[dict[str, str]], rounds: int, processes: int, **options: Any) -> ABPlan:
        """`--rounds N --processes P`: P worker pairs of N/P rounds and one look at the end."""
        if processes < MIN_PAIRS:
            raise InputError(f"--processes must be >= {MIN_PAIRS}: the worker pair is the replicate, got {processes}")
        if rounds < 2 * processes:
            raise InputError(f"--rounds {rounds}: need at least one ABBA pair per worker pair ({2 * processes})")
        design = options.pop("design", SequentialDesign())
        design = replace(design, min_pairs=processes, max_pairs=processes)
        return cls(cases, design, rounds_per_pair=2 * (rounds // (2 * processes)), **options)


def _git(*args: str) -> str:
    try:
        out = subprocess.run(["git", "-C", str(PROJECT_ROOT), *args], capture_output=True, text=True, check=True)
    except (OSError, subprocess.CalledProcessError) as exc:
        stderr = getattr(exc, "stderr", "") or str(exc)
        raise InputError(
            f"git {' '.join(args)}: {stderr.strip().splitlines()[-1] if stderr.strip() else exc}"
        ) from None
    return out.stdout.strip()


def default_base() -> tuple[str, str]:
    """(revision, why): the merge base with main, or HEAD~1 when that is HEAD itself (on main)."""
    for upstream in ("origin/main", "main"):
        try:
            base = _git("merge-base", "HEAD", upstream)
        except InputError:
            continue
        if base != _git("rev-parse", "HEAD"):
            return base, f"merge base of HEAD and {upstream}"
        break
    return _git("rev-parse", "HEAD~1"), "HEAD~1 (HEAD is on main)"


def resolve_commit(revision: str) -> str:
    """The full commit id, or a one-line error naming the revision."""
    try:
        return _git("rev-parse", "--verify", "--quiet", f"{revision}^{{commit}}")
    except InputError:
        raise InputError(f"--base {revision}: not a commit in {PROJECT_ROOT}") from None


@contextmanager
def exported(revision: str) -> Iterator[Path]:
    """The project at `revision`, in a temporary folder, without touching the checkout."""
    commit = resolve_commit(revision)
    with tempfile.TemporaryDirectory(prefix="linreg-bench-ab-") as temp:
        archive = Path(temp) / "base.tar"
        subprocess.run(["git", "-C", str(PROJECT_ROOT), "archive", "--format=tar", "-o", str(archive), commit],
                       check=True)  # fmt: skip
        root = Path(temp) / "base"
        with tarfile.open(archive) as tar:
            tar.extractall(root, filter="data")
        yield root


class Worker:
    """A resident worker process for one side."""

    def __init__(self, name: str, root: Path, plan: ABPlan, slowdown: dict[str, float]) -> None:
        self.name = name
        self.process = subprocess.Popen(
            [sys.executable, str(WORKER), str(root)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        self._send({"cases": plan.cases, "min_sample_time": plan.min_sample_time, "slowdown": slowdown,
                    "threads": plan.threads, "cpu": plan.cpu})  # fmt: skip
        self.ready: dict[str, Any] = {}

    def wait_ready(self) -> Worker:
        """Both sides start at once (imports and set-up overlap); each is waited for here."""
        self.ready = self._receive()
        return self

    def _send(self, message: dict[str, Any]) -> None:
        self.process.stdin.write(json.dumps(message) + "\n")
        self.process.stdin.flush()

    def _receive(self) -> dict[str, Any]:
        line = self.process.stdout.readline()
        if not line:
            self.process.wait()
            err = self.process.stderr.read().strip().splitlines()
            raise InputError(f"A/B {self.name} side failed: {err[-1] if err else 'worker exited'}")
        message = json.loads(line)
        if "error" in message:
            raise InputError(f"A/B {self.name} side: {message['error']}")
        return message

    def set_numbers(self, numbers: list[int]) -> None:
        """Calls per round, the same on both sides: each side's own count would pair a round of two
        fits with one of three, which the machine's state changes see differently."""
        self._send({"numbers": numbers})
        self._receive()

    def round(self, cases: list[int]) -> list[float]:
        """One round of the given cases (by index in the plan), their times in that order."""
        self._send({"round": True, "cases": cases})
        return self._receive()["times"]

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.stdin.close()
            self.process.wait(timeout=30)


@dataclass
class _Case:
    """One case's rounds on both sides, pair by pair, and when its verdict came."""

    base: list[float] = field(default_factory=list)
    new: list[float] = field(default_factory=list)
    blocks: list[int] = field(default_factory=list)
    verdict: str | None = None
    decided_after_s: float = float("nan")

    def pairs(self) -> list[np.ndarray]:
        logs = np.log(np.array(self.new)) - np.log(np.array(self.base))
        return by_pair(logs, self.blocks)


def _pair(base_root: Path, new_root: Path, plan: ABPlan) -> tuple[Worker, Worker]:
    base = Worker("base", base_root, plan, {})
    try:
        new = Worker("new", new_root, plan, plan.slowdown)
    except Exception:
        base.close()
        raise
    try:
        for worker in (base, new):
            worker.wait_ready()
        common = [max(a, b) for a, b in zip(base.ready["numbers"], new.ready["numbers"], strict=True)]
        for worker in (base, new):
            worker.set_numbers(common)
        return base, new
    except Exception:
        base.close()
        new.close()
        raise


def run_ab(base_root: Path, new_root: Path, plan: ABPlan, labels: tuple[str, str]) -> tuple[LoadedResults, ...]:
    """Worker pairs added one at a time, each timing the undecided cases in ABBA rounds, until every
    case's interval decides it or the design's maximum is reached; returns (base, new) in the common
    results schema, with the rounds per pair (`time_blocks`) and each case's time to verdict."""
    sequence = _Sequence(base_root, new_root, plan)
    rounds = plan.rounds_per_pair or PILOT_ROUNDS
    with tqdm(total=plan.design.max_pairs, desc="A/B worker pairs", unit="pair", file=sys.stderr, disable=None) as bar:
        for pair_number in range(1, plan.design.max_pairs + 1):
            active = [i for i, state in enumerate(sequence.states) if state.verdict is None]
            if not active:
                break
            sequence.pair(active, rounds)
            sequence.look(active)
            if plan.rounds_per_pair is None and pair_number == MIN_PAIRS:
                rounds = sequence.chosen_rounds(active, rounds)
            decided = sum(state.verdict is not None for state in sequence.states)
            bar.set_postfix_str(f"{decided}/{len(sequence.states)} decided, {rounds} rounds a pair")
            bar.update()
    machine = machine_info()
    return tuple(
        LoadedResults(sequence.frame(side), {**machine, "git_commit": label}, label)
        for side, label in (("base", labels[0]), ("new", labels[1]))
    )


class _Sequence:
    """The state of a sequential A/B: every case's rounds so far, the costs the design reads, the clock."""

    def __init__(self, base_root: Path, new_root: Path, plan: ABPlan) -> None:
        self.roots, self.plan = (base_root, new_root), plan
        self.states = [_Case() for _ in plan.cases]
        self.costs: dict[str, list[float]] = {"pair_s": [], "round_s": []}
        self.threads: dict[str, int] = {}
        self.cpu: int | None = None  # the vCPU both sides were pinned to (None: not pinned)
        self.started = time.perf_counter()

    def pair(self, active: list[int], rounds: int) -> None:
        """One fresh worker pair: `rounds` ABBA rounds of the active cases."""
        begun = time.perf_counter()
        base, new = _pair(*self.roots, self.plan)
        self.costs["pair_s"].append(time.perf_counter() - begun)
        try:
            for index in range(rounds):
                begun = time.perf_counter()
                for worker in (base, new) if index % 2 == 0 else (new, base):  # ABBA: drift cancels
                    for case, seconds in zip(active, worker.round(active), strict=True):
                        getattr(self.states[case], worker.name).append(seconds)
                self.costs["round_s"].append(time.perf_counter() - begun)
        finally:
            base.close()
            new.close()
        self.threads.update(base=base.ready["threads"], new=new.ready["threads"])
        self.cpu = base.ready.get("cpu")
        for case in active:
            self.states[case].blocks.append(rounds)

    def look(self, active: list[int]) -> None:
        design = self.plan.design
        for case in active:
            verdict = design.verdict(pair_estimate(self.states[case].pairs(), design.level))
            if verdict is not None:
                self.states[case].verdict = verdict
                self.states[case].decided_after_s = time.perf_counter() - self.started

    def chosen_rounds(self, active: list[int], rounds: int) -> int:
        """After the pilot pairs: Kalibera & Jones's rounds per pair from the variance components (the
        median over the cases still open) and the measured costs of a worker pair and of a round."""
        pair_s, round_s = float(np.median(self.costs["pair_s"])), float(np.median(self.costs["round_s"]))
        choices = []
        for case in active:
            estimate = pair_estimate(self.states[case].pairs(), 0.95)
            within = estimate.within_sd**2
            between = max(estimate.between_sd**2 - within / rounds, 0.0)  # a pair median's own noise taken out
            choices.append(rounds_per_pair(between, within, pair_s, round_s))
        return int(np.median(choices)) if choices else rounds

    def frame(self, side: str) -> Any:
        rows = []
        threads = self.threads.get(side, self.plan.threads)
        for case, state in zip(self.plan.cases, self.states, strict=True):
            times = getattr(state, side)
            rows.append({**case, "status": "ok", "rounds": len(times), "threads": threads,
                         "time_median_s": sorted(times)[len(times) // 2],
                         "time_samples_s": " ".join(f"{t:.6g}" for t in times),
                         "time_blocks": " ".join(str(b) for b in state.blocks), "pairs_to_verdict": len(state.blocks),
                         "seconds_to_verdict": state.decided_after_s, "pinned_cpu": self.cpu})  # fmt: skip
        return results_frame(rows)
