"""Peak memory of this process while a block runs, portably (psutil): the resident set sampled by
a background thread, since only some platforms keep a high-water mark for us."""

from __future__ import annotations

import threading
from types import TracebackType


class PeakMemory:
    """`with PeakMemory() as peak: ...; peak.bytes` — the largest RSS seen, sampled every
    `interval` seconds and once at each end (peaks shorter than the interval can be missed)."""

    def __init__(self, interval: float = 0.005) -> None:
        self.interval = interval
        self.bytes = 0
        import psutil  # here, not at import: the CLI starts without it (psutil's Linux backend needs `resource`)

        self._process = psutil.Process()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample_until_stopped, daemon=True)

    def sample(self) -> int:
        self.bytes = max(self.bytes, self._process.memory_info().rss)
        return self.bytes

    def _sample_until_stopped(self) -> None:
        while not self._stop.wait(self.interval):
            self.sample()

    def __enter__(self) -> PeakMemory:
        self.sample()
        self._thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self._stop.set()
        self._thread.join()
        self.sample()
