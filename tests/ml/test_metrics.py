"""ml.metrics against independent implementations (scikit-learn, SciPy) and hand computations."""

from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd
import pytest
from scipy.stats import ks_2samp
from sklearn.metrics import roc_auc_score, roc_curve

from ml import metrics


def _sample(n: int, seed: int, signal: float, decimals: int | None) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.25).astype(int)
    risk = rng.normal(size=n) + signal * y
    if decimals is not None:
        risk = risk.round(decimals)  # many ties, as a points scorecard produces
    return y, risk


@pytest.mark.parametrize(
    ("n", "seed", "signal", "decimals"),
    [(50, 1, 1.0, None), (500, 2, 0.5, 1), (2000, 3, 2.0, 0), (300, 4, -0.7, None)],
)
def test_auc_gini_and_roc_match_sklearn(n, seed, signal, decimals) -> None:
    y, risk = _sample(n, seed, signal, decimals)
    expected_auc = roc_auc_score(y, risk)
    assert metrics.auc(y, risk) == pytest.approx(expected_auc, abs=1e-12)
    assert metrics.gini(y, risk) == pytest.approx(2 * expected_auc - 1, abs=1e-12)
    fpr, tpr, _ = roc_curve(y, risk, drop_intermediate=False)
    points = metrics.roc_points(y, risk)
    np.testing.assert_allclose(points["fpr"], fpr, atol=1e-12)
    np.testing.assert_allclose(points["tpr"], tpr, atol=1e-12)


@pytest.mark.parametrize(("seed", "signal", "decimals"), [(5, 1.0, None), (6, 0.8, 1), (7, 3, 0)])
def test_ks_matches_scipy_two_sample_statistic(seed, signal, decimals) -> None:
    y, risk = _sample(800, seed, signal, decimals)
    expected = ks_2samp(risk[y == 1], risk[y == 0]).statistic
    assert metrics.ks(y, risk) == pytest.approx(expected, abs=1e-12)


def test_ks_is_largest_tpr_minus_fpr_by_hand() -> None:
    # risk order: bad, good, bad, good → after 1st: tpr .5 fpr 0 → KS .5
    assert metrics.ks([1, 0, 1, 0], [0.9, 0.8, 0.7, 0.1]) == pytest.approx(0.5)
    assert metrics.auc([1, 0, 1, 0], [0.9, 0.8, 0.7, 0.1]) == pytest.approx(0.75)


def test_discrimination_bundles_the_three() -> None:
    y, risk = _sample(400, 8, 1.0, None)
    result = metrics.discrimination(y, risk)
    assert result == {
        "auc": pytest.approx(roc_auc_score(y, risk)),
        "ks": pytest.approx(ks_2samp(risk[y == 1], risk[y == 0]).statistic),
        "gini": pytest.approx(2 * roc_auc_score(y, risk) - 1),
    }


@pytest.mark.parametrize(
    ("y", "risk", "message"),
    [
        ([0, 0, 0], [0.1, 0.2, 0.3], "both classes"),
        ([0, 1], [0.1], "2 labels but 1"),
        ([0, 2], [0.1, 0.2], "0 (good) or 1 (bad)"),
        ([0, 1], [0.1, float("nan")], "NaN"),
        ([], [], "no rows"),
    ],
)
def test_bad_inputs_give_clear_errors(y, risk, message) -> None:
    with pytest.raises(metrics.MetricInputError, match=re.escape(message)):
        metrics.auc(y, risk)


