"""How well a learned code separates known generative factors (e.g. SynthFaces' ground
truth), with scikit-learn doing the regression and the mutual information.

DCI (Eastwood & Williams, 2018): regress each factor v_j on the code c with a regressor
that exposes feature importances (Lasso: |coef|; gradient-boosted trees: impurity
importances) and collect R[i, j] = importance of code unit i for factor j.

- disentanglement: each code unit should matter to one factor:
  D_i = 1 - H_K(R[i, :] / Σ_j R[i, j]), averaged with weights Σ_j R[i, j] / Σ R;
- completeness: each factor should be captured by one code unit:
  C_j = 1 - H_L(R[:, j] / Σ_i R[i, j]), averaged with weights Σ_i R[i, j] / Σ R;
- informativeness: mean held-out R² of the regressors (1 = the code predicts every factor).

H_K is the entropy with logarithm base K (the number of factors), so each score is in [0, 1].

MIG (Chen et al., 2018): for each factor, the gap between the two code units with the
largest mutual information with it, divided by the factor's entropy; averaged over
factors. Continuous values are put in `bins` equal-width bins; a factor with at most
`bins` distinct values is used as it is.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._arrays import as_float64

REGRESSORS = ("lasso", "gbt")


@dataclass(frozen=True)
class DCIResult:
    disentanglement: float
    completeness: float
    informativeness: float
    importance: np.ndarray  # [code units, factors]
    regressor: str

    def to_json(self) -> dict:
        return {"disentanglement": self.disentanglement, "completeness": self.completeness,
                "informativeness": self.informativeness, "regressor": self.regressor}


def _one_minus_entropy(p: np.ndarray, base: int) -> np.ndarray:
    """1 - H(p) / log(base) along the last axis (p rows sum to 1)."""
    if base < 2:
        return np.ones(p.shape[:-1])
    with np.errstate(divide="ignore", invalid="ignore"):
        h = -np.sum(np.where(p > 0, p * np.log(p), 0.0), axis=-1) / np.log(base)
    return 1.0 - h


def _standardise(train: np.ndarray, test: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    mean, std = train.mean(0), train.std(0)
    std = np.where(std > 0, std, 1.0)
    return (train - mean) / std, (test - mean) / std


def _regressor(kind: str, seed: int, alpha: float):
    if kind == "lasso":
        from sklearn.linear_model import Lasso

        return Lasso(alpha=alpha, max_iter=5000)
    if kind == "gbt":
        from sklearn.ensemble import GradientBoostingRegressor

        return GradientBoostingRegressor(n_estimators=50, max_depth=3, random_state=seed)
    raise ValueError(f"unknown DCI regressor '{kind}'; known: {', '.join(REGRESSORS)}")


def dci(codes, factors, regressor: str = "lasso", test_fraction: float = 0.3, seed: int = 0,
        alpha: float = 0.02) -> DCIResult:
    """DCI scores of `codes` [N, L] against ground-truth `factors` [N, K]."""
    c, v = as_float64(codes, "codes"), as_float64(factors, "factors")
    if len(c) != len(v):
        raise ValueError(f"codes and factors must pair up: {len(c)} vs {len(v)} rows")
    if not 0 < test_fraction < 1:
        raise ValueError(f"test_fraction must be between 0 and 1, got {test_fraction}")
    order = np.random.default_rng(seed).permutation(len(c))
    n_test = max(1, int(round(len(c) * test_fraction)))
    test, train = order[:n_test], order[n_test:]
    if len(train) < 2:
        raise ValueError(f"too few samples for DCI: {len(c)}")
    c_train, c_test = _standardise(c[train], c[test])
    v_train, v_test = _standardise(v[train], v[test])
    n_codes, n_factors = c.shape[1], v.shape[1]
    importance = np.zeros((n_codes, n_factors))
    scores = []
    for j in range(n_factors):
        model = _regressor(regressor, seed, alpha).fit(c_train, v_train[:, j])
        importance[:, j] = np.abs(model.coef_) if regressor == "lasso" else model.feature_importances_
        scores.append(model.score(c_test, v_test[:, j]) if np.std(v_test[:, j]) > 0 else 1.0)
    total = importance.sum()
    if total <= 0:
        return DCIResult(0.0, 0.0, float(np.mean(scores)), importance, regressor)
    code_w = importance.sum(1) / total
    factor_w = importance.sum(0) / total
    with np.errstate(divide="ignore", invalid="ignore"):
        p_codes = np.nan_to_num(importance / importance.sum(1, keepdims=True))
        p_factors = np.nan_to_num((importance / importance.sum(0, keepdims=True)).T)
    d = float(np.sum(code_w * _one_minus_entropy(p_codes, n_factors)))
    comp = float(np.sum(factor_w * _one_minus_entropy(p_factors, n_codes)))
    return DCIResult(d, comp, float(np.mean(scores)), importance, regressor)


def _discretise(column: np.ndarray, bins: int) -> np.ndarray:
    values = np.unique(column)
    if len(values) <= bins:
        return np.searchsorted(values, column)
    edges = np.histogram_bin_edges(column, bins=bins)
    return np.digitize(column, edges[1:-1])


@dataclass(frozen=True)
class MIGResult:
    mig: float
    per_factor: tuple[float | None, ...]  # None for a constant factor

    def to_json(self) -> dict:
        return {"mig": self.mig, "per_factor": list(self.per_factor)}


def mig(codes, factors, bins: int = 20) -> MIGResult:
    """Mutual information gap of `codes` [N, L] (L >= 2) against `factors` [N, K]."""
    from sklearn.metrics import mutual_info_score

    c, v = as_float64(codes, "codes"), as_float64(factors, "factors")
    if len(c) != len(v):
        raise ValueError(f"codes and factors must pair up: {len(c)} vs {len(v)} rows")
    if c.shape[1] < 2:
        raise ValueError("MIG needs at least 2 code units (it is a gap between the best two)")
    c_bins = [_discretise(c[:, i], bins) for i in range(c.shape[1])]
    gaps = []
    for j in range(v.shape[1]):
        factor = _discretise(v[:, j], bins)
        entropy = mutual_info_score(factor, factor)
        if entropy <= 0:
            gaps.append(None)  # a constant factor carries no information to capture
            continue
        mi = np.sort([mutual_info_score(factor, code) for code in c_bins])[::-1]
        gaps.append(float((mi[0] - mi[1]) / entropy))
    defined = [g for g in gaps if g is not None]
    if not defined:
        raise ValueError("every factor is constant; MIG is undefined")
    return MIGResult(float(np.mean(defined)), tuple(gaps))
