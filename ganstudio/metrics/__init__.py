"""Honest evaluation: distances between feature sets, coverage of toy mixtures, and
disentanglement against known factors. Feature extractors live in `features`, the judge
classifier's training in `judge`, and `ganstudio eval` in `evaluate`."""

from .disentanglement import DCIResult, MIGResult, dci, mig
from .frechet import GaussianStats, feature_stats, frechet_distance, frechet_distance_from_stats
from .inception_score import ISResult, inception_score
from .kid import KIDResult, kid
from .mmd import MMDResult, gaussian_mmd, mmd2_unbiased
from .modes import ModeStats, mode_counts, mode_stats
from .prdc import PRDCResult, prdc

__all__ = [
    "DCIResult", "GaussianStats", "ISResult", "KIDResult", "MIGResult", "MMDResult", "ModeStats", "PRDCResult",
    "dci", "feature_stats", "frechet_distance", "frechet_distance_from_stats", "gaussian_mmd", "inception_score",
    "kid", "mig", "mmd2_unbiased", "mode_counts", "mode_stats", "prdc",
]
