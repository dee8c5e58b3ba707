"""Inception Score (Salimans et al., 2016) from class probabilities p(y|x):

    IS = exp( E_x KL( p(y|x) || p(y) ) ),   p(y) = mean over the split of p(y|x)

High when each sample is classified confidently (low-entropy p(y|x)) and the classes are
varied (high-entropy p(y)). It ranges from 1 to the number of classes. Computed on `splits`
equal parts; the mean and standard deviation across parts are returned, as usual.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from ._arrays import as_float64


@dataclass(frozen=True)
class ISResult:
    mean: float
    std: float
    splits: int

    def to_json(self) -> dict:
        return asdict(self)


def inception_score(probs, splits: int = 10, eps: float = 1e-12) -> ISResult:
    """IS of class probabilities [N, C] (rows must sum to 1)."""
    p = as_float64(probs, "probs")
    if (p < -1e-6).any() or not np.allclose(p.sum(1), 1.0, atol=1e-3):
        raise ValueError("probs must be probabilities: non-negative rows that sum to 1 (apply softmax first)")
    if not 1 <= splits <= len(p):
        raise ValueError(f"splits must be between 1 and the number of samples ({len(p)}), got {splits}")
    p = np.clip(p, 0.0, None)
    scores = []
    for part in np.array_split(p, splits):
        marginal = part.mean(axis=0, keepdims=True)
        kl = (part * (np.log(part + eps) - np.log(marginal + eps))).sum(axis=1)
        scores.append(float(np.exp(kl.mean())))
    return ISResult(float(np.mean(scores)), float(np.std(scores)), splits)
