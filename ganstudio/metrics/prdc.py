"""Precision, recall (Kynkäänniemi et al., 2019) and density, coverage (Naeem et al., 2020)
by k-nearest neighbours in feature space.

Each real point r_j owns a ball whose radius is the distance to its k-th nearest other real
point; likewise for each fake point.

- precision: share of fake points inside at least one real ball (are samples realistic?)
- recall:    share of real points inside at least one fake ball (is the data covered?)
- density:   mean number of real balls holding a fake point, divided by k (≈1 when the
             distributions match; above 1 when samples crowd dense regions)
- coverage:  share of real points whose ball holds at least one fake point

Distances are computed in row blocks with `torch.cdist`, so 10k × 10k never lives in memory.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch

from ._arrays import as_tensor

_BLOCK_ELEMENTS = 2**24  # about 64 MB of float32 distances per block


def _rows_per_block(n_cols: int) -> int:
    return max(1, _BLOCK_ELEMENTS // max(1, n_cols))


def knn_radii(points: torch.Tensor, k: int) -> torch.Tensor:
    """Distance from each point to its k-th nearest *other* point of the same set."""
    if len(points) <= k:
        raise ValueError(f"k-NN radii with k={k} need more than {k} points, got {len(points)}")
    rows = _rows_per_block(len(points))
    radii = []
    for start in range(0, len(points), rows):
        d = torch.cdist(points[start:start + rows], points)
        # The k+1 smallest include the point itself (distance 0).
        radii.append(d.topk(k + 1, dim=1, largest=False).values[:, -1])
    return torch.cat(radii)


@dataclass(frozen=True)
class PRDCResult:
    precision: float
    recall: float
    density: float
    coverage: float
    k: int

    def to_json(self) -> dict:
        return asdict(self)


def prdc(real, fake, k: int = 5) -> PRDCResult:
    """Precision, recall, density and coverage of `fake` [M, d] against `real` [N, d]."""
    r, f = as_tensor(real, "real"), as_tensor(fake, "fake")
    if r.shape[1] != f.shape[1]:
        raise ValueError(f"feature dimensions differ: {r.shape[1]} vs {f.shape[1]}")
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    real_radii, fake_radii = knn_radii(r, k), knn_radii(f, k)

    fake_in_real = 0  # fakes inside any real ball (precision)
    density_hits = 0  # (fake, real ball) pairs (density)
    real_in_fake = torch.zeros(len(r), dtype=torch.bool)  # recall
    nearest_fake = torch.full((len(r),), float("inf"))  # coverage
    rows = _rows_per_block(len(r))
    for start in range(0, len(f), rows):
        d = torch.cdist(f[start:start + rows], r)  # [b fakes, N reals]
        inside_real = d <= real_radii[None, :]
        fake_in_real += int(inside_real.any(dim=1).sum())
        density_hits += int(inside_real.sum())
        real_in_fake |= (d <= fake_radii[start:start + rows, None]).any(dim=0)
        nearest_fake = torch.minimum(nearest_fake, d.min(dim=0).values)
    return PRDCResult(
        precision=fake_in_real / len(f),
        recall=float(real_in_fake.double().mean()),
        density=density_hits / (k * len(f)),
        coverage=float((nearest_fake <= real_radii).double().mean()),
        k=k,
    )
