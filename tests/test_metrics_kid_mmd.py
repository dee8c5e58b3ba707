import numpy as np
import pytest
import torch

from ganstudio.metrics import gaussian_mmd, kid
from ganstudio.metrics.mmd import kernel_sum, mmd2_unbiased


def _naive_unbiased_mmd2(x, y, k):
    m, n = len(x), len(y)
    xx = sum(k(x[i], x[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    yy = sum(k(y[i], y[j]) for i in range(n) for j in range(n) if i != j) / (n * (n - 1))
    xy = sum(k(x[i], y[j]) for i in range(m) for j in range(n)) / (m * n)
    return xx + yy - 2 * xy


def test_kid_equals_a_direct_unbiased_mmd_with_the_cubic_kernel():
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(30, 5)), rng.normal(size=(30, 5)) * 1.3 + 0.4

    def cubic(a, b):
        return (a @ b / 5 + 1) ** 3

    expected = _naive_unbiased_mmd2(x, y, cubic)
    # One subset holding every point: KID is exactly the unbiased MMD² (order does not matter).
    result = kid(x, y, subsets=1, subset_size=30)
    assert result.mean == pytest.approx(expected, rel=1e-5)
    assert result.std == 0.0 and result.subset_size == 30


def test_kid_subsets_are_seeded_shrink_to_the_data_and_separate_distributions():
    rng = np.random.default_rng(1)
    x, same, shifted = rng.normal(size=(300, 8)), rng.normal(size=(300, 8)), rng.normal(size=(300, 8)) + 0.5
    a, b = kid(x, shifted, subsets=20, subset_size=1000, seed=3), kid(x, shifted, subsets=20, subset_size=1000, seed=3)
    assert a == b and a.subset_size == 150  # half the data, so the rounds differ
    assert kid(x, shifted, subsets=20, subset_size=100).subset_size == 100
    near = kid(x, same, subsets=20, subset_size=100)
    far = kid(x, shifted, subsets=20, subset_size=100)
    assert abs(near.mean) < 3 * near.std + 1e-3
    assert far.mean > 10 * near.std and far.std > 0


def test_gaussian_mmd_equals_direct_computation_per_bandwidth():
    rng = np.random.default_rng(2)
    x, y = rng.normal(size=(25, 2)), rng.normal(size=(20, 2)) + 0.7
    result = gaussian_mmd(x, y, bandwidths=[0.5, 2.0])
    for s in (0.5, 2.0):
        expected = _naive_unbiased_mmd2(x, y, lambda a, b: np.exp(-np.sum((a - b) ** 2) / (2 * s * s)))
        assert result.per_bandwidth[s] == pytest.approx(expected, rel=1e-9)
    assert result.mmd2 == pytest.approx(sum(result.per_bandwidth.values()))


def test_gaussian_mmd_default_bandwidths_follow_the_reference_set():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(400, 2))
    same, far = gaussian_mmd(x, rng.normal(size=(400, 2))), gaussian_mmd(x, rng.normal(size=(400, 2)) * 0.2 + 2)
    assert len(same.per_bandwidth) == 5
    assert abs(same.mmd2) < 0.02 < far.mmd2
    # The kernel is fixed by the reference set, so scores of different models are comparable.
    assert far.per_bandwidth.keys() == same.per_bandwidth.keys()


def test_blocked_kernel_sums_match_one_block():
    gen = torch.Generator().manual_seed(4)
    x, y = torch.randn(37, 3, generator=gen, dtype=torch.float64), torch.randn(23, 3, generator=gen, dtype=torch.float64)

    def kernel(a, b):
        return torch.exp(-((a[:, None] - b[None]) ** 2).sum(-1))

    naive = sum(float(kernel(x[i:i + 1], x[j:j + 1])) for i in range(37) for j in range(37) if i != j)
    assert float(kernel_sum(x, x, kernel, True)) == pytest.approx(naive)
    assert float(kernel_sum(x, x, kernel, True, block_rows=5)) == pytest.approx(naive)
    assert float(mmd2_unbiased(x, y, kernel, block_rows=4)) == pytest.approx(float(mmd2_unbiased(x, y, kernel)))
