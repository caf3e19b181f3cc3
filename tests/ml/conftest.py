"""Fixtures for the ML tests: a synthetic applicant population with a known signal, a tiny
DuckDB warehouse holding the two marts the ML code reads, a minimal dbt manifest with the
training set's column metadata, and settings pointing every store (warehouse, MLflow tracking and
artifacts) into a temporary folder.

The population is generated from an explicit logistic model, so the tests know which features
carry risk, and it carries bait columns (APR priced from the true risk, a repayment outcome, a
token, the protected attribute ``sex``) that training must never use.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
from secret_files import put_pii_key

from creditlake.settings import Settings, get_settings

TEST_PII_KEY = "test-only-pii-key-0123456789abcdef0123456789abcdef"
MONTHS = pd.period_range("2024-07", "2025-02", freq="M")
SCORING_DAY = dt.date(2026, 1, 2)
EMPTY_DAY = dt.date(2026, 1, 3)
CITIES = ("杭州", "成都", "武汉", "西安", "郑州")
CHANNELS = ("app", "web", "partner")


def true_logit(frame: pd.DataFrame) -> np.ndarray:
    """The data-generating model: bureau score, inquiries, income and the partner channel.

    A missing income counts as the median income (neutral), so missingness carries no signal.
    """
    income = frame["monthly_income_cny"].fillna(8000).to_numpy()
    return (
        -1.6
        - 0.025 * (frame["bureau_score"].to_numpy() - 600)
        + 0.35 * frame["inquiries_6m_count"].to_numpy()
        + 0.9 * (frame["channel"] == "partner").to_numpy()
        - 0.35 * np.log(income / 8000)
        - 0.6
    )


def make_applications(n: int, seed: int, start: dt.date, days: int) -> pd.DataFrame:
    """Applications with features known at application time (plus identifiers and a token)."""
    rng = np.random.default_rng(seed)
    applied_at = pd.Timestamp(start) + pd.to_timedelta(
        rng.integers(0, days * 24 * 3600, size=n), unit="s"
    )
    frame = pd.DataFrame(
        {
            "application_id": [f"APP{seed:02d}{i:06d}" for i in range(n)],
            "customer_id": [f"CUS{seed:02d}{i:06d}" for i in range(n)],
            "applied_at": applied_at,
            "device_id_token": [f"{rng.integers(0, 2**63):016x}" * 4 for _ in range(n)],
            "sex": rng.choice(["M", "F"], size=n),
            "age_at_application_years": rng.integers(20, 60, size=n),
            "requested_amount_cny": rng.choice([3000.0, 8000.0, 20000.0], size=n),
            "bureau_score": rng.normal(600, 60, size=n).round(),
            "inquiries_6m_count": rng.poisson(1.5, size=n),
            "monthly_income_cny": np.exp(rng.normal(np.log(8000), 0.5, size=n)).round(2),
            "channel": rng.choice(CHANNELS, size=n, p=[0.5, 0.3, 0.2]),
            "city": rng.choice(CITIES, size=n),
            "has_bureau_report": rng.random(n) < 0.8,
            "noise": rng.normal(size=n),
        }
    )
    frame.loc[rng.random(n) < 0.05, "monthly_income_cny"] = np.nan
    frame["applied_date"] = frame["applied_at"].dt.date
    return frame.sort_values("applied_at").reset_index(drop=True)


def make_training_set(seed: int = 7, per_month: int = 300) -> pd.DataFrame:
    """Matured loans: application features, the lender's decision, an outcome and ``is_bad``."""
    rng = np.random.default_rng(seed)
    frame = make_applications(per_month * len(MONTHS), seed, MONTHS[0].start_time.date(), 8 * 28)
    month_index = np.repeat(np.arange(len(MONTHS)), per_month)
    frame["applied_at"] = pd.to_datetime(
        [
            MONTHS[m].start_time + pd.Timedelta(seconds=int(s))
            for m, s in zip(
                month_index, rng.integers(0, 27 * 24 * 3600, size=len(frame)), strict=True
            )
        ]
    )
    frame["applied_date"] = frame["applied_at"].dt.date
    frame["application_month"] = frame["applied_at"].dt.to_period("M").dt.start_time.dt.date
    logit = true_logit(frame)
    frame["is_bad"] = (rng.random(len(frame)) < 1 / (1 + np.exp(-logit))).astype(int)
    frame["loan_id"] = [f"LN{i:07d}" for i in range(len(frame))]
    frame["disbursed_at"] = frame["applied_at"] + pd.Timedelta(hours=2)
    # Bait: decided from the true risk, or observed only after disbursal.
    frame["apr"] = (0.08 + 0.12 / (1 + np.exp(-logit))).round(4)
    frame["approved_amount_cny"] = (20000 - 10000 / (1 + np.exp(-logit))).round(2)
    frame["repayment_max_dpd"] = np.where(frame["is_bad"] == 1, 45, 0)
    return frame


