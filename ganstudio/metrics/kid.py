"""Kernel Inception Distance (Bińkowski et al., 2018): the unbiased MMD² with the cubic
polynomial kernel k(x, y) = (x·y / d + 1)³, averaged over random subsets.

Each of `subsets` rounds draws `subset_size` rows from each set without replacement
(seeded), so the mean is unbiased for any subset size and the spread across rounds says how
much to trust it. The defaults (100 subsets of 1000) are the usual published protocol.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from ._arrays import as_float64
from .mmd import mmd2_unbiased


def polynomial_kernel(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(a·b / d + 1)³ in float32, in place (BLAS speed; `kernel_sum` adds up in float64)."""
    k = a.astype(np.float32, copy=False) @ b.astype(np.float32, copy=False).T
    k *= np.float32(1.0 / a.shape[1])
    k += np.float32(1.0)
    cube = k * k
    cube *= k
    return cube


@dataclass(frozen=True)
class KIDResult:
    mean: float
    std: float
    subsets: int
    subset_size: int

    def to_json(self) -> dict:
        return asdict(self)


def kid(features_a, features_b, subsets: int = 100, subset_size: int = 1000, seed: int = 0) -> KIDResult:
    """KID between feature sets [N, d] and [M, d]; subsets shrink to the smaller set if needed."""
    x, y = as_float64(features_a, "features_a"), as_float64(features_b, "features_b")
    if x.shape[1] != y.shape[1]:
        raise ValueError(f"feature dimensions differ: {x.shape[1]} vs {y.shape[1]}")
    if subsets < 1:
        raise ValueError(f"subsets must be at least 1, got {subsets}")
    size = min(subset_size, len(x), len(y))
    if size < 2:
        raise ValueError(f"KID needs at least 2 feature vectors in each set, got {len(x)} and {len(y)}")
    x32, y32 = x.astype(np.float32), y.astype(np.float32)
    rng = np.random.default_rng(seed)
    values = np.empty(subsets)
    for i in range(subsets):
        xs = x32[rng.choice(len(x32), size, replace=False)]
        ys = y32[rng.choice(len(y32), size, replace=False)]
        values[i] = mmd2_unbiased(xs, ys, polynomial_kernel, block_rows=size)
    return KIDResult(float(values.mean()), float(values.std()), subsets, size)
