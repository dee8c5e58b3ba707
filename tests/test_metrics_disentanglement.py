import numpy as np
import pytest

from ganstudio.metrics import dci, mig


@pytest.fixture(scope="module")
def factors():
    return np.random.default_rng(0).uniform(size=(1500, 4))


@pytest.fixture(scope="module")
def mixing():
    q, _ = np.linalg.qr(np.random.default_rng(1).normal(size=(4, 4)))
    return q


def test_dci_is_near_one_for_an_identity_code(factors):
    for regressor, n in (("lasso", 1500), ("gbt", 400)):
        result = dci(factors[:n], factors[:n], regressor=regressor)
        assert result.disentanglement > 0.95 and result.completeness > 0.95, regressor
        assert result.informativeness > 0.95 and result.importance.shape == (4, 4)


def test_dci_is_low_for_a_random_mixing_but_still_informative(factors, mixing):
    result = dci(factors @ mixing, factors)
    assert result.disentanglement < 0.5 and result.completeness < 0.5
    assert result.informativeness > 0.95  # the code still holds every factor, just entangled


def test_dci_survives_a_permutation_and_scaling_of_code_units(factors):
    code = factors[:, [2, 0, 3, 1]] * np.array([5.0, -0.1, 2.0, 30.0])
    result = dci(code, factors)
    assert result.disentanglement > 0.95 and result.completeness > 0.95


def test_mig_high_for_identity_low_for_mixing(factors, mixing):
    assert mig(factors, factors).mig > 0.9
    assert mig(factors @ mixing, factors).mig < 0.35


def test_mig_keeps_discrete_factors_and_skips_constant_ones(factors):
    labels = (factors[:, :1] > 0.5).astype(float)
    both = np.concatenate([labels, np.zeros((len(labels), 1))], 1)
    result = mig(np.concatenate([labels, factors[:, 1:3]], 1), both)
    assert result.per_factor[0] == pytest.approx(1.0, abs=0.02) and result.per_factor[1] is None
    with pytest.raises(ValueError, match="unknown DCI regressor"):
        dci(factors, factors, regressor="forest")