def make_features_table(training: pd.DataFrame, seed: int = 11) -> pd.DataFrame:
    """``fct_application_features``: every application (no label, no outcome, no decision)."""
    history = training.drop(
        columns=["is_bad", "loan_id", "disbursed_at", "repayment_max_dpd", "application_month"]
    )
    today = make_applications(40, seed, SCORING_DAY, 1)
    today["apr"] = np.nan
    today["approved_amount_cny"] = np.nan
    return pd.concat([history, today], ignore_index=True)


def write_warehouse(path: Path, training: pd.DataFrame, features: pd.DataFrame) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(path)) as con:
        con.execute("create schema if not exists marts")
        for name, frame in (
            ("fct_application_training_set", training),
            ("fct_application_features", features),
        ):
            con.register("frame", frame)
            con.execute(f"create or replace table marts.{name} as select * from frame")
            con.unregister("frame")


#: The lake snapshot the fixture warehouse claims to be built from (``lake.pinned_snapshots``).
FIXTURE_SNAPSHOT = ("bronze.applications", 1001)


def record_gated_build(settings: Settings, dates: list[dt.date], *, passed: bool = True) -> None:
    """Make the fixture warehouse look built by the platform: a pinned bronze snapshot that its
    gate published, and the warehouse gates' verdicts for ``dates`` (what the champion gate's
    data-quality criterion reads, :func:`ml.criteria.data_quality`)."""
    from creditlake import ledger
    from creditlake.lake import PINNED_SNAPSHOTS_TABLE, Lake
    from expectations.names import LOANS_SUITE, TRAINING_SET_SUITE

    table, snapshot = FIXTURE_SNAPSHOT
    settings.warehouse_path.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(settings.warehouse_path)) as con:
        con.execute("create schema if not exists lake")
        con.execute(
            f"create or replace table {PINNED_SNAPSHOTS_TABLE} as "
            "select ? as table_name, ? as snapshot_id",
            [table, snapshot],
        )
    lake = Lake.from_settings(settings)
    for day in dates:
        ledger.record(
            lake,
            ledger.Delivery(
                source=table.split(".")[1],
                as_of_date=day,
                status=ledger.PUBLISHED,
                batch_id=f"fixture-{day}",
                landing_file="fixture",
                content_sha256="0" * 64,
                landing_rows=1,
                bronze_rows=1,
                quarantined_rows=0,
                duplicates_dropped=0,
                bronze_snapshot_id=snapshot,
            ),
        )
        for suite in (TRAINING_SET_SUITE, LOANS_SUITE):
            verdict = ledger.GateResult(suite, day, "warehouse", None, passed, 1, 1 - passed, 0)
            ledger.record(lake, verdict)


#: Column metadata of the fixture manifest, as dbt YAML would declare it: a C3 column that stays
#: a feature, and an outcome column the YAML excludes (which the features table also lacks).
FIXTURE_COLUMN_META = {
    "city": {"pii": "C3-location-city"},
    "repayment_max_dpd": {
        "ml_feature": False,
        "ml_exclusion_reason": "loan performance: the label is derived from it",
    },
}


#: The fixture's "behaviour features" (the columns of the behaviour-features model in the manifest),
#: which the thin-file inclusion measure refits without.
FIXTURE_BEHAVIOUR_COLUMNS = ("noise",)


