"""ml.criteria and ml.gate: each named criterion on its own, then whole training runs of a
candidate made unfair or unstable on purpose, which the gate must refuse by name."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from creditlake.lake import Lake
from ml import alias_log, criteria
from ml.gate import decide
from ml.tracking import client_for
from tests.ml.conftest import (
    CITIES,
    make_features_table,
    make_training_set,
    record_gated_build,
    write_warehouse,
)

TRAIN_DATE = dt.date(2026, 1, 1)


# Each criterion --------------------------------------------------------------------------------
def test_discrimination_names_each_minimum_and_the_champion_comparison(ml_settings) -> None:
    checks = criteria.discrimination(0.64, 0.19, 0.70, ml_settings)
    assert [(c.check, c.passed) for c in checks] == [
        ("auc_min", False),
        ("ks_min", False),
        ("auc_vs_champion", False),
    ]
    assert checks[2].threshold == pytest.approx(0.70 - ml_settings.champion_max_auc_drop)
    assert [c.passed for c in criteria.discrimination(0.75, 0.35, None, ml_settings)] == [1, 1]


def test_calibration_passes_calibrated_pds_and_fails_a_shifted_model(ml_settings) -> None:
    rng = np.random.default_rng(1)
    pd_true = rng.uniform(0.01, 0.5, 20_000)
    y = (rng.random(pd_true.size) < pd_true).astype(int)
    calibrated = criteria.calibration(y, pd_true, ml_settings)
    assert calibrated.passed and calibrated.value <= 0
    assert [row["decile"] for row in calibrated.table] == list(range(1, 11))
    assert sum(row["rows"] for row in calibrated.table) == y.size
    halved = criteria.calibration(y, pd_true / 2, ml_settings)
    assert not halved.passed and halved.refuses
    assert "deciles outside tolerance" in halved.detail


def test_feature_psi_sees_a_shift_in_numbers_categories_and_missing_values() -> None:
    rng = np.random.default_rng(2)
    base = pd.Series(rng.normal(600, 60, 5000))
    assert criteria.feature_psi(base, pd.Series(rng.normal(600, 60, 2000))) < 0.02
    assert criteria.feature_psi(base, pd.Series(rng.normal(450, 60, 2000))) > 1
    emptied = pd.Series(np.where(rng.random(2000) < 0.5, np.nan, rng.normal(600, 60, 2000)))
    assert criteria.feature_psi(base, emptied) > 0.25
    cities = pd.Series(rng.choice(CITIES, 5000))
    assert criteria.feature_psi(cities, pd.Series(rng.choice(CITIES, 2000))) < 0.02
    assert criteria.feature_psi(cities, pd.Series(["杭州"] * 2000)) > 1


def test_fairness_measures_each_group_with_its_sizes_and_blocks_only_on_sex(ml_settings) -> None:
    rng = np.random.default_rng(3)
    n = 4000
    x = pd.DataFrame(
        {
            "sex": rng.choice(["F", "M"], n),
            "age_at_application_years": rng.integers(18, 70, n),
            "is_new_citizen": rng.random(n) < 0.2,
            "has_bureau_report": rng.random(n) < 0.7,
            "is_urban": rng.random(n) < 0.8,
        }
    )
    pd_hat = np.where(x["has_bureau_report"], 0.05, 0.5)  # thin files all above the cut-off
    checks = {c.check: c for c in criteria.fairness(x, pd_hat, 0.2, "test", ml_settings)}
    assert set(checks) == {
        f"approval_ratio:{g}"
        for g in ("new_citizen", "thin_file", "urban_rural", "sex", "age_band")
    }
    thin = checks["approval_ratio:thin_file"]
    assert thin.value == 0 and not thin.passed and not thin.refuses  # a finding
    sizes = {row["value"]: row["rows"] for row in thin.table}
    with_record = int(x["has_bureau_report"].sum())
    assert sizes == {"bureau record": with_record, "thin file": n - with_record}
    assert checks["approval_ratio:sex"].passed
    unfair = np.where(x["sex"] == "F", 0.5, 0.05)
    sex = {c.check: c for c in criteria.fairness(x, unfair, 0.2, "test", ml_settings)}[
        "approval_ratio:sex"
    ]
    assert sex.value == 0 and sex.refuses and "F" in sex.detail


def test_a_group_too_small_to_judge_is_said_so(ml_settings) -> None:
    x = pd.DataFrame({"sex": ["F"] * 10 + ["M"] * 500})
    (check,) = criteria.fairness(x, np.zeros(510), 0.2, "test", ml_settings)
    assert check.passed and check.value is None and "not assessable" in check.detail


def test_data_quality_needs_published_snapshots_and_passed_warehouse_gates(ml_settings) -> None:
    lake = Lake.from_settings(ml_settings)
    snapshots = {"bronze.applications": 1001}
    missing = criteria.data_quality(lake, snapshots, TRAIN_DATE)
    assert [(c.check, c.passed) for c in missing] == [
        ("snapshots_gated", False),
        ("warehouse_gates", False),
    ]
    record_gated_build(ml_settings, [TRAIN_DATE])
    assert all(c.passed for c in criteria.data_quality(lake, snapshots, TRAIN_DATE))
    other = criteria.data_quality(lake, {"bronze.applications": 7}, TRAIN_DATE)
    assert not other[0].passed and "bronze.applications" in other[0].detail
    record_gated_build(ml_settings, [TRAIN_DATE], passed=False)  # a later, failed verdict
    failed = [c for c in criteria.data_quality(lake, snapshots, TRAIN_DATE) if not c.passed]
    assert [c.check for c in failed] == [
        "warehouse_gate:warehouse_loans",
        "warehouse_gate:warehouse_training_set",
    ]


def test_decide_names_every_refusal_and_keeps_findings_apart(ml_settings) -> None:
    checks = [
        *criteria.discrimination(0.75, 0.35, None, ml_settings),
        criteria.Criterion("stability", "psi_score", 0.4, 0.25, False, "score PSI 0.4"),
        criteria.Criterion("fairness", "approval_ratio:thin_file", 0.6, 0.8, False, "t", False),
    ]
    promoted, reason = decide(checks)
    assert not promoted
    assert "stability (psi_score)" in reason and "thin_file" not in reason
    promoted, reason = decide([c for c in checks if c.check != "psi_score"])
    assert promoted and "findings: approval_ratio:thin_file" in reason


# Whole runs ------------------------------------------------------------------------------------
def unfair_training_set() -> pd.DataFrame:
    """Women live in one city, and the labels follow sex: a model learns to decline women."""
    frame = make_training_set(seed=17)
    rng = np.random.default_rng(17)
    women = (frame["sex"] == "F").to_numpy()
    frame["city"] = np.where(women, CITIES[0], rng.choice(CITIES[1:], len(frame)))
    frame["is_bad"] = (rng.random(len(frame)) < np.where(women, 0.4, 0.03)).astype(int)
    return frame


def unstable_training_set() -> pd.DataFrame:
    """The latest month's applicants arrive with bureau scores 200 points lower."""
    frame = make_training_set(seed=19)
    latest = frame["application_month"] == frame["application_month"].max()
    frame.loc[latest, "bureau_score"] -= 200
    return frame


