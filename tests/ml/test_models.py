"""ml.models: both builders on data with a known signal, the shared score scale, the wrapper."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from ml.fitting import build_lightgbm, build_model, build_scorecard
from ml.models import (
    LIGHTGBM,
    LR_SCORECARD,
    SCORE_SCALE,
    FeatureError,
    FeatureSpec,
    ScoreScale,
)
from ml.serving import CreditPDModel, conform_to_schema

FEATURES = [
    "age_at_application_years",
    "bureau_score",
    "inquiries_6m_count",
    "monthly_income_cny",
    "channel",
    "city",
    "has_bureau_report",
    "noise",
]


@pytest.fixture(scope="module")
def split(
    training_set: pd.DataFrame,
) -> tuple[pd.DataFrame, np.ndarray, pd.DataFrame, np.ndarray, FeatureSpec]:
    training = training_set
    frame = training[FEATURES]
    y = training["is_bad"].to_numpy()
    spec = FeatureSpec.infer(frame)
    return frame.iloc[:1800], y[:1800], frame.iloc[1800:], y[1800:], spec


@pytest.fixture(scope="module")
def fitted(split) -> dict:
    x_train, y_train, _, _, spec = split
    return {
        family: build_model(family, x_train, y_train, spec) for family in (LR_SCORECARD, LIGHTGBM)
    }


def test_feature_spec_types_columns_and_refuses_dates() -> None:
    frame = pd.DataFrame(
        {"n": [1, 2], "b": [True, False], "c": ["x", None], "t": pd.to_datetime(["2024-01-01"] * 2)}
    )
    spec = FeatureSpec.infer(frame, ["n", "b", "c"])
    assert spec == FeatureSpec(numeric=("n", "b"), categorical=("c",))
    prepared = spec.prepare(frame)
    assert prepared["n"].dtype == "float64" and prepared["b"].tolist() == [1.0, 0.0]
    assert prepared["c"].isna().tolist() == [False, True]
    with pytest.raises(FeatureError, match=r"t \(datetime64"):
        FeatureSpec.infer(frame)
    with pytest.raises(FeatureError, match="lacks feature columns: c"):
        spec.prepare(frame[["n", "b"]])


def test_score_scale_anchors_600_at_50_to_1_and_20_points_per_doubling() -> None:
    pd_at_50_to_1 = 1 / 51
    assert SCORE_SCALE.score(np.array([pd_at_50_to_1]))[0] == pytest.approx(600.0)
    pd_at_100_to_1 = 1 / 101
    assert SCORE_SCALE.score(np.array([pd_at_100_to_1]))[0] == pytest.approx(620.0)
    assert SCORE_SCALE.offset == pytest.approx(600 - 20 / math.log(2) * math.log(50))
    assert np.isfinite(SCORE_SCALE.score(np.array([0.0, 1.0]))).all()
    assert ScoreScale(pdo=40).score(np.array([1 / 101]))[0] == pytest.approx(640.0)


@pytest.mark.parametrize("family", [LR_SCORECARD, LIGHTGBM])
def test_builders_learn_the_known_signal(family, fitted, split, true_logit) -> None:
    _, _, x_test, y_test, _ = split
    model = fitted[family]
    predicted = model.predict_pd(x_test)
    achievable = roc_auc_score(y_test, true_logit(x_test))  # the data-generating model's AUC
    assert roc_auc_score(y_test, predicted) > 0.7
    assert roc_auc_score(y_test, predicted) > achievable - 0.08
    assert ((predicted > 0) & (predicted < 1)).all()


@pytest.mark.parametrize("family", [LR_SCORECARD, LIGHTGBM])
def test_wrapper_returns_pd_and_a_score_monotone_in_pd(family, fitted, split) -> None:
    _, _, x_test, _, _ = split
    output = CreditPDModel(fitted[family]).predict(None, x_test)
    assert list(output.columns) == ["pd", "score", "reasons"]
    assert output.index.equals(x_test.index)
    ordered = output.sort_values("pd")
    assert (np.diff(ordered["score"].to_numpy()) <= 1e-9).all()
    expected = 487.1228762045055 + 28.85390081777927 * np.log((1 - output["pd"]) / output["pd"])
    np.testing.assert_allclose(output["score"], expected, rtol=1e-12)


@pytest.mark.parametrize("family", [LR_SCORECARD, LIGHTGBM])
def test_contributions_add_up_to_the_log_odds_and_name_the_real_risks(
    family, fitted, split
) -> None:
    """Contributions explain the prediction exactly (up to a constant per model), and the adverse
    factors of the riskiest rows are the features the data-generating model uses, not noise."""
    _, _, x_test, _, _ = split
    model = fitted[family]
    contributions = model.risk_contributions(x_test)
    log_odds = np.log(model.predict_pd(x_test) / (1 - model.predict_pd(x_test)))
    offset = log_odds - contributions.sum(axis=1).to_numpy()
    np.testing.assert_allclose(offset, offset[0], atol=1e-6)
    if family == LR_SCORECARD:
        assert (contributions.to_numpy() >= -1e-9).all()  # against each variable's safest bin
    riskiest = x_test.iloc[np.argsort(-log_odds)[:30]]
    factors = model.adverse_factors(riskiest)
    assert all(1 <= len(f) <= 3 for f in factors)
    real = {"bureau_score", "inquiries_6m_count", "channel", "monthly_income_cny"}
    assert sum(f[0] in real for f in factors) >= 27
    served = CreditPDModel(model).predict(None, riskiest)["reasons"]
    assert served.tolist() == [";".join(f) for f in factors]


def test_scorecard_points_add_up_to_the_served_score(fitted, split) -> None:
    _, _, x_test, _, spec = split
    model = fitted[LR_SCORECARD]
    served = CreditPDModel(model).predict(None, x_test)["score"].to_numpy()
    points = model.estimator.score(spec.prepare(x_test))  # optbinning's own points table
    np.testing.assert_allclose(served, points, atol=1e-6)
    table = model.points_table()
    assert {"Variable", "Bin", "WoE", "IV", "Points"} <= set(table.columns)
    assert "bureau_score" in model.details["selected_features"]


def test_lightgbm_is_deterministic_and_copes_with_unseen_categories(fitted, split) -> None:
    x_train, y_train, x_test, _, spec = split
    again = build_lightgbm(x_train, y_train, spec)
    np.testing.assert_array_equal(again.predict_pd(x_test), fitted[LIGHTGBM].predict_pd(x_test))
    assert again.details["best_iteration"] >= 1
    odd = x_test.head(3).assign(channel=["never-seen", None, "app"])
    assert np.isfinite(again.predict_pd(odd)).all()


def test_grouped_inner_folds_keep_a_units_recurring_rows_out_of_its_own_validation() -> None:
    """Rows that recur for one unit, labelled alike and told apart only by a unit-level noise
    value: random folds validate on copies of training rows and read a signal that is not there;
    folds that keep each unit whole read none, and stop boosting early."""
    rng = np.random.default_rng(3)
    units, months = 400, 6
    unit_noise = rng.normal(size=units)
    unit_label = (rng.random(units) < 0.3).astype(int)
    frame = pd.DataFrame(
        {
            "unit_noise": np.repeat(unit_noise, months),
            "month_noise": rng.normal(size=units * months),
        }
    )
    labels = np.repeat(unit_label, months)
    groups = np.repeat(np.arange(units), months)
    spec = FeatureSpec.infer(frame)
    random_folds = build_lightgbm(frame, labels, spec, inner_folds=3)
    grouped = build_lightgbm(frame, labels, spec, inner_folds=3, groups=groups)
    assert random_folds.details["inner_cv_valid_auc"] > 0.7
    assert grouped.details["inner_cv_valid_auc"] < 0.62
    assert grouped.details["inner_cv_grouped"] is True
    assert grouped.details["best_iteration"] < random_folds.details["best_iteration"]


def test_scorecard_on_pure_noise_keeps_all_variables_instead_of_failing() -> None:
    rng = np.random.default_rng(0)
    noise = pd.DataFrame({"a": rng.normal(size=600), "b": rng.choice(["x", "y"], size=600)})
    labels = (rng.random(600) < 0.3).astype(int)
    model = build_scorecard(noise, labels, FeatureSpec.infer(noise), min_iv=0.5)
    assert model.details["iv_selection_fallback"] is True
    assert sorted(model.details["selected_features"]) == ["a", "b"]


def test_labels_must_have_both_classes(split) -> None:
    x_train, _, _, _, spec = split
    with pytest.raises(FeatureError, match="both values"):
        build_lightgbm(x_train, np.zeros(len(x_train)), spec)


def test_signature_and_conform_to_schema(split) -> None:
    _, _, x_test, _, spec = split
    schema = spec.signature().inputs
    assert schema.input_names() == spec.columns
    raw = x_test.assign(age_at_application_years=x_test["age_at_application_years"].astype("int64"))
    conformed = conform_to_schema(raw.assign(extra=1), schema)
    assert list(conformed.columns) == spec.columns
    assert conformed["age_at_application_years"].dtype == "float64"
    assert conformed["has_bureau_report"].dtype == "float64"
    with pytest.raises(FeatureError, match="lacks: bureau_score"):
        conform_to_schema(raw.drop(columns="bureau_score"), schema)


def test_typical_row_is_synthetic(split) -> None:
    x_train, _, _, _, spec = split
    row = spec.typical_row(x_train)
    assert len(row) == 1
    assert row["bureau_score"].iloc[0] == pytest.approx(x_train["bureau_score"].median())
    assert row["channel"].iloc[0] == x_train["channel"].mode().iloc[0]
