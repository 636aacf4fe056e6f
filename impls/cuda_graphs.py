"""One training epoch as a replayed CUDA graph: small-batch SGD on a GPU is bound by kernel
launches from Python, and a graph launches the whole epoch at once."""

from __future__ import annotations

from collections.abc import Callable

import torch


class GraphedEpoch:
    """Call it once per epoch. The first call runs the steps eagerly on a side stream — a real
    epoch, which is also the warm-up capture needs (cuBLAS handles, optimizer state such as
    momentum buffers created by the first step). The second call captures the same steps (captured
    kernels do not run) and replays them; later calls replay. So the parameters are the plain
    loop's, provided the steps read their inputs from fixed buffers refilled between epochs."""

    def __init__(self, steps: Callable[[], None], device: torch.device) -> None:
        self.steps, self.device = steps, device
        self.eager_done = False
        self.graph: torch.cuda.CUDAGraph | None = None

    def __call__(self) -> None:
        if self.graph is not None:
            self.graph.replay()
        elif not self.eager_done:
            current = torch.cuda.current_stream(self.device)
            side = torch.cuda.Stream(device=self.device)
            side.wait_stream(current)
            with torch.cuda.stream(side):
                self.steps()
            current.wait_stream(side)
            self.eager_done = True
        else:
            graph = torch.cuda.CUDAGraph()
            with torch.cuda.graph(graph):
                self.steps()
            self.graph = graph
            graph.replay()