def test_decile_table_counts_rates_and_cumulative_shares_by_hand() -> None:
    # 10 rows, 5 bands of 2; riskiest first: pd 1.0..0.1, bads at pd 1.0, 0.9, 0.6, 0.2
    pd_hat = np.linspace(1.0, 0.1, 10)
    y = np.array([1, 1, 0, 0, 1, 0, 0, 0, 1, 0])
    table = metrics.decile_table(y, pd_hat, n_bins=5)
    assert table["band"].tolist() == [1, 2, 3, 4, 5]
    assert table["rows"].tolist() == [2, 2, 2, 2, 2]
    assert table["bads"].tolist() == [2, 0, 1, 0, 1]
    assert table["bad_rate"].tolist() == [1.0, 0.0, 0.5, 0.0, 0.5]
    np.testing.assert_allclose(table["mean_pd"], [0.95, 0.75, 0.55, 0.35, 0.15])
    np.testing.assert_allclose(table["cum_bad_share"], [0.5, 0.5, 0.75, 0.75, 1.0])
    np.testing.assert_allclose(table["cum_good_share"], [0, 2 / 6, 3 / 6, 5 / 6, 1.0])
    np.testing.assert_allclose(table["lift"], [2.5, 0.0, 1.25, 0.0, 1.25])


def test_decile_table_max_ks_never_exceeds_the_ks_statistic() -> None:
    y, risk = _sample(1000, 9, 1.2, None)
    p = 1 / (1 + np.exp(-risk))
    table = metrics.decile_table(y, p)
    assert len(table) == 10 and table["rows"].sum() == 1000
    assert table["ks"].max() <= metrics.ks(y, p) + 1e-12


def test_psi_by_hand() -> None:
    # Reference [1, 2, 3, 4] split at its median 2.5 into halves; actual [1, 1, 1, 4] = 75/25.
    expected = 0.25 * math.log(1.5) + 0.25 * math.log(2.0)
    assert metrics.psi([1, 2, 3, 4], [1, 1, 1, 4], n_bins=2) == pytest.approx(expected)
    table = metrics.psi_table([1, 2, 3, 4], [1, 1, 1, 4], n_bins=2)
    assert table["expected_share"].tolist() == [0.5, 0.5]
    assert table["actual_share"].tolist() == [0.75, 0.25]


def test_psi_is_zero_for_the_same_distribution_and_large_for_a_shift() -> None:
    rng = np.random.default_rng(10)
    reference = rng.normal(size=5000)
    assert metrics.psi(reference, reference) == pytest.approx(0.0)
    shifted = metrics.psi(reference, reference + 1.0)
    # Independent computation of the same quantity with pandas.qcut bins.
    edges = np.quantile(reference, np.linspace(0, 1, 11))
    edges[0], edges[-1] = -np.inf, np.inf
    e = pd.Series(pd.cut(reference, edges)).value_counts(normalize=True, sort=False).to_numpy()
    a = pd.Series(pd.cut(reference + 1, edges)).value_counts(normalize=True, sort=False).to_numpy()
    a, e = np.maximum(a, 1e-4), np.maximum(e, 1e-4)
    assert shifted == pytest.approx(float(np.sum((a - e) * np.log(a / e))))
    assert shifted > 0.25


@pytest.mark.parametrize(
    ("value", "status"),
    [(0.0, "stable"), (0.0999, "stable"), (0.10, "watch"), (0.25, "watch"), (0.2501, "act")],
)
def test_psi_status_uses_the_configured_cut_offs(value, status, monkeypatch) -> None:
    from creditlake.settings import get_settings

    settings = get_settings()
    assert metrics.psi_status(value, watch=settings.psi_watch, act=settings.psi_act) == status


def test_psi_status_follows_changed_settings(monkeypatch) -> None:
    from creditlake.settings import get_settings

    monkeypatch.setenv("CREDITLAKE_PSI_WATCH", "0.05")
    monkeypatch.setenv("CREDITLAKE_PSI_ACT", "0.15")
    settings = get_settings()
    assert metrics.psi_status(0.07, watch=settings.psi_watch, act=settings.psi_act) == "watch"
    assert metrics.psi_status(0.2, watch=settings.psi_watch, act=settings.psi_act) == "act"
    with pytest.raises(metrics.MetricInputError, match="watch <= act"):
        metrics.psi_status(0.2, watch=0.3, act=0.1)
