"""ml.features: which training-set columns become features, and the reason for every other."""

from __future__ import annotations

import textwrap
from pathlib import Path

from ml import features


def test_select_features_excludes_ids_labels_times_decisions_and_outcomes(training_set) -> None:
    scoring_columns = set(training_set.columns) - {"repayment_max_dpd"}
    selection = features.select_features(training_set, scoring_columns)
    assert sorted(selection.spec.columns) == sorted(
        [
            "age_years",
            "bureau_score",
            "inquiries_6m_count",
            "monthly_income_cny",
            "channel",
            "city",
            "has_bureau_report",
            "noise",
        ]
    )
    assert selection.spec.categorical == ("channel", "city")
    reasons = selection.excluded
    assert reasons["application_id"] == "identifier"
    assert reasons["device_id_token"] == "tokenised personal identifier"
    assert reasons["is_bad"] == "label"
    assert reasons["applied_at"] == "time column"
    assert reasons["apr"].startswith("lender's decision")
    assert reasons["approved_amount_cny"].startswith("lender's decision")
    assert reasons["sex"].startswith("protected attribute")
    assert "unknown when an application is scored" in reasons["repayment_max_dpd"]


def test_dbt_yaml_meta_can_exclude_columns(tmp_path: Path, training_set) -> None:
    (tmp_path / "credit").mkdir()
    (tmp_path / "credit" / "fct_application_training_set.yml").write_text(
        textwrap.dedent(
            """
            version: 2
            models:
              - name: fct_application_training_set
                columns:
                  - name: noise
                    meta: {ml_feature: false, ml_exclusion_reason: "unstable source"}
                  - name: city
                    config:
                      meta: {pii: C2}
              - name: other_model
                columns:
                  - name: bureau_score
                    meta: {ml_feature: false}
            """
        ),
        encoding="utf-8",
    )
    meta = features.yaml_column_meta("fct_application_training_set", tmp_path)
    assert meta == {"noise": {"ml_feature": False, "ml_exclusion_reason": "unstable source"},
                    "city": {"pii": "C2"}}  # fmt: skip
    selection = features.select_features(training_set, None, meta)
    assert selection.excluded["noise"] == "unstable source"
    assert selection.excluded["city"].startswith("personal data (C2)")
    assert "bureau_score" in selection.spec.columns