@pytest.mark.parametrize(
    ("make", "criterion", "check"),
    [
        (unfair_training_set, "fairness", "approval_ratio:sex"),
        (unstable_training_set, "stability", "psi_score"),
    ],
)
def test_a_candidate_made_unfair_or_unstable_is_refused_by_name(
    ml_settings, dbt_manifest, make, criterion, check
) -> None:
    from ml import train

    frame = make()
    write_warehouse(ml_settings.warehouse_path, frame, make_features_table(frame))
    record_gated_build(ml_settings, [TRAIN_DATE])
    settings = dataclasses.replace(ml_settings, champion_min_auc=0.0, champion_min_ks=0.0)
    result = train.main(TRAIN_DATE, settings, manifest_path=dbt_manifest)

    gate = result.gate
    assert gate["promoted"] is False and result.champion_version is None
    assert criterion in gate["failed_criteria"] and check in gate["failed_checks"]
    assert f"{criterion} ({check})" in gate["reason"]
    failed = next(c for c in gate["criteria"] if c["check"] == check)
    assert failed["value"] is not None and failed["threshold"] is not None
    client = client_for(settings)
    path = client.download_artifacts(result.run_id, "gate_criteria.json", str(ml_settings.home))
    logged = json.loads(Path(path).read_text())
    assert next(c for c in logged if c["check"] == check)["passed"] is False
    assert alias_log.current_holder(client, "credit_pd", "champion") is None
    # The audit log holds the refusal, naming the criterion, and the challenger move.
    moves = alias_log.history(Lake.from_settings(settings), "credit_pd")
    refused = [m for m in moves if m.outcome == alias_log.REFUSED]
    assert len(refused) == 1 and refused[0].alias == "champion"
    assert refused[0].to_version is None  # the alias stayed where it was: nowhere
    assert json.loads(refused[0].gate)["candidate_version"] == gate["candidate_version"]
    assert f"{criterion} ({check})" in refused[0].reason
    assert [(m.alias, m.outcome) for m in moves if m.outcome == alias_log.MOVED] == [
        ("challenger", alias_log.MOVED)
    ]
