"""Maximum mean discrepancy: the unbiased estimator shared by KID and the Gaussian MMD.

For sets X (m points) and Y (n points) and a kernel k (seed 003, eq. 4):

    MMD²_u = 1/(m(m-1)) Σ_{i≠j} k(x_i, x_j) + 1/(n(n-1)) Σ_{i≠j} k(y_i, y_j) - 2/(mn) Σ_{i,j} k(x_i, y_j)

It is unbiased (its expectation is the population MMD², so it can be slightly negative).
Kernel sums are accumulated over row blocks so large sets never hold an m×n matrix.
A kernel here maps two blocks of rows to an array [..., b, n] (summed in float64); leading
axes hold several kernels at once (e.g. several Gaussian bandwidths) and give several MMDs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

from ._arrays import as_float64

Kernel = Callable[[np.ndarray, np.ndarray], np.ndarray]
_BLOCK_ELEMENTS = 2**23  # about 64 MB of float64 per kernel block


def kernel_sum(x: np.ndarray, y: np.ndarray, kernel: Kernel, exclude_diagonal: bool = False,
               block_rows: int | None = None) -> np.ndarray:
    """Σ_{i,j} k(x_i, y_j) (leaving out i == j when x is y and `exclude_diagonal`)."""
    rows = block_rows or max(1, _BLOCK_ELEMENTS // max(1, len(y)))
    total = None
    for start in range(0, len(x), rows):
        block = kernel(x[start:start + rows], y)
        part = block.sum(axis=(-2, -1), dtype=np.float64)
        if exclude_diagonal:
            part = part - np.diagonal(block[..., :, start:start + rows], axis1=-2, axis2=-1).sum(-1, dtype=np.float64)
        total = part if total is None else total + part
    return total


def mmd2_unbiased(x: np.ndarray, y: np.ndarray, kernel: Kernel, block_rows: int | None = None) -> np.ndarray:
    """The unbiased MMD² estimate (one value per leading kernel axis)."""
    m, n = len(x), len(y)
    if m < 2 or n < 2:
        raise ValueError(f"the unbiased MMD needs at least 2 points in each set, got {m} and {n}")
    kxx = kernel_sum(x, x, kernel, exclude_diagonal=True, block_rows=block_rows) / (m * (m - 1))
    kyy = kernel_sum(y, y, kernel, exclude_diagonal=True, block_rows=block_rows) / (n * (n - 1))
    kxy = kernel_sum(x, y, kernel, block_rows=block_rows) / (m * n)
    return kxx + kyy - 2.0 * kxy


def gaussian_kernel(bandwidths: Sequence[float]) -> Kernel:
    """k(x, y) = exp(-|x - y|² / (2σ²)) for each σ, stacked on a leading axis."""
    inv = np.asarray([1.0 / (2.0 * s * s) for s in bandwidths], dtype=np.float64)[:, None, None]

    def kernel(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        sq = (a * a).sum(1)[:, None] + (b * b).sum(1)[None, :] - 2.0 * (a @ b.T)
        return np.exp(-np.clip(sq, 0.0, None)[None] * inv)

    return kernel


def median_distance(x: np.ndarray, max_points: int = 1000, seed: int = 0) -> float:
    """Median pairwise Euclidean distance (on at most `max_points` points, seeded)."""
    if len(x) > max_points:
        x = x[np.random.default_rng(seed).choice(len(x), max_points, replace=False)]
    sq = (x * x).sum(1)[:, None] + (x * x).sum(1)[None, :] - 2.0 * (x @ x.T)
    upper = np.sqrt(np.clip(sq[np.triu_indices(len(x), k=1)], 0.0, None))
    return float(np.median(upper))


@dataclass(frozen=True)
class MMDResult:
    """Gaussian MMD² per bandwidth, and for the sum of those kernels (a characteristic kernel)."""

    mmd2: float
    per_bandwidth: dict[float, float]

    def to_json(self) -> dict:
        return {"mmd2": self.mmd2, "per_bandwidth": {f"{s:.6g}": v for s, v in self.per_bandwidth.items()}}


BANDWIDTH_FACTORS = (0.25, 0.5, 1.0, 2.0, 4.0)


def gaussian_mmd(reference, other, bandwidths: Sequence[float] | None = None) -> MMDResult:
    """Unbiased Gaussian-kernel MMD² between `reference` [m, d] and `other` [n, d].

    Without `bandwidths`, σ = median pairwise distance of the *reference* set times
    0.25, 0.5, 1, 2, 4, so the kernel does not move with the model being measured.
    """
    x, y = as_float64(reference, "reference"), as_float64(other, "other")
    if x.shape[1] != y.shape[1]:
        raise ValueError(f"feature dimensions differ: {x.shape[1]} vs {y.shape[1]}")
    if bandwidths is None:
        med = median_distance(x)
        if med <= 0:
            raise ValueError("reference points are all identical; give bandwidths explicitly")
        bandwidths = [med * f for f in BANDWIDTH_FACTORS]
    bandwidths = [float(s) for s in bandwidths]
    if not bandwidths or min(bandwidths) <= 0:
        raise ValueError(f"bandwidths must be positive, got {bandwidths}")
    values = mmd2_unbiased(x, y, gaussian_kernel(bandwidths))
    return MMDResult(float(values.sum()), {s: float(v) for s, v in zip(bandwidths, values)})
