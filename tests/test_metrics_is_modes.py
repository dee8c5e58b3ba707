import numpy as np
import pytest

from ganstudio.metrics import inception_score, mode_counts, mode_stats


def test_inception_score_uniform_is_one_and_confident_varied_is_the_class_count():
    assert inception_score(np.full((100, 10), 0.1), splits=5).mean == pytest.approx(1.0)
    one_hot = np.eye(10)[np.arange(200) % 10]
    result = inception_score(one_hot, splits=4)
    assert result.mean == pytest.approx(10.0, rel=1e-6) and result.std == pytest.approx(0.0, abs=1e-6)
    # confident but always the same class: no variety, score 1
    assert inception_score(np.eye(10)[np.zeros(50, dtype=int)], splits=1).mean == pytest.approx(1.0)


def test_inception_score_refuses_logits():
    with pytest.raises(ValueError, match="softmax"):
        inception_score(np.random.default_rng(0).normal(size=(20, 5)))
    with pytest.raises(ValueError, match="splits"):
        inception_score(np.full((3, 2), 0.5), splits=4)


def _ring(k=8, radius=2.0):
    angles = 2 * np.pi * np.arange(k) / k
    return np.stack([radius * np.cos(angles), radius * np.sin(angles)], 1)


def _disc(rng, centre, n, radius):
    angle, r = rng.uniform(0, 2 * np.pi, n), radius * np.sqrt(rng.uniform(0, 1, n))
    return centre + np.stack([r * np.cos(angle), r * np.sin(angle)], 1)


def test_mode_coverage_and_hq_rate_on_known_samples():
    rng = np.random.default_rng(0)
    centres, std = _ring(), 0.02
    # 3 modes get 100 samples within 2.9 std, one mode only 5, plus 100 points 3.5 to 4 std away
    parts = [_disc(rng, centres[i], 100, 2.9 * std) for i in range(3)] + [_disc(rng, centres[3], 5, 2.9 * std)]
    angle = rng.uniform(0, 2 * np.pi, 100)
    parts.append(centres[5] + rng.uniform(3.5, 4, (100, 1)) * std * np.stack([np.cos(angle), np.sin(angle)], 1))
    stats = mode_stats(np.concatenate(parts), centres, std)
    assert stats.modes == 8
    assert stats.counts[:4] == (100, 100, 100, 5) and sum(stats.counts) == 305
    assert stats.hq_rate == pytest.approx(305 / 405)
    assert stats.min_count == round(0.2 * 405 / 8)  # 10: mode 3 with 5 samples is not covered
    assert stats.covered == 3 and stats.reached == 4  # PacGAN's count: any high-quality sample
    assert mode_stats(np.concatenate(parts), centres, std, min_count=1).covered == 4
    # KL(HQ samples over modes || uniform weights): 0 for a perfect spread, large for this collapse
    q = np.array([100, 100, 100, 5]) / 305
    assert stats.kl_modes == pytest.approx(float(np.sum(q * np.log(q * 8))))


def test_a_perfect_sampler_covers_every_mode():
    rng = np.random.default_rng(1)
    centres, std = _ring(), 0.05
    samples = centres[rng.integers(0, 8, 2500)] + rng.normal(size=(2500, 2)) * std
    stats = mode_stats(samples, centres, std)
    assert stats.covered == 8 and stats.hq_rate > 0.98 and stats.kl_modes < 0.01


def test_mode_counts_take_a_data_sets_own_assignment():
    nearest, hq = np.array([0, 0, 1, 1, 1, 2]), np.array([True, True, True, False, True, False])
    stats = mode_counts(nearest, hq, modes=4, min_count=2)
    assert stats.counts == (2, 2, 0, 0) and stats.covered == 2 and stats.hq_rate == pytest.approx(4 / 6)
    with pytest.raises(ValueError, match="mode indices must lie in 0..1"):
        mode_counts(nearest, hq, modes=2)
