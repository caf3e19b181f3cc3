"""ml.train: feature exclusions, the out-of-time split, the gate, and two real training runs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
from mlflow import MlflowClient

from ml import train
from ml.models import LIGHTGBM, LR_SCORECARD


# Feature selection ------------------------------------------------------------------------------
def test_select_features_excludes_ids_labels_times_decisions_and_outcomes(training_set) -> None:
    scoring_columns = set(training_set.columns) - {"repayment_max_dpd"}
    selection = train.select_features(training_set, scoring_columns)
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
    meta = train.yaml_column_meta("fct_application_training_set", tmp_path)
    assert meta == {"noise": {"ml_feature": False, "ml_exclusion_reason": "unstable source"},
                    "city": {"pii": "C2"}}  # fmt: skip
    selection = train.select_features(training_set, None, meta)
    assert selection.excluded["noise"] == "unstable source"
    assert selection.excluded["city"].startswith("personal data (C2)")
    assert "bureau_score" in selection.spec.columns


# Split and gate ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("counts", "expected_oot"),
    [
        ({f"2024-{m:02d}": 100 for m in range(1, 6)}, ["2024-05"]),
        ({f"2024-{m:02d}": 100 for m in range(1, 11)}, ["2024-09", "2024-10"]),
        ({"2024-01": 500, "2024-02": 400, "2024-03": 60, "2024-04": 40}, ["2024-03", "2024-04"]),
        ({"2024-01": 100, "2024-02": 900}, ["2024-02"]),
        ({"2024-01": 50, "2024-02": 50, "2024-03": 50, "2024-04": 350}, ["2024-04"]),
    ],
)  # fmt: skip
def test_out_of_time_split_takes_the_latest_months_nearest_20_percent(counts, expected_oot) -> None:
    months = pd.Series([m for m, n in counts.items() for _ in range(n)]).sample(
        frac=1, random_state=1
    )
    train_months, oot_months = train.out_of_time_split(months)
    assert oot_months == expected_oot
    assert train_months == sorted(set(counts) - set(expected_oot))


def test_out_of_time_split_needs_two_months() -> None:
    with pytest.raises(train.TrainingDataError, match="at least two"):
        train.out_of_time_split(pd.Series(["2024-01"] * 10))


GATE = {"min_auc": 0.65, "min_ks": 0.20, "max_auc_drop": 0.005}


@pytest.mark.parametrize(
    ("auc", "ks", "champion_auc", "promoted", "reason_part"),
    [
        (0.75, 0.35, None, True, "no current champion"),
        (0.64, 0.35, None, False, "AUC 0.6400 < minimum 0.6500"),
        (0.75, 0.19, None, False, "KS 0.1900 < minimum 0.2000"),
        (0.75, 0.35, 0.76, False, "current champion's 0.7600"),
        (0.756, 0.35, 0.76, True, "same rows is 0.7600"),  # within the allowed drop
        (0.75, 0.35, 0.70, True, "same rows is 0.7000"),
        (0.60, 0.10, 0.80, False, "minimum 0.6500; out-of-time KS"),
    ],
)
def test_gate_rules(auc, ks, champion_auc, promoted, reason_part) -> None:
    decision, reason = train.gate(auc, ks, champion_auc, **GATE)
    assert decision is promoted
    assert reason_part in reason


def test_missing_warehouse_or_table_is_a_clear_error(ml_settings) -> None:
    with pytest.raises(train.TrainingDataError, match=r"warehouse .* does not exist"):
        train.main("2026-01-01", ml_settings)
    ml_settings.warehouse_path.parent.mkdir(parents=True)
    duckdb.connect(str(ml_settings.warehouse_path)).close()
    with pytest.raises(train.TrainingDataError, match="fct_application_training_set does not"):
        train.main("2026-01-01", ml_settings)


# Two real runs ----------------------------------------------------------------------------------
def test_first_run_registers_both_models_and_crowns_a_champion(ml_platform, training_runs) -> None:
    first = training_runs["first"]
    client = MlflowClient(ml_platform.mlflow_tracking_uri)
    assert first.oot_months == ["2025-01", "2025-02"]
    assert first.train_months[0] == "2024-07" and first.train_months[-1] == "2024-12"
    assert first.rows == {"train": 1800, "oot": 600}
    assert set(first.registered_versions) == {LR_SCORECARD, LIGHTGBM}
    assert sorted(first.registered_versions.values()) == ["1", "2"]
    assert first.gate["promoted"] is True and "no current champion" in first.gate["reason"]
    best = max(first.models.values(), key=lambda o: o.metrics["oot_auc"])
    assert first.champion_version == best.version
    champion = client.get_model_version_by_alias("credit_pd", "champion")
    assert str(champion.version) == best.version
    for family, outcome in first.models.items():
        assert outcome.metrics["oot_auc"] > 0.7, family
        version = client.get_model_version("credit_pd", outcome.version)
        assert version.tags["model_family"] == family
        assert float(version.tags["oot_auc"]) == pytest.approx(outcome.metrics["oot_auc"], 1e-5)
        assert float(version.tags["oot_ks"]) == pytest.approx(outcome.metrics["oot_ks"], 1e-5)
        assert version.tags["as_of_date"] == "2026-01-01"
        assert version.tags["run_id"] == outcome.run_id
    result = first.to_dict()
    assert json.loads(json.dumps(result)) == result
    assert result["registered_versions"] == first.registered_versions


def test_run_artifacts_metrics_and_model_card(ml_platform, training_runs, tmp_path) -> None:
    first = training_runs["first"]
    client = MlflowClient(ml_platform.mlflow_tracking_uri)
    parent = client.get_run(first.run_id)
    assert parent.data.params["oot_months"] == "2025-01,2025-02"
    for family in (LR_SCORECARD, LIGHTGBM):
        for split in ("train", "oot"):
            for metric in ("auc", "ks", "gini"):
                assert f"{family}_{split}_{metric}" in parent.data.metrics
    lr_run = first.models[LR_SCORECARD].run_id
    names = {a.path for a in client.list_artifacts(lr_run)}
    assert {"roc.png", "ks_oot.png", "deciles_oot.csv", "scorecard.csv", "features.json"} <= names
    assert "model_card.md" in names
    card = Path(client.download_artifacts(first.run_id, "model_card.md", str(tmp_path)))
    text = card.read_text(encoding="utf-8")
    assert "Out-of-time months: 2025-01, 2025-02" in text
    assert "`apr`: lender's decision" in text and "`sex`: protected attribute" in text
    assert "600 points at good:bad odds 50:1, 20 points to double the odds" in text
    assert "Decision: **champion**" in text
    features = json.loads(
        Path(client.download_artifacts(first.run_id, "features.json", str(tmp_path))).read_text()
    )
    assert "device_id_token" in features["excluded"]
    assert not any(c.endswith("_token") for c in features["numeric"] + features["categorical"])


def test_shuffled_labels_become_challenger_and_the_champion_stays(
    ml_platform, training_runs
) -> None:
    first, second = training_runs["first"], training_runs["second"]
    client = MlflowClient(ml_platform.mlflow_tracking_uri)
    assert sorted(second.registered_versions.values()) == ["3", "4"]
    assert second.gate["promoted"] is False
    assert second.gate["previous_champion_version"] == first.champion_version
    assert second.gate["previous_champion_oot_auc"] > 0.7
    assert "current champion's" in second.gate["reason"]
    assert second.champion_version == first.champion_version
    assert str(client.get_model_version_by_alias("credit_pd", "champion").version) == (
        first.champion_version
    )
    challenger = client.get_model_version_by_alias("credit_pd", "challenger")
    assert str(challenger.version) == second.gate["candidate_version"]
    assert client.get_model_version("credit_pd", challenger.version).tags["gate_decision"] == (
        "challenger"
    )


def test_champion_loads_in_a_fresh_process_without_the_repository_code(
    ml_platform, training_runs, training_set, tmp_path
) -> None:
    sample = training_set.head(5)
    sample.to_parquet(tmp_path / "sample.parquet")
    script = textwrap.dedent(
        f"""
        import json, sys

        class BlockCreditlakeCode:
            @staticmethod
            def find_spec(name, path=None, target=None):
                if name.split(".")[0] in ("ml", "creditlake"):
                    raise ImportError(name + " is blocked")

        sys.meta_path.insert(0, BlockCreditlakeCode)
        import mlflow, pandas as pd
        mlflow.set_tracking_uri({ml_platform.mlflow_tracking_uri!r})
        model = mlflow.pyfunc.load_model("models:/credit_pd@champion")
        frame = pd.read_parquet({str(tmp_path / "sample.parquet")!r})
        schema = model.metadata.get_input_schema()
        inputs = pd.DataFrame({{
            c.name: frame[c.name].astype("float64" if str(c.type) == "DataType.double" else "str")
            for c in schema.inputs
        }})
        print(json.dumps(model.predict(inputs)["pd"].tolist()))
        """
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_TRACKING")}
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    in_fresh_process = json.loads(done.stdout.strip().splitlines()[-1])
    import mlflow

    here = mlflow.pyfunc.load_model("models:/credit_pd@champion")
    from ml.models import conform_to_schema

    expected = here.predict(conform_to_schema(sample, here.metadata.get_input_schema()))["pd"]
    np.testing.assert_allclose(in_fresh_process, expected.to_numpy(), rtol=1e-9)
