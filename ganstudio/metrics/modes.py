"""Mode coverage and high-quality-sample rate for 2-D Gaussian mixtures (ring, grid).

The protocol of the Unrolled-GAN / VEEGAN / PacGAN toy experiments:

- each sample is assigned to its nearest mixture centre;
- a sample is *high quality* (HQ) if it lies within `n_std` (3) standard deviations of that
  centre;
- a mode is *reached* if at least one HQ sample is assigned to it: the count the PacGAN paper
  (Lin et al., 2018, Table 1) reports as modes, over 2,500 samples;
- a mode is *covered* if at least `min_count` HQ samples are assigned to it, by default 20 % of
  the count a perfect model would put there (N / K; 20 for 2,500 samples and 25 modes): the
  stricter reading, which chance hits of a diffuse cloud do not pass;
- `kl_modes` is KL(q || p) between the HQ samples' distribution over modes q and the mixture
  weights p: 0 when samples spread over modes like the data, large under mode collapse.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._arrays import as_float64


@dataclass(frozen=True)
class ModeStats:
    modes: int
    covered: int
    reached: int
    hq_rate: float
    counts: tuple[int, ...]
    min_count: int
    kl_modes: float

    def to_json(self) -> dict:
        return {"modes": self.modes, "covered": self.covered, "reached": self.reached, "hq_rate": self.hq_rate,
                "counts": list(self.counts), "min_count": self.min_count, "kl_modes": self.kl_modes}


def mode_counts(nearest, high_quality, modes: int, min_count: int | None = None, weights=None) -> ModeStats:
    """The statistics from each sample's nearest mode [N] and whether it is high quality [N].

    Use this when a data set knows its own structure (e.g. the arcs of two moons); use
    `mode_stats` for a mixture given by centres and one standard deviation.
    """
    nearest = np.asarray(nearest, dtype=np.int64).reshape(-1)
    hq = np.asarray(high_quality, dtype=bool).reshape(-1)
    if nearest.shape != hq.shape:
        raise ValueError(f"nearest modes ({nearest.shape[0]}) and quality flags ({hq.shape[0]}) must pair up")
    if modes < 1 or (len(nearest) and (nearest.min() < 0 or nearest.max() >= modes)):
        raise ValueError(f"mode indices must lie in 0..{modes - 1}")
    p = np.full(modes, 1.0 / modes) if weights is None else np.asarray(weights, dtype=np.float64) / np.sum(weights)
    if min_count is None:
        min_count = max(1, int(round(0.2 * len(nearest) / modes)))
    counts = np.bincount(nearest[hq], minlength=modes)
    q = counts / max(1, counts.sum())
    with np.errstate(divide="ignore", invalid="ignore"):
        kl = float(np.sum(np.where(q > 0, q * np.log(q / p), 0.0))) if counts.sum() else float("inf")
    return ModeStats(
        modes=modes,
        covered=int((counts >= min_count).sum()),
        reached=int((counts > 0).sum()),
        hq_rate=float(hq.mean()) if len(hq) else 0.0,
        counts=tuple(int(v) for v in counts),
        min_count=int(min_count),
        kl_modes=kl,
    )


def mode_stats(samples, centres, std: float, n_std: float = 3.0, min_count: int | None = None,
               weights=None) -> ModeStats:
    """Mode coverage, HQ rate and mode KL of `samples` [N, 2] for a mixture with `centres` [K, 2]."""
    x, c = as_float64(samples, "samples"), as_float64(centres, "centres")
    if x.shape[1] != c.shape[1]:
        raise ValueError(f"samples are {x.shape[1]}-D but centres are {c.shape[1]}-D")
    if std <= 0:
        raise ValueError(f"std must be positive, got {std}")
    d = np.sqrt(((x[:, None, :] - c[None, :, :]) ** 2).sum(-1))
    nearest = d.argmin(1)
    hq = d[np.arange(len(x)), nearest] <= n_std * std
    return mode_counts(nearest, hq, len(c), min_count, weights)


def mode_counter(dataset):
    """Mode statistics for a 2-D data set from its own structure (`nearest_mode`, `high_quality`,
    `num_modes`) when it has one, else from its mixture `centres` and `std`: a function of the
    sample points; None for data without known modes."""
    if callable(getattr(dataset, "high_quality", None)) and getattr(dataset, "num_modes", 0):
        return lambda points: mode_counts(dataset.nearest_mode(points), dataset.high_quality(points), dataset.num_modes)
    centres, std = getattr(dataset, "centres", None), getattr(dataset, "std", None)
    if centres is not None and std:
        return lambda points: mode_stats(points, centres, float(std))
    return None