def write_dbt_manifest(path: Path, column_meta: dict[str, dict]) -> Path:
    """A dbt manifest with only what training reads: the training set node's column ``meta`` and
    the behaviour-features node's columns.

    dbt ≥ 1.10 writes a column's metadata under both ``meta`` and ``config.meta``; so does this.
    """
    columns = {
        name: {"name": name, "meta": meta, "config": {"meta": meta}}
        for name, meta in column_meta.items()
    }
    nodes = {
        "model.creditlake.fct_application_training_set": {"columns": columns},
        "model.creditlake.int_application_behaviour_features": {
            "columns": {name: {"name": name} for name in FIXTURE_BEHAVIOUR_COLUMNS}
        },
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"nodes": nodes}), encoding="utf-8")
    return path


def settings_for(home: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Settings with every store under ``home`` (the environment is restored by the caller)."""
    monkeypatch.setenv("CREDITLAKE_HOME", str(home))
    put_pii_key(home, TEST_PII_KEY)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{home / 'mlflow' / 'mlflow.db'}")
    monkeypatch.delenv("CREDITLAKE_MLFLOW_ARTIFACT_ROOT", raising=False)
    monkeypatch.delenv("CREDITLAKE_WAREHOUSE_PATH", raising=False)
    return get_settings()


@pytest.fixture(name="true_logit")
def true_logit_fixture():
    """The data-generating log-odds, for tests that compare a model with the truth."""
    return true_logit


@pytest.fixture
def scoring_days() -> tuple[dt.date, dt.date]:
    """A day with 40 applications in ``fct_application_features`` and a day with none."""
    return SCORING_DAY, EMPTY_DAY


@pytest.fixture
def ml_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    return settings_for(tmp_path / "creditlake", monkeypatch)


@pytest.fixture(scope="session")
def training_set() -> pd.DataFrame:
    return make_training_set()


@pytest.fixture(scope="session")
def ml_platform(
    tmp_path_factory: pytest.TempPathFactory, training_set: pd.DataFrame
) -> Iterator[Settings]:
    """One warehouse and one MLflow store shared by the training and scoring tests.

    Built once per session (an MLflow SQLite store takes seconds to create). The environment is
    only changed while the settings are read, and MLflow's process-wide URIs are restored at
    the end, so nothing leaks into other test folders.
    """
    import mlflow

    previous_tracking, previous_registry = mlflow.get_tracking_uri(), mlflow.get_registry_uri()
    home = tmp_path_factory.mktemp("ml_platform") / "creditlake"
    with pytest.MonkeyPatch.context() as monkeypatch:
        settings = settings_for(home, monkeypatch)
    write_warehouse(settings.warehouse_path, training_set, make_features_table(training_set))
    record_gated_build(settings, [dt.date(2026, 1, 1), dt.date(2026, 1, 8)])
    yield settings
    mlflow.set_tracking_uri(previous_tracking)
    mlflow.set_registry_uri(previous_registry)


@pytest.fixture(scope="session")
def dbt_manifest(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The fixture manifest (:data:`FIXTURE_COLUMN_META`) the training runs read."""
    path = tmp_path_factory.mktemp("dbt") / "target" / "manifest.json"
    return write_dbt_manifest(path, FIXTURE_COLUMN_META)


@pytest.fixture(scope="session")
def training_runs(ml_platform: Settings, training_set: pd.DataFrame, dbt_manifest: Path) -> dict:
    """Run 1 on the real labels, then run 2 with the training months' labels shuffled.

    Run 2 relaxes the minimum AUC/KS to zero, so only the comparison with the current champion
    (re-evaluated on run 2's intact out-of-time months) can refuse it.
    """
    from ml import train

    first = train.main("2026-01-01", ml_platform, manifest_path=dbt_manifest)
    shuffled = training_set.copy()
    is_train = ~shuffled["application_month"].astype("str").str[:7].isin(first.oot_months)
    rng = np.random.default_rng(3)
    shuffled.loc[is_train, "is_bad"] = rng.permutation(shuffled.loc[is_train, "is_bad"].to_numpy())
    write_warehouse(ml_platform.warehouse_path, shuffled, make_features_table(training_set))
    relaxed = dataclasses.replace(ml_platform, champion_min_auc=0.0, champion_min_ks=0.0)
    second = train.main("2026-01-08", relaxed, manifest_path=dbt_manifest)
    write_warehouse(ml_platform.warehouse_path, training_set, make_features_table(training_set))
    return {"first": first, "second": second}
