"""ml.train: a missing warehouse, and two real training runs with their MLflow records."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import duckdb
import numpy as np
import pytest

from ml import train
from ml.data import TrainingDataError
from ml.models import LIGHTGBM, LR_SCORECARD
from ml.tracking import client_for


def test_missing_warehouse_or_table_is_a_clear_error(ml_settings) -> None:
    with pytest.raises(TrainingDataError, match=r"warehouse .* does not exist"):
        train.main("2026-01-01", ml_settings)
    ml_settings.warehouse_path.parent.mkdir(parents=True)
    duckdb.connect(str(ml_settings.warehouse_path)).close()
    with pytest.raises(TrainingDataError, match="fct_application_training_set does not"):
        train.main("2026-01-01", ml_settings)


def test_a_missing_dbt_manifest_stops_the_run_before_mlflow(ml_platform, tmp_path) -> None:
    def runs() -> int:
        experiment = client.get_experiment_by_name("credit_pd")
        return 0 if experiment is None else len(client.search_runs([experiment.experiment_id]))

    client = client_for(ml_platform)
    before = runs()
    missing = tmp_path / "target" / "manifest.json"
    with pytest.raises(TrainingDataError, match=r"manifest .* does not exist: run `dbt parse`"):
        train.main("2026-01-01", ml_platform, manifest_path=missing)
    assert runs() == before


# Two real runs ----------------------------------------------------------------------------------
def test_first_run_registers_both_models_and_crowns_a_champion(ml_platform, training_runs) -> None:
    first = training_runs["first"]
    client = client_for(ml_platform)
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
    client = client_for(ml_platform)
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
    # The reason comes from the dbt manifest's column meta (tests/ml/conftest.py).
    assert "`repayment_max_dpd`: loan performance: the label is derived from it" in text
    assert "600 points at good:bad odds 50:1, 20 points to double the odds" in text
    assert "Decision: **champion**" in text
    features = json.loads(
        Path(client.download_artifacts(first.run_id, "features.json", str(tmp_path))).read_text()
    )
    assert "device_id_token" in features["excluded"]
    assert not any(c.endswith("_token") for c in features["numeric"] + features["categorical"])
    inclusion = json.loads(
        Path(client.download_artifacts(first.run_id, "inclusion.json", str(tmp_path))).read_text()
    )
    assert inclusion["behaviour_features_removed"] == ["noise"]
    assert [g["group"] for g in inclusion["groups"]] == ["all", "thin_file"]
    assert inclusion["groups"][0]["rows"] == first.rows["oot"]


def test_shuffled_labels_become_challenger_and_the_champion_stays(
    ml_platform, training_runs
) -> None:
    first, second = training_runs["first"], training_runs["second"]
    client = client_for(ml_platform)
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
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("MLFLOW_TRACKING", "MLFLOW_REGISTRY"))
    }
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

    from ml.tracking import configure_mlflow

    configure_mlflow(ml_platform)  # another test in this process may have pointed MLflow elsewhere
    here = mlflow.pyfunc.load_model("models:/credit_pd@champion")
    from ml.serving import conform_to_schema

    expected = here.predict(conform_to_schema(sample, here.metadata.get_input_schema()))["pd"]
    np.testing.assert_allclose(in_fresh_process, expected.to_numpy(), rtol=1e-9)


def test_versions_record_the_hash_of_the_rows_they_were_trained_on(
    ml_platform, training_runs
) -> None:
    """The lineage tags let `creditlake reproduce` check a rebuilt training set (ml.lineage)."""
    import datetime as dt

    from ml.data import read_training_set
    from ml.lineage import TrainingLineage, training_set_sha256

    first, second = training_runs["first"], training_runs["second"]
    client = client_for(ml_platform)
    # the fixture put run 1's warehouse back after run 2
    rows, digest = training_set_sha256(
        read_training_set(ml_platform.warehouse_path, dt.date(2026, 1, 1))
    )
    assert first.training_set_sha256 == digest
    assert second.training_set_sha256 != digest  # run 2 trained on shuffled labels
    for outcome in first.models.values():
        tags = client.get_model_version("credit_pd", outcome.version).tags
        lineage = TrainingLineage.from_tags(tags)
        assert (lineage.training_set_sha256, lineage.training_set_rows) == (digest, rows)
        assert len(lineage.manifest_sha256) == 64
    assert client.get_run(first.run_id).data.tags["training_set_sha256"] == digest


def test_the_audit_log_holds_both_gate_decisions_and_agrees_with_the_registry(
    ml_platform, training_runs
) -> None:
    """Run 1's promotion and run 2's refusal (with the challenger move) are logged in order."""
    from creditlake.lake import Lake
    from ml import alias_log

    first, second = training_runs["first"], training_runs["second"]
    client = client_for(ml_platform)
    moves = alias_log.history(Lake.from_settings(ml_platform), "credit_pd")
    rows = [(m.alias, m.from_version, m.to_version, m.outcome) for m in moves]
    champion, candidate = first.champion_version, second.gate["candidate_version"]
    assert rows == [
        ("champion", None, champion, "moved"),
        ("champion", champion, champion, "refused"),
        ("challenger", None, candidate, "moved"),
    ]
    refused = moves[1]
    assert refused.reason == second.gate["reason"]
    assert refused.actor == f"run:{second.run_id}"
    assert refused.to_dict()["gate"]["candidate_version"] == candidate
    assert refused.to_dict()["gate"]["previous_champion_oot_auc"] == pytest.approx(
        second.gate["previous_champion_oot_auc"]
    )
    assert {m.action for m in moves} == {"gate"}
    assert alias_log.discrepancies(client, "credit_pd", moves) == []


def test_every_registered_version_has_its_validation_report(
    ml_platform, training_runs, tmp_path
) -> None:
    """Both runs log ``validation_report.html`` at the root of each version's run (ml.train)."""
    from ml.validation_report import REPORT_FILE, REPORT_TAG

    client = client_for(ml_platform)
    for run in training_runs.values():
        for family, outcome in run.models.items():
            assert REPORT_FILE in {a.path for a in client.list_artifacts(outcome.run_id)}
            version = client.get_model_version("credit_pd", outcome.version)
            assert version.tags[REPORT_TAG] == f"runs:/{outcome.run_id}/{REPORT_FILE}"
            folder = tmp_path / outcome.run_id
            path = Path(client.download_artifacts(outcome.run_id, REPORT_FILE, str(folder)))
            html = path.read_text(encoding="utf-8")
            assert f"<code>credit_pd</code> version {outcome.version}</h1>" in html
            assert f"family <code>{family}</code>" in html
            is_candidate = outcome.version == run.gate["candidate_version"]
            decision = (
                "received the alias “champion”"
                if run.gate["promoted"]
                else "was refused “champion” and received “challenger”"
            )
            assert (decision in html) is is_candidate
            assert ("not the run&#39;s candidate" in html) is not is_candidate
            # the candidate's report shows the gate's named criteria; the other version's says
            # it was not judged
            checks = [criterion["check"] for criterion in run.gate.get("criteria", [])]
            if is_candidate:
                assert checks and all(check in html for check in checks)
            else:
                assert "this version was not the candidate" in html
