"""ml.features: which training-set columns become features, and the reason for every other."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import yaml

from creditlake.settings import DBT_PROJECT_DIR
from ml import features
from ml.data import TrainingDataError


def test_select_features_excludes_ids_labels_times_decisions_and_outcomes(training_set) -> None:
    scoring_columns = set(training_set.columns) - {"repayment_max_dpd"}
    selection = features.select_features(training_set, scoring_columns)
    assert sorted(selection.spec.columns) == sorted(
        [
            "age_at_application_years",
            "bureau_score",
            "inquiries_6m_count",
            "monthly_income_cny",
            "channel",
            "city",
            "has_bureau_report",
            "noise",
            "requested_amount_cny",
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


def test_dbt_manifest_meta_can_exclude_columns(tmp_path: Path, training_set) -> None:
    node = {
        "columns": {
            "noise": {
                "name": "noise",
                "meta": {"ml_feature": False, "ml_exclusion_reason": "unstable source"},
            },
            "city": {"name": "city", "meta": {}, "config": {"meta": {"pii": "C2"}}},
        }
    }
    other = {"columns": {"bureau_score": {"name": "bureau_score", "meta": {"ml_feature": False}}}}
    manifest = tmp_path / "manifest.json"
    manifest.write_text(
        json.dumps(
            {"nodes": {features.TRAINING_SET_NODE: node, "model.creditlake.other_model": other}}
        ),
        encoding="utf-8",
    )
    meta = features.dbt_column_meta(manifest)
    assert meta == {"noise": {"ml_feature": False, "ml_exclusion_reason": "unstable source"},
                    "city": {"pii": "C2"}}  # fmt: skip
    selection = features.select_features(training_set, None, meta)
    assert selection.excluded["noise"] == "unstable source"
    assert selection.excluded["city"].startswith("personal data (C2)")
    assert "bureau_score" in selection.spec.columns


def test_a_missing_manifest_says_to_run_dbt_parse(tmp_path: Path) -> None:
    missing = tmp_path / "target" / "manifest.json"
    with pytest.raises(
        TrainingDataError, match=r"manifest .*manifest\.json does not exist"
    ) as error:
        features.dbt_column_meta(missing)
    assert "dbt parse" in str(error.value) and "\n" not in str(error.value)


def test_a_manifest_without_the_training_set_is_a_clear_error(tmp_path: Path) -> None:
    manifest = tmp_path / "manifest.json"
    manifest.write_text(json.dumps({"nodes": {}}), encoding="utf-8")
    with pytest.raises(TrainingDataError, match=r"has no node model\.creditlake\.fct_application_"):
        features.dbt_column_meta(manifest)
    manifest.write_text("{not json", encoding="utf-8")
    with pytest.raises(TrainingDataError, match="cannot read dbt manifest"):
        features.dbt_column_meta(manifest)


@pytest.mark.slow
def test_the_manifest_dbt_parse_writes_gives_the_exclusions_the_yaml_declares(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``dbt parse`` on the real project: the same column metadata as the YAML, read directly.

    The YAML is read here only as the independent check (what training used to parse itself).
    """
    from dbt.cli.main import dbtRunner

    monkeypatch.setenv("CREDITLAKE_WAREHOUSE_PATH", str(tmp_path / "warehouse.duckdb"))
    monkeypatch.setenv("CREDITLAKE_LAKE_DIR", str(tmp_path / "lake"))
    monkeypatch.setenv("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
    target = tmp_path / "target"
    project = str(DBT_PROJECT_DIR)
    args = ["parse", "--project-dir", project, "--profiles-dir", project]
    args += ["--target-path", str(target), "--log-path", str(tmp_path / "logs")]
    result = dbtRunner().invoke(args)
    assert result.success, result.exception
    from_manifest = features.dbt_column_meta(target / "manifest.json")

    yaml_path = DBT_PROJECT_DIR / "models/marts/applications/fct_application_training_set.yml"
    document = yaml.safe_load(yaml_path.read_text(encoding="utf-8"))
    (model,) = [m for m in document["models"] if m["name"] == "fct_application_training_set"]
    from_yaml = {
        column["name"]: {
            **(column.get("meta") or {}),
            **(column.get("config") or {}).get("meta", {}),
        }
        for column in model["columns"]
    }
    assert from_manifest == from_yaml

    frame = pd.DataFrame({name: [0.0, 1.0] for name in from_yaml})
    selection = features.select_features(frame, None, from_manifest)
    assert selection == features.select_features(frame, None, from_yaml)
    by_meta = {
        name: reason
        for name, reason in selection.excluded.items()
        if name not in features.EXCLUDED_COLUMNS
        and not name.endswith(tuple(features.EXCLUDED_SUFFIXES))
    }
    assert by_meta == {
        "is_approved": "the lender's decision: the outcome the score informs",
        "max_days_past_due_in_window": "loan performance: the label is derived from it",
    }
    assert selection.excluded["decision"].startswith("lender's decision")
    assert selection.excluded["performance_window_end_date"] == "time column"
    for c3_column in ("age_at_application_years", "province", "city"):
        assert c3_column in selection.spec.columns
