"""The thread policy: small fits run on one thread (a second can only wait, and on a loaded machine
waits a whole time slice), what the user asks for wins, and a busy machine is named in the report."""

import torch

from bench.harness import threads
from bench.harness.cases import Case, ImplSpec
from bench.harness.runner import run_case
from bench.harness.session import Session
from bench.harness.threads import SMALL_WORK_FLOPS, threads_for
from bench.harness.timing import TimingConfig
from bench.judge.reference import reference_solution
from bench.problems.builtin import d2l, synthetic
from bench.reports.run_report import markdown_report
from tests.conftest import FAST_TIMING


def test_small_work_gets_one_thread_and_a_request_wins():
    assert threads_for(SMALL_WORK_FLOPS / 10, None) == 1
    assert threads_for(SMALL_WORK_FLOPS * 10, None) is None  # torch's default
    assert threads_for(None, None) is None  # no work model: no guess
    assert threads_for(SMALL_WORK_FLOPS / 10, 2) == 2


def test_rows_record_the_threads_each_case_ran_with():
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        _check_rows_record_threads()
    finally:
        torch.set_num_threads(before)


def _row(problem, ref, timing):
    case = Case(ImplSpec("normal-equation"), "cpu", torch.float64)
    return run_case(Session(problem, (case,), timing, reference=ref), case).row


def _check_rows_record_threads():
    p = d2l()
    ref = reference_solution(p.X, p.y)
    small = _row(p, ref, FAST_TIMING)
    assert small["threads"] == 1
    asked = TimingConfig(warmup=0, min_rounds=1, max_rounds=1, min_time=0.0, threads=2)
    assert _row(p, ref, asked)["threads"] == 2
    big = synthetic(n=200_000, d=20)  # 2·n·p² ≈ 1.8e8 flops
    ref = reference_solution(big.X, big.y)
    row = _row(big, ref, FAST_TIMING)
    assert row["threads"] == 2
    assert torch.get_num_threads() == 2  # restored after each case


def test_a_busy_machine_is_named_in_the_report(monkeypatch):
    monkeypatch.setattr(threads.os, "getloadavg", lambda: (3.0, 2.0, 1.0))
    monkeypatch.setattr(threads.os, "cpu_count", lambda: 2)
    load = threads.machine_load()
    assert load == {"load_average_1m": 3.0, "load_average_5m": 2.0, "loaded": True}
    p = d2l()
    ref = reference_solution(p.X, p.y)
    case = Case(ImplSpec("normal-equation"), "cpu", torch.float64)
    outcome = run_case(Session(p, (case,), FAST_TIMING, reference=ref), case)
    from bench.results.schema import results_frame

    text = markdown_report(p, ref, results_frame([outcome.row]), {"cpu_count": 2, **load}, [])
    assert "the machine was busy** when the run started (load average 3.0 on 2 cores)" in text
    quiet = markdown_report(p, ref, results_frame([outcome.row]), {"cpu_count": 2, "loaded": False}, [])
    assert "the machine was busy" not in quiet
