"""AᵀA by a symmetric rank-k update (BLAS `?syrk`), half the flops of the GEMM `A.T @ A` that torch
runs. torch has no syrk of its own, but its CPU wheels link MKL statically and export MKL's syrk
entry points, so the same MKL (and the same thread count, `torch.set_num_threads`) does the work on
the tensor's own memory. Where the symbol is missing (a torch without MKL) or fails its first-use
check, `syrk_available` is False with the reason and callers use the GEMM."""

from __future__ import annotations

import ctypes
import functools
import os
import sys

import torch

SYMBOLS = {torch.float64: ("mkl_blas_dsyrk", ctypes.c_double), torch.float32: ("mkl_blas_ssyrk", ctypes.c_float)}
MAX_ROWS = 2**30  # rows per call: the integer arguments stay below 2³¹, so LP64 and ILP64 builds read them alike


@functools.cache
def _library() -> ctypes.CDLL | None:
    path = os.path.join(os.path.dirname(torch.__file__), "lib", "libtorch_cpu.so")
    try:
        return ctypes.CDLL(path)
    except OSError:
        return None


def _entry(dtype: torch.dtype):
    library = _library()
    name = SYMBOLS[dtype][0]
    return getattr(library, name, None) if library is not None else None


def _call(entry, ctype, C: torch.Tensor, A: torch.Tensor, beta: float) -> None:
    """C's lower triangle (row-major) += AᵀA, A row-major m × d with unit column stride. In BLAS's
    column-major terms A is the d × m matrix Aᵀ with leading dimension A.stride(0), and the row-major
    lower triangle of C is the column-major upper one: uplo 'U', trans 'N'. The integers go as 64-bit
    values below 2³¹, which an LP64 MKL reads correctly from their low half (little-endian)."""
    m, d = A.shape
    ints = [ctypes.c_int64(v) for v in (d, m, A.stride(0), d)]
    alpha, beta_c = ctype(1.0), ctype(beta)
    entry(
        ctypes.byref(ctypes.c_char(b"U")), ctypes.byref(ctypes.c_char(b"N")),
        ctypes.byref(ints[0]), ctypes.byref(ints[1]), ctypes.byref(alpha),
        ctypes.c_void_p(A.data_ptr()), ctypes.byref(ints[2]), ctypes.byref(beta_c),
        ctypes.c_void_p(C.data_ptr()), ctypes.byref(ints[3]),
    )  # fmt: skip


@functools.cache
def syrk_unavailable_reason(dtype: torch.dtype) -> str:
    """'' when MKL's syrk is usable for this dtype; otherwise why not. Checked once, on a small
    matrix against the GEMM, so a library whose entry point means something else is never used."""
    if dtype not in SYMBOLS:
        return f"no syrk for {dtype}"
    if sys.byteorder != "little":
        return "64-bit integer arguments are read as LP64 only on little-endian machines"
    entry = _entry(dtype)
    if entry is None:
        return f"this torch exports no {SYMBOLS[dtype][0]} (built without MKL)"
    A = torch.arange(1.0, 43.0, dtype=dtype).reshape(7, 6).remainder(5.0) - 2.0  # small integers: exact
    C = torch.zeros(6, 6, dtype=dtype)
    _call(entry, SYMBOLS[dtype][1], C, A, 0.0)
    if not torch.equal(torch.tril(C), torch.tril(A.T @ A)):
        return f"{SYMBOLS[dtype][0]} gave a wrong AᵀA on its first-use check"
    return ""


def syrk_available(A: torch.Tensor) -> bool:
    return (
        A.device.type == "cpu"
        and A.dim() == 2
        and A.stride(1) == 1
        and A.stride(0) >= max(1, A.shape[1])
        and not syrk_unavailable_reason(A.dtype)
    )


def syrk_lower_(C: torch.Tensor, A: torch.Tensor) -> None:
    """C's lower triangle += AᵀA (C contiguous d × d, A as in `syrk_available`); the upper
    triangle is left as it was."""
    entry, ctype = _entry(A.dtype), SYMBOLS[A.dtype][1]
    for start in range(0, A.shape[0], MAX_ROWS):
        _call(entry, ctype, C, A[start : start + MAX_ROWS], 1.0)


def symmetric_from_lower(C: torch.Tensor) -> torch.Tensor:
    return torch.tril(C) + torch.tril(C, -1).T
