"""Thin-file inclusion: behaviour features measured where the bureau cannot vouch."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ml.features import select_features
from ml.fitting import build_model
from ml.inclusion import approval_at_bad_rate, groups_of, measure_inclusion
from ml.models import LIGHTGBM, LR_SCORECARD
from ml.split import split_out_of_time


def test_approval_stops_where_the_observed_bad_rate_passes_the_limit() -> None:
    y = np.array([0, 0, 1, 0, 1, 1])
    pd_hat = np.arange(6) / 10  # already safest first
    # bad rates of the first k: 0, 0, 1/3, 1/4, 2/5, 1/2
    assert approval_at_bad_rate(y, pd_hat, 0.25) == pytest.approx(4 / 6, abs=1e-4)
    assert approval_at_bad_rate(y, pd_hat, 0.0) == pytest.approx(2 / 6, abs=1e-4)
    assert approval_at_bad_rate(y[::-1], pd_hat, 0.0) == 0.0  # the safest-looking one is bad
    assert approval_at_bad_rate(np.array([]), np.array([]), 0.1) == 0.0


def _population(n_per_month: int = 500, seed: int = 3) -> pd.DataFrame:
    """Bureau score sorts risk for bureau customers; `night_share` (behaviour) for everyone."""
    rng = np.random.default_rng(seed)
    months = pd.period_range("2024-07", "2025-04", freq="M")
    n = n_per_month * len(months)
    has_bureau = rng.random(n) < 0.6
    score = np.where(has_bureau, rng.normal(600, 60, n), np.nan)
    night = rng.beta(2, 8, n)
    logit = -1.8 + np.where(has_bureau, -0.02 * (np.nan_to_num(score, nan=600) - 600), 0.5)
    logit = logit + 8 * (night - 0.2)
    return pd.DataFrame(
        {
            "application_month": np.repeat([str(m) for m in months], n_per_month),
            "has_bureau_report": has_bureau,
            "bureau_score": score,
            "night_share": night,
            "is_new_citizen": rng.random(n) < 0.2,
            "is_bad": (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int),
        }
    )


def test_behaviour_features_lift_the_thin_file_group_most() -> None:
    frame = _population()
    y = frame["is_bad"].to_numpy()
    data = split_out_of_time(frame, y, select_features(frame, None))
    inclusion = measure_inclusion(data, LR_SCORECARD, {"night_share"}, seed=1)
    by_group = {g.group: g for g in inclusion.groups}
    assert inclusion.removed == ["night_share"]
    assert set(by_group) == {"all", "thin_file", "new_citizen"}
    assert by_group["all"].rows == len(data.y_oot)
    assert by_group["thin_file"].rows == int((~data.x_oot["has_bureau_report"]).sum())
    assert by_group["thin_file"].bads == int(data.y_oot[~data.x_oot["has_bureau_report"]].sum())
    # Without behaviour, nothing sorts thin-file risk: an AUC of about 0.5 and no approvals
    # under a 10% bad rate; with it, a real AUC and some approvals.
    thin = by_group["thin_file"]
    assert thin.auc_without_behaviour < 0.56 < 0.7 < thin.auc_with_behaviour
    assert thin.auc_lift > by_group["all"].auc_lift > 0
    assert thin.approval_with_behaviour > thin.approval_without_behaviour


def test_groups_are_left_out_when_their_column_is_missing() -> None:
    assert set(groups_of(pd.DataFrame({"x": [1, 2]}))) == {"all"}


@pytest.mark.parametrize("family", [LR_SCORECARD, LIGHTGBM])
def test_the_runs_own_fit_stands_in_for_the_refit_with_behaviour(family: str) -> None:
    """Fitting is deterministic, so the training run's PDs give the table a refit would."""
    frame = _population()
    data = split_out_of_time(frame, frame["is_bad"].to_numpy(), select_features(frame, None))
    own = build_model(family, data.x_train, data.y_train, data.selection.spec, seed=1)
    given = measure_inclusion(
        data, family, {"night_share"}, seed=1, with_behaviour=own.predict_pd(data.x_oot)
    )
    assert given == measure_inclusion(data, family, {"night_share"}, seed=1)
