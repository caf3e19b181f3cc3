"""The cloud path: the same demo on S3 and the Glue catalog gives the same tables as on local disk.

The demo runs twice at a small scale with the same generator configuration and seed: once on the
embedded default (landing folder, SQLite catalog, local table files), once with landing and lake
in S3 and the Glue catalog (a moto server on loopback serves both). Only environment variables
differ, as in a deployment. Content checksums (:func:`creditlake.checksum.content_checksum`, which
leaves out when and from where a row was loaded) of every bronze and quarantine table, every mart,
and the ledger's counts must agree.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
from pathlib import Path
from typing import Any

import pytest
from secret_files import TEST_PII_KEY, put_pii_key

from creditlake import ledger
from creditlake.lake import NAMESPACES
from creditlake.landing import Landing
from creditlake.settings import Settings, get_settings
from creditlake.sources import SOURCES
from tests.platform_tables import fingerprint

pytestmark = [pytest.mark.slow, pytest.mark.whole_platform]

EXTRACT = dt.date(2026, 1, 1)
LANDING_BUCKET, LAKE_BUCKET = "landing", "lake"
CLOUD_ENV = {
    "CREDITLAKE_LANDING_URI": f"s3://{LANDING_BUCKET}/raw",
    "CREDITLAKE_CATALOG_TYPE": "glue",
    "CREDITLAKE_CATALOG_WAREHOUSE": f"s3://{LAKE_BUCKET}/warehouse",
    "CREDITLAKE_CATALOG_REGION": "us-east-1",
}


def _config() -> Any:
    from generator import GeneratorConfig

    return GeneratorConfig(
        customers=800,
        behaviour_events=30_000,
        extract_date=EXTRACT,
        days=1,
        seed=11,
        defect_rate=0.01,
        late_source=None,
    )


def _demo(home: Path, env: dict[str, str]) -> tuple[Settings, dict[str, Any]]:
    from orchestration.demo import run_demo

    with pytest.MonkeyPatch.context() as patch:
        for name in (*CLOUD_ENV, "CREDITLAKE_S3_ENDPOINT_URL", "MLFLOW_TRACKING_URI"):
            patch.delenv(name, raising=False)
        for name, value in {"CREDITLAKE_HOME": str(home), **env}.items():
            patch.setenv(name, value)
        settings = get_settings()
        put_pii_key(home, TEST_PII_KEY)  # one key for both runs, so that their tokens agree
        # the data path only: MLflow and the model DAGs run the same way in both modes (the
        # end-to-end test covers them)
        run_demo(_config(), settings, models=False)
        return settings, fingerprint(settings)


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory, moto_endpoint: str):
    import boto3

    s3 = boto3.client("s3", endpoint_url=moto_endpoint)
    for bucket in (LANDING_BUCKET, LAKE_BUCKET):
        s3.create_bucket(Bucket=bucket)
    local = _demo(tmp_path_factory.mktemp("local"), {})
    cloud_env = {**CLOUD_ENV, "CREDITLAKE_S3_ENDPOINT_URL": moto_endpoint}
    cloud = _demo(tmp_path_factory.mktemp("cloud"), cloud_env)
    return {"local": local, "cloud": cloud, "endpoint": moto_endpoint}


def test_the_cloud_run_kept_landing_and_lake_in_s3_and_glue(runs) -> None:
    import boto3

    settings, _ = runs["cloud"]
    glue = boto3.client("glue", endpoint_url=runs["endpoint"], region_name="us-east-1")
    databases = {d["Name"] for d in glue.get_databases()["DatabaseList"]}
    assert set(NAMESPACES) <= databases
    bronze = {t["Name"] for t in glue.get_tables(DatabaseName="bronze")["TableList"]}
    assert bronze == set(SOURCES)
    s3 = boto3.client("s3", endpoint_url=runs["endpoint"])
    listed = s3.list_objects_v2(Bucket=LAKE_BUCKET, Prefix="warehouse/bronze.db/loans/data/")
    assert listed.get("KeyCount", 0) > 0
    assert not list(settings.lake_dir.rglob("*.parquet")), "no table file may be written locally"
    assert settings.landing_is_s3 and not (settings.home / "landing").exists()


def test_bronze_and_quarantine_tables_are_identical(runs) -> None:
    local, cloud = runs["local"][1]["tables"], runs["cloud"][1]["tables"]
    lake_tables = [t for t in local if not t.startswith("marts.")]
    assert len(lake_tables) == 2 * len(SOURCES)
    assert all(local[t][0] > 0 for t in lake_tables if t.startswith("bronze."))
    assert sum(local[t][0] for t in lake_tables if t.startswith("quarantine.")) > 0
    differing = [t for t in lake_tables if local[t] != cloud.get(t)]
    assert differing == [], {t: (local[t], cloud.get(t)) for t in differing}


def test_every_mart_is_identical(runs) -> None:
    local, cloud = runs["local"][1]["tables"], runs["cloud"][1]["tables"]
    marts = sorted(t for t in local if t.startswith("marts."))
    assert marts and sorted(t for t in cloud if t.startswith("marts.")) == marts
    assert all(local[t][0] > 0 for t in marts)
    differing = [t for t in marts if local[t] != cloud[t]]
    assert differing == [], {t: (local[t], cloud[t]) for t in differing}


def test_the_ledgers_agree(runs) -> None:
    local, cloud = runs["local"][1], runs["cloud"][1]
    assert len(local["ledger"]) == 2 * len(SOURCES)
    assert {state for state, *_ in local["ledger"].values()} == {ledger.PUBLISHED}
    assert cloud["ledger"] == local["ledger"]
    assert cloud["ledger_rows"] == local["ledger_rows"]


def test_no_raw_identifier_in_the_s3_lake_and_the_scan_reads_it(runs) -> None:
    import boto3

    from orchestration.pii_scan import scan_lake, scan_platform

    settings, _ = runs["cloud"]
    landing = Landing.from_settings(settings)
    known: set[str] = set()
    for day in (EXTRACT, EXTRACT + dt.timedelta(days=1)):
        path = landing.fetch("customers", day, SOURCES["customers"].file_name)
        with path.open(encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                known |= {row["national_id"], row["mobile"], row["bank_card_number"]}
                if len(row["name"]) >= 3:
                    known.add(row["name"])
    known.discard("")
    assert len(known) > 500
    assert scan_platform(settings, known=known) == []

    planted = "warehouse/bronze.db/customers/data/planted.json"
    s3 = boto3.client("s3", endpoint_url=runs["endpoint"])
    s3.put_object(Bucket=LAKE_BUCKET, Key=planted, Body=json.dumps({"m": "13812345678"}).encode())
    try:
        findings = scan_lake(settings)
    finally:
        s3.delete_object(Bucket=LAKE_BUCKET, Key=planted)
    assert [(f.where, f.kind) for f in findings] == [(f"s3://{LAKE_BUCKET}/{planted}", "mobile")]


def test_no_aws_secret_in_anything_the_platform_wrote(runs) -> None:
    settings, _ = runs["cloud"]
    secret = os.environ["AWS_SECRET_ACCESS_KEY"].encode()  # the moto fixture's made-up key
    assert len(secret) > 20
    leaked = [
        str(path)
        for path in settings.home.rglob("*")
        if path.is_file() and secret in path.read_bytes()
    ]
    assert leaked == []
