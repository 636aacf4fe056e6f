"""Same-machine A/B of two revisions of this project, rounds interleaved (what `asv continuous` does).

Base is exported with `git archive` into a temporary folder, new is the working tree as it is.
A resident worker per side (`bench/ab_worker.py`) sets its cases up once; the driver then asks
them for rounds in ABBA order, so machine drift and background load hit both sides alike. The
rounds are spread over several fresh pairs of workers (`processes`), as pyperf does: one process
differs from another by a few per cent (memory layout, which core it settles on) however many
rounds it runs, and measured A/A pairs of single processes read 0.96–1.03×, which a single pair
would report as the code's.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tqdm import tqdm

from bench.errors import InputError
from bench.harness.machine import PROJECT_ROOT, machine_info
from bench.results.readers import LoadedResults
from bench.results.schema import results_frame

WORKER = Path(__file__).with_name("ab_worker.py")


@dataclass(frozen=True)
class ABPlan:
    cases: list[dict[str, str]]  # dataset, impl, device, dtype
    rounds: int  # its default lives with `ab --rounds` (calibrated: README, "Gate calibration")
    min_sample_time: float = 0.02
    slowdown: dict[str, float] = field(default_factory=dict)  # new side only: validating the gate
    threads: int = 1  # pinned on both sides (threads.SMALL_WORK_FLOPS says why)
    processes: int = 5  # fresh worker pairs the rounds are spread over (module docstring says why)

    def __post_init__(self) -> None:
        if self.rounds < 3:
            raise InputError(f"--rounds must be >= 3 for a rank test, got {self.rounds}")
        if self.threads < 1:
            raise InputError(f"--threads must be >= 1, got {self.threads}")
        if self.processes < 1:
            raise InputError(f"--processes must be >= 1, got {self.processes}")

    def blocks(self) -> list[int]:
        """Rounds per worker pair: whole ABBA pairs, as even as they split; an odd last round goes
        to the last block, so the analysis's pairs never straddle two processes. Never more worker
        pairs than ABBA pairs."""
        pairs, spare = divmod(self.rounds, 2)
        count = min(self.processes, pairs)
        sizes = [2 * (pairs // count + (i < pairs % count)) for i in range(count)]
        sizes[-1] += spare
        return sizes


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
                    "threads": plan.threads})  # fmt: skip
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

    def round(self) -> list[float]:
        self._send({"round": True})
        return self._receive()["times"]

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.stdin.close()
            self.process.wait(timeout=30)


def _frame(plan: ABPlan, samples: list[list[float]], threads: int) -> Any:
    rows = []
    for index, case in enumerate(plan.cases):
        times = [round_times[index] for round_times in samples]
        rows.append({**case, "status": "ok", "rounds": len(times), "threads": threads,
                     "time_median_s": sorted(times)[len(times) // 2],
                     "time_samples_s": " ".join(f"{t:.6g}" for t in times)})  # fmt: skip
    return results_frame(rows)


def _pair(base_root: Path, new_root: Path, plan: ABPlan) -> tuple[Worker, Worker]:
    base = Worker("base", base_root, plan, {})
    try:
        new = Worker("new", new_root, plan, plan.slowdown)
    except Exception:
        base.close()
        raise
    try:
        return base.wait_ready(), new.wait_ready()
    except Exception:
        base.close()
        new.close()
        raise


def run_ab(base_root: Path, new_root: Path, plan: ABPlan, labels: tuple[str, str]) -> tuple[LoadedResults, ...]:
    """Interleaved rounds on both sides, over `plan.processes` fresh worker pairs; returns (base, new)
    in the common results schema."""
    samples: dict[str, list[list[float]]] = {"base": [], "new": []}
    threads = {}
    with tqdm(total=plan.rounds, desc="A/B rounds", file=sys.stderr, disable=None) as progress:
        for size in plan.blocks():
            base, new = _pair(base_root, new_root, plan)
            try:
                for index in range(size):
                    for worker in (base, new) if index % 2 == 0 else (new, base):  # ABBA: drift cancels
                        samples[worker.name].append(worker.round())
                    progress.update()
            finally:
                base.close()
                new.close()
            threads = {"base": base.ready["threads"], "new": new.ready["threads"]}
    machine = machine_info()
    return tuple(
        LoadedResults(_frame(plan, samples[side], threads[side]), {**machine, "git_commit": label}, label)
        for side, label in (("base", labels[0]), ("new", labels[1]))
    )
