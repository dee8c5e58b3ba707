import numpy as np
import pytest
import scipy.linalg

from ganstudio.metrics import GaussianStats, feature_stats, frechet_distance, frechet_distance_from_stats


def _diag_closed_form(mu1, var1, mu2, var2):
    return float(np.sum((mu1 - mu2) ** 2) + np.sum(var1 + var2 - 2 * np.sqrt(var1 * var2)))


def test_equals_closed_form_for_diagonal_gaussians():
    rng = np.random.default_rng(0)
    mu1, mu2 = rng.normal(size=16), rng.normal(size=16)
    var1, var2 = rng.uniform(0.1, 3, 16), rng.uniform(0.1, 3, 16)
    a, b = GaussianStats(mu1, np.diag(var1), 0), GaussianStats(mu2, np.diag(var2), 0)
    assert frechet_distance_from_stats(a, b) == pytest.approx(_diag_closed_form(mu1, var1, mu2, var2), rel=1e-10)


def test_large_samples_approach_the_closed_form():
    rng = np.random.default_rng(1)
    d = 8
    mu1, mu2 = np.zeros(d), np.full(d, 0.5)
    std1, std2 = np.linspace(0.5, 2, d), np.linspace(2, 0.5, d)
    x = mu1 + rng.normal(size=(40_000, d)) * std1
    y = mu2 + rng.normal(size=(40_000, d)) * std2
    expected = _diag_closed_form(mu1, std1**2, mu2, std2**2)
    assert frechet_distance(x, y) == pytest.approx(expected, rel=0.02)


def test_full_covariances_match_a_matrix_square_root_reference():
    rng = np.random.default_rng(2)
    a, b = rng.normal(size=(6, 6)), rng.normal(size=(6, 6))
    s1, s2 = a @ a.T + 0.1 * np.eye(6), b @ b.T + 0.1 * np.eye(6)
    mu1, mu2 = rng.normal(size=6), rng.normal(size=6)
    reference = np.sum((mu1 - mu2) ** 2) + np.trace(s1 + s2 - 2 * np.real(scipy.linalg.sqrtm(s1 @ s2)))
    got = frechet_distance_from_stats(GaussianStats(mu1, s1, 0), GaussianStats(mu2, s2, 0))
    assert got == pytest.approx(reference, rel=1e-8)
    # symmetric in its arguments
    assert frechet_distance_from_stats(GaussianStats(mu2, s2, 0), GaussianStats(mu1, s1, 0)) == pytest.approx(got)


def test_identical_sets_give_zero_and_rank_deficient_covariances_stay_finite():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(50, 200))  # N < d: singular covariance
    assert frechet_distance(x, x) == pytest.approx(0.0, abs=1e-6)
    value = frechet_distance(x, rng.normal(size=(50, 200)) + 1.0)
    assert np.isfinite(value) and value > 200  # the mean shift alone contributes 200


def test_stats_are_float64_and_unbiased():
    import torch

    x = torch.randn(100, 3, dtype=torch.float32)
    stats = feature_stats(x)
    assert stats.mu.dtype == np.float64 and stats.sigma.dtype == np.float64 and stats.n == 100
    np.testing.assert_allclose(stats.sigma, np.cov(x.double().numpy(), rowvar=False), rtol=1e-10)


def test_bad_inputs_are_named():
    with pytest.raises(ValueError, match="feature dimensions differ"):
        frechet_distance(np.zeros((5, 3)), np.zeros((5, 4)))
    with pytest.raises(ValueError, match="features must be a 2-D array"):
        frechet_distance(np.zeros(5), np.zeros(5))
    with pytest.raises(ValueError, match="NaN"):
        feature_stats(np.full((4, 2), np.nan))
