"""Fréchet distance between Gaussians fitted to two feature sets (FID when the features are
Inception's).

    d² = |mu1 - mu2|² + tr(S1) + tr(S2) - 2 tr((S1^½ S2 S1^½)^½)

The trace of the matrix square root is the sum of square roots of the eigenvalues of the
symmetric PSD matrix S1^½ S2 S1^½ (it has the same eigenvalues as S1 S2), so two symmetric
eigendecompositions in float64 replace `scipy.linalg.sqrtm` and its complex round-off. With
S1 = V diag(l) Vᵀ, the matrix A = V diag(√l) gives AᵀS2A, which has the same eigenvalues
as S1^½ S2 S1^½ without ever forming S1^½.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._arrays import as_float64


@dataclass(frozen=True)
class GaussianStats:
    """Mean and covariance of a feature set; cache these for a fixed reference set."""

    mu: np.ndarray
    sigma: np.ndarray
    n: int

    def __post_init__(self) -> None:
        d = self.mu.shape[0]
        if self.mu.ndim != 1 or self.sigma.shape != (d, d):
            raise ValueError(f"stats need mu [d] and sigma [d, d], got {self.mu.shape} and {self.sigma.shape}")


def feature_stats(features) -> GaussianStats:
    """Mean and unbiased covariance (float64) of features [N, d]."""
    x = as_float64(features, "features")
    if x.shape[0] < 2:
        raise ValueError(f"need at least 2 feature vectors for a covariance, got {x.shape[0]}")
    mu = x.mean(axis=0)
    centred = x - mu
    sigma = centred.T @ centred / (x.shape[0] - 1)
    return GaussianStats(mu, sigma, x.shape[0])


def _sqrt_trace_product(sigma1: np.ndarray, sigma2: np.ndarray) -> float:
    """tr((S1^½ S2 S1^½)^½) for symmetric PSD S1, S2."""
    lam, vec = np.linalg.eigh(sigma1)
    a = vec * np.sqrt(np.clip(lam, 0.0, None))
    m = a.T @ sigma2 @ a
    eig = np.linalg.eigvalsh((m + m.T) / 2)
    return float(np.sqrt(np.clip(eig, 0.0, None)).sum())


def frechet_distance_from_stats(a: GaussianStats, b: GaussianStats) -> float:
    if a.mu.shape != b.mu.shape:
        raise ValueError(f"feature dimensions differ: {a.mu.shape[0]} vs {b.mu.shape[0]}")
    diff = a.mu - b.mu
    s1, s2 = (a.sigma + a.sigma.T) / 2, (b.sigma + b.sigma.T) / 2
    value = diff @ diff + np.trace(s1) + np.trace(s2) - 2.0 * _sqrt_trace_product(s1, s2)
    return float(max(value, 0.0))


def frechet_distance(features_a, features_b) -> float:
    """Fréchet distance between feature sets [N, d] and [M, d] (float64 throughout)."""
    return frechet_distance_from_stats(feature_stats(features_a), feature_stats(features_b))
