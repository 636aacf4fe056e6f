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
        yield
        fake.capturing = False

    current = Stream("current")
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
