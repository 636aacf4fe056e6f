"""The blocked Gram passes both closed forms share (one process, and each rank of a data-parallel
fit): X read once, in blocks sized for the cache, never copied whole."""

from __future__ import annotations

import torch

AUTO_MAX_COND = 1e3  # auto takes the Cholesky fast path while cond(centred, scaled Gram) ≤ this: ≤ 3 digits lost
GRAM_BLOCK_BYTES = 2 * 2**20  # CPU: a block stays in L2 for the products after the first (16 MiB: ~7% slower)
GPU_GRAM_BLOCK_BYTES = 256 * 2**20  # CUDA: no cache to aim at, and every product is a launch; few, large blocks


def block_rows(n: int, width: int, itemsize: int, device_type: str) -> int:
    """Rows per block of a blocked pass over an n × width matrix: blocks that fit the CPU's L2, so
    the products after the first read them from cache; on a GPU blocks of GPU_GRAM_BLOCK_BYTES,
    where 2 MiB blocks would make 1e6 × 100 float64 ~1,100 launches of tiny products."""
    block_bytes = GPU_GRAM_BLOCK_BYTES if device_type == "cuda" else GRAM_BLOCK_BYTES
    return max(1, min(n, max(256, block_bytes // (width * itemsize))))


def centred_gram(
    X: torch.Tensor, y: torch.Tensor, x_mean: torch.Tensor, y_mean: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """XcᵀXc and Xcᵀyc, block by block: each block of rows is centred into a small buffer that stays
    in cache and multiplied there, so X is read once and never copied whole."""
    n, d = X.shape
    k = y.shape[1]
    rows = block_rows(n, d + k, X.element_size(), X.device.type)
    buffer = torch.empty(rows, d + k, dtype=X.dtype, device=X.device)
    M = torch.zeros(d + k, d + k, dtype=X.dtype, device=X.device)
    for start in range(0, n, rows):
        block = buffer[: min(rows, n - start)]
        torch.sub(X[start : start + rows], x_mean, out=block[:, :d])
        torch.sub(y[start : start + rows], y_mean, out=block[:, d:])
        M.addmm_(block.T, block)
    return M[:d, :d], M[:d, d:]


def gram_and_sums(X: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, ...]:
    """XᵀX, Xᵀy, Xᵀ1 and yᵀ1 in one blocked pass over X, without copying it: each block is read
    from memory by the first product and from cache by the other two."""
    n, d = X.shape
    rows = block_rows(n, d, X.element_size(), X.device.type)
    ones = torch.ones(rows, dtype=X.dtype, device=X.device)
    XtX = torch.zeros(d, d, dtype=X.dtype, device=X.device)
    Xty = torch.zeros(d, y.shape[1], dtype=X.dtype, device=X.device)
    x_sum = torch.zeros(d, dtype=X.dtype, device=X.device)
    for start in range(0, n, rows):
        block, y_block = X[start : start + rows], y[start : start + rows]
        XtX.addmm_(block.T, block)
        Xty.addmm_(block.T, y_block)
        x_sum.addmv_(block.T, ones[: block.shape[0]])
    return XtX, Xty, x_sum, y.sum(dim=0)
