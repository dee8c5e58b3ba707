"""Kernel Inception Distance (Bińkowski et al., 2018): the unbiased MMD² with the cubic
polynomial kernel k(x, y) = (x·y / d + 1)³, averaged over random subsets.

Each of `subsets` rounds draws `subset_size` rows from each set without replacement
(seeded), so the mean is unbiased for any subset size and the spread across rounds says how
much to trust it. With more than one round a subset holds at most half the smaller set:
rounds that each took every point would all agree, and "± 0" would claim a certainty the
data do not give. The defaults (100 subsets of 1000) are the usual published protocol.
Kernels run in float32 (features are float32; BLAS speed), their sums in float64.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch

from ._arrays import as_tensor
from .mmd import mmd2_unbiased


def polynomial_kernel(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """(a·b / d + 1)³ in the inputs' precision, in place (`kernel_sum` adds up in float64)."""
    return torch.addmm(torch.ones((), dtype=a.dtype), a, b.T, alpha=1.0 / a.shape[1]).pow_(3)


@dataclass(frozen=True)
class KIDResult:
    mean: float
    std: float
    subsets: int
    subset_size: int

    def to_json(self) -> dict:
        return asdict(self)


def kid(features_a, features_b, subsets: int = 100, subset_size: int = 1000, seed: int = 0) -> KIDResult:
    """KID between feature sets [N, d] and [M, d]; subsets shrink to fit the sets (see above)."""
    x, y = as_tensor(features_a, "features_a"), as_tensor(features_b, "features_b")
    if x.shape[1] != y.shape[1]:
        raise ValueError(f"feature dimensions differ: {x.shape[1]} vs {y.shape[1]}")
    if subsets < 1:
        raise ValueError(f"subsets must be at least 1, got {subsets}")
    smaller = min(len(x), len(y))
    size = min(subset_size, smaller if subsets == 1 else smaller // 2)
    if size < 2:
        raise ValueError(f"KID needs at least 2 feature vectors in each set, got {len(x)} and {len(y)}")
    gen = torch.Generator().manual_seed(seed)
    values = torch.empty(subsets, dtype=torch.float64)
    for i in range(subsets):
        xs = x[torch.randperm(len(x), generator=gen)[:size]]
        ys = y[torch.randperm(len(y), generator=gen)[:size]]
        values[i] = mmd2_unbiased(xs, ys, polynomial_kernel, block_rows=size)
    return KIDResult(float(values.mean()), float(values.std(unbiased=False)), subsets, size)
