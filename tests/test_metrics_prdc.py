import sys

import numpy as np
import pytest
import torch

from ganstudio.metrics import prdc
from ganstudio.metrics.prdc import knn_radii

prdc_module = sys.modules["ganstudio.metrics.prdc"]  # the function `prdc` shadows the module name


def test_identical_sets_are_perfect():
    x = np.random.default_rng(0).normal(size=(200, 6))
    r = prdc(x, x, k=5)
    assert r.precision == 1.0 and r.recall == 1.0 and r.coverage == 1.0
    # Each ball holds its centre and k neighbours: (k + 1) / k, up to float rounding at the boundary.
    assert r.density == pytest.approx(1.2, abs=0.01)


def test_disjoint_far_sets_score_zero():
    rng = np.random.default_rng(1)
    r = prdc(rng.normal(size=(100, 4)), rng.normal(size=(120, 4)) + 50, k=3)
    assert (r.precision, r.recall, r.density, r.coverage) == (0.0, 0.0, 0.0, 0.0)


def test_collapsed_samples_are_precise_but_do_not_recall():
    rng = np.random.default_rng(2)
    centres = np.array([[0.0, 0.0], [10.0, 0.0]])
    real = np.concatenate([c + rng.normal(size=(300, 2)) for c in centres])
    collapsed = centres[0] + rng.normal(size=(300, 2))  # only the first mode
    r = prdc(real, collapsed, k=5)
    assert r.precision > 0.9
    assert 0.4 < r.recall < 0.6 and 0.4 < r.coverage < 0.6


def test_blocked_computation_matches_one_block(monkeypatch):
    rng = np.random.default_rng(3)
    real, fake = rng.normal(size=(150, 5)), rng.normal(size=(130, 5)) * 1.2
    whole = prdc(real, fake, k=3)
    monkeypatch.setattr(prdc_module, "_BLOCK_ELEMENTS", 700)  # a few rows per block
    assert prdc(real, fake, k=3) == whole


def test_knn_radii_skip_the_point_itself():
    points = torch.tensor([[0.0], [1.0], [3.0], [7.0]])
    assert knn_radii(points, 1).tolist() == [1.0, 1.0, 2.0, 4.0]
    assert knn_radii(points, 2).tolist() == [3.0, 2.0, 3.0, 6.0]
    with pytest.raises(ValueError, match="need more than 4 points"):
        knn_radii(points, 4)
