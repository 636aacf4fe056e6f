"""GraphedEpoch's schedule, checked without a GPU: fake streams and graphs record what a device
would run. What matters is that every call is exactly one epoch of training — the eager first
epoch, the captured second one (capture runs nothing, so it must be replayed once), replays after."""

from contextlib import contextmanager

import pytest
import torch

from impls.cuda_graphs import GraphedEpoch


class FakeDevice:
    def __init__(self) -> None:
        self.log: list[str] = []
        self.active = "current"
        self.capturing = False
        self.captures = 0

    def steps(self) -> None:
        self.log.append("capture" if self.capturing else f"epoch on {self.active}")


@pytest.fixture
def device(monkeypatch) -> FakeDevice:
    fake = FakeDevice()

    class Stream:
        def __init__(self, name: str = "side", device=None) -> None:
            self.name = name

        def wait_stream(self, other: "Stream") -> None:
            fake.log.append(f"{self.name} waits for {other.name}")

    class Graph:
        def replay(self) -> None:
            fake.log.append("replay")

    @contextmanager
    def on_stream(stream: Stream):
        before, fake.active = fake.active, stream.name
        yield
        fake.active = before

    @contextmanager
    def capture(graph: Graph):
        fake.capturing = True
        fake.captures += 1
        yield
        fake.capturing = False

    current = Stream("current")
    monkeypatch.setattr(torch.cuda, "synchronize", lambda device=None: None)
    monkeypatch.setattr(torch.cuda, "current_stream", lambda device=None: current)
    monkeypatch.setattr(torch.cuda, "Stream", Stream)
    monkeypatch.setattr(torch.cuda, "stream", on_stream)
    monkeypatch.setattr(torch.cuda, "CUDAGraph", Graph)
    monkeypatch.setattr(torch.cuda, "graph", capture)
    return fake


def test_every_call_trains_exactly_one_epoch(device):
    run_epoch = GraphedEpoch(device.steps, torch.device("cuda"))
    for _ in range(4):
        run_epoch()
    assert device.log == [
        "side waits for current",  # the refilled batches are ready before the side stream reads them
        "epoch on side",  # warm-up = a real epoch, on a side stream as capture requires
        "current waits for side",  # the next refill must not overwrite batches still being read
        "capture",  # records the second epoch's kernels without running them...
        "replay",  # ...so it is replayed at once
        "replay",
        "replay",
    ]
    trained = sum(entry.startswith("epoch") or entry == "replay" for entry in device.log)
    assert trained == 4


@pytest.mark.parametrize(
    ("name", "options"),
    [("manual-gradient", {}), ("nn-linear", {"loader": "tensor", "optimizer_args": {"momentum": 0.9}})],
)
def test_a_kept_graph_is_captured_once_per_inputs_and_every_later_fit_only_replays(device, name, options):
    """Before: every timed fit built a new GraphedEpoch, so each round paid the eager epoch, the
    capture, torch.cuda.graph's synchronize and empty_cache: it timed capture, not replay."""
    import impls
    from impls.cuda_graphs import GraphedEpoch

    impl = impls.create(name, graph=True, epochs=3, **options)
    impl.epoch_runner = lambda steps, X: GraphedEpoch(steps, torch.device("cuda"))  # the fake device's
    X, y = torch.randn(40, 2, dtype=torch.float64), torch.randn(40, 1, dtype=torch.float64)
    first = impl.fit_unchecked(X, y)
    assert device.captures == 1 and device.log.count("replay") == 2
    device.log.clear()
    second = impl.fit_unchecked(X, y)
    assert device.log == ["replay"] * 3  # no eager epoch, no capture, inside what is timed
    assert second.work["capture_s"] == first.work["capture_s"] >= 0  # the one capture, reported apart
    impl.fit_unchecked(X.clone(), y)  # other inputs: their own buffers, their own capture
    assert device.captures == 2


@pytest.mark.parametrize(
    ("name", "options"),
    [("manual-gradient", {}), ("nn-linear", {"loader": "tensor", "optimizer_args": {"momentum": 0.9}})],
)
def test_a_kept_loop_is_reset_to_the_seeded_start_so_every_fit_is_the_plain_fit(name, options):
    """The kept buffers are reused: parameters and optimizer state (momentum) must start afresh each
    fit, or the second timed fit would continue the first. Eager steps stand in for the replay."""
    import impls

    X = torch.randn(60, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    y = X @ torch.tensor([[1.0], [-2.0], [0.5]], dtype=torch.float64) + 0.3
    plain = impls.create(name, epochs=4, **options).fit_unchecked(X, y)
    kept = impls.create(name, graph=True, epochs=4, **options)
    kept.epoch_runner = lambda steps, X: steps  # what a replay computes, run eagerly on the CPU
    for _ in range(2):
        fit = kept.fit_unchecked(X, y)
        torch.testing.assert_close(fit.weight, plain.weight, rtol=0, atol=0)
        torch.testing.assert_close(fit.bias, plain.bias, rtol=0, atol=0)
