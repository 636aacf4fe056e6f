"""`compile=true`'s one failure mode worth a sentence: inductor could not build its kernels."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def compile_errors_in_one_line() -> Iterator[None]:
    """torch.compile's backend errors carry the whole compiler command and its output; the run's
    `error` row gets the first line of what went wrong instead."""
    try:
        yield
    except Exception as exc:
        if type(exc).__name__ != "BackendCompilerFailed":
            raise
        lines = [line.strip() for line in str(exc).splitlines() if "error" in line.lower()]
        raise RuntimeError(f"torch.compile failed: {lines[0] if lines else type(exc).__name__}") from None
