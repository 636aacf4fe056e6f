"""The timing core, including its CUDA synchronisation, without needing a GPU."""

import pytest
import torch

from bench.harness import clocks, timing
from bench.harness.cases import ImplSpec, plan
from bench.harness.runner import run
from bench.harness.session import Session
from bench.harness.timing import TimingConfig, measure, synchronised
from bench.problems.builtin import d2l


def test_measure_keeps_every_round_and_warms_up_first():
    calls = []
    result_timing, result = measure(lambda: calls.append(1) or len(calls), "cpu", TimingConfig(2, 4, 10, 0.0))
    assert result_timing.rounds == 4 and len(calls) == 6 and result == 6
    assert result_timing.median > 0 and result_timing.iqr >= 0 and result_timing.threads == torch.get_num_threads()


def test_measure_runs_until_min_time_but_not_past_max_rounds():
    t, _ = measure(lambda: sum(range(1000)), "cpu", TimingConfig(0, 2, 7, 10.0))
    assert t.rounds == 7


def test_bad_timing_settings_are_refused():
    with pytest.raises(ValueError, match="bad timing settings"):
        TimingConfig(min_rounds=0)


def test_cuda_calls_are_synchronised_inside_the_timed_function(monkeypatch):
    events = []
    monkeypatch.setattr(torch.cuda, "synchronize", lambda device=None: events.append(("sync", str(device))))
    call = synchronised(lambda: events.append(("fit", None)) or "done", "cuda:0")
    assert call() == "done"
    assert events == [("fit", None), ("sync", "cuda:0")]
    assert synchronised(print, "cpu") is print  # nothing added on the CPU


def test_measure_synchronises_after_warmup_and_after_every_round(monkeypatch):
    syncs = []
    monkeypatch.setattr(torch.cuda, "synchronize", lambda device=None: syncs.append(device))
    t, _ = measure(lambda: None, "cuda", TimingConfig(1, 3, 3, 0.0))
    assert t.rounds == 3 and len(syncs) == 1 + 1 + 3  # warm-up round, before timing, each round
    assert timing.synchronize("cpu") is None


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU: compares CUDA and CPU fits")
@pytest.mark.parametrize(
    "name", ["manual-autograd", "manual-gradient", "nn-linear", "nn-linear:loader=tensor", "normal-equation"]
)
def test_cuda_recovers_the_same_parameters_as_cpu(name):
    outcomes = run(
        Session(d2l(), plan([ImplSpec.parse(name)], ["cpu", "cuda"], [torch.float64]), TimingConfig(1, 3, 3, 0.0))
    )
    cpu, cuda = outcomes
    assert cpu.row["status"] == cuda.row["status"] == "ok"
    assert torch.allclose(cpu.fit.weight, cuda.fit.weight, atol=1e-9)


class FakeEvent:
    """Stands in for torch.cuda.Event: records the order of events and fits, and fakes 2.5 ms."""

    log: list = []

    def __init__(self, enable_timing: bool = False) -> None:
        assert enable_timing

    def record(self, stream=None) -> None:
        FakeEvent.log.append("record")

    def synchronize(self) -> None:
        FakeEvent.log.append("sync")

    def elapsed_time(self, end) -> float:
        return 2.5


def test_cuda_events_bracket_each_call_and_are_waited_for(monkeypatch):
    FakeEvent.log = []
    monkeypatch.setattr(torch.cuda, "Event", FakeEvent)
    monkeypatch.setattr(torch.cuda, "current_stream", lambda device=None: None)
    samples = clocks.cuda_event_seconds(lambda: FakeEvent.log.append("fit"), "cuda", 2)
    assert samples == (0.0025, 0.0025)  # elapsed_time is in milliseconds
    assert FakeEvent.log == ["record", "fit", "record", "sync"] * 2


def test_events_longer_than_the_wall_clock_mean_a_missing_synchronisation():
    assert clocks.clock_disagreement(wall_median=0.010, event_median=0.009) is None
    assert clocks.clock_disagreement(wall_median=0.010, event_median=0.0105) is None  # timer noise
    message = clocks.clock_disagreement(wall_median=0.001, event_median=0.010)
    assert message is not None and "misses device work" in message


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU: CUDA events against the wall clock")
def test_cuda_event_and_synchronised_wall_clock_agree_on_a_real_fit():
    from bench.problems.builtin import synthetic

    outcome = run(Session(synthetic(n=200_000, d=100), plan([ImplSpec("normal-equation")], ["cuda"], [torch.float32]),
                  TimingConfig(1, 10, 10, 0.0)))[0]  # fmt: skip
    assert outcome.row["status"] == "ok", outcome.row["reason"]
    assert 0.3 < outcome.row["event_vs_wall"] <= clocks.CLOCK_SLACK, outcome.row


def test_median_seconds_times_exactly_the_rounds_asked_after_one_warm_up():
    from bench.harness.timing import median_seconds

    calls = []
    seconds = median_seconds(lambda: calls.append(1), "cpu", 7)
    assert len(calls) == 8 and seconds >= 0  # one warm-up, then exactly 7 timed rounds


def test_candidates_take_turns_round_by_round_after_one_warm_up_each():
    from bench.harness.timing import medians_in_turns

    calls: list[str] = []
    medians = medians_in_turns({"a": lambda: calls.append("a"), "b": lambda: calls.append("b")}, "cpu", 3)
    assert calls == ["a", "b"] * 4 and set(medians) == {"a", "b"}  # warm-ups, then a, b per round
