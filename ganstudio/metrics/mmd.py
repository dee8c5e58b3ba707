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

import torch

from ._arrays import as_tensor

Kernel = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
_BLOCK_ELEMENTS = 2**21  # 16 MB of float64 per kernel (and per bandwidth) in a block


def kernel_sum(x: torch.Tensor, y: torch.Tensor, kernel: Kernel, exclude_diagonal: bool = False,
               block_rows: int | None = None) -> torch.Tensor:
    """Σ_{i,j} k(x_i, y_j) in float64 (leaving out i == j when x is y and `exclude_diagonal`)."""
    rows = block_rows or max(1, _BLOCK_ELEMENTS // max(1, len(y)))
    total = torch.zeros((), dtype=torch.float64)
    for start in range(0, len(x), rows):
        block = kernel(x[start:start + rows], y)
        part = block.sum(dim=(-2, -1), dtype=torch.float64)
        if exclude_diagonal:
            diagonal = torch.diagonal(block[..., :, start:start + rows], dim1=-2, dim2=-1)
            part = part - diagonal.sum(-1, dtype=torch.float64)
        total = total + part
    return total


def mmd2_unbiased(x: torch.Tensor, y: torch.Tensor, kernel: Kernel, block_rows: int | None = None) -> torch.Tensor:
    """The unbiased MMD² estimate (one value per leading kernel axis), float64."""
    m, n = len(x), len(y)
    if m < 2 or n < 2:
        raise ValueError(f"the unbiased MMD needs at least 2 points in each set, got {m} and {n}")
    kxx = kernel_sum(x, x, kernel, exclude_diagonal=True, block_rows=block_rows) / (m * (m - 1))
    kyy = kernel_sum(y, y, kernel, exclude_diagonal=True, block_rows=block_rows) / (n * (n - 1))
    kxy = kernel_sum(x, y, kernel, block_rows=block_rows) / (m * n)
    return kxx + kyy - 2.0 * kxy


def gaussian_kernel(bandwidths: Sequence[float]) -> Kernel:
    """k(x, y) = exp(-|x - y|² / (2σ²)) for each σ, stacked on a leading axis (float64)."""
    inv = torch.tensor([1.0 / (2.0 * s * s) for s in bandwidths], dtype=torch.float64)[:, None, None]

    def kernel(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        sq = torch.cdist(a, b, compute_mode="donot_use_mm_for_euclid_dist").square()
        return torch.exp(-sq[None] * inv)

    return kernel


def median_distance(x: torch.Tensor, max_points: int = 1000, seed: int = 0) -> float:
    """Median pairwise Euclidean distance (on at most `max_points` points, seeded)."""
    if len(x) > max_points:
        x = x[torch.randperm(len(x), generator=torch.Generator().manual_seed(seed))[:max_points]]
    return float(torch.pdist(x).median())


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
    x, y = as_tensor(reference, "reference", torch.float64), as_tensor(other, "other", torch.float64)
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
    return MMDResult(float(values.sum()), {s: float(v) for s, v in zip(bandwidths, values.tolist())})
