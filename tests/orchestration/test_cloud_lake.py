"""The lake on S3 with the Glue catalog (a moto server on loopback): what reads it without an S3
connector of its own (the warehouse pin, the PII scan) reads the objects, not a local folder."""

from __future__ import annotations

import contextlib
import datetime as dt
import io
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from pyiceberg.exceptions import NamespaceAlreadyExistsError, NoSuchNamespaceError

from creditlake.catalog import catalog_exists, catalog_properties, describe, is_embedded
from creditlake.lake import NAMESPACES, PINNED_SNAPSHOTS_TABLE, Lake, bronze_table, quarantine_table
from creditlake.settings import Settings, get_settings
from orchestration.dbt import pin_bronze
from orchestration.pii_scan import scan_lake

DAY = dt.date(2026, 1, 1)
PHONE = "13812345678"


BUCKET = "lake-tests"


@pytest.fixture
def glue_settings(
    moto_endpoint: str, creditlake_home: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Settings]:
    """Settings of a lake in S3 with the Glue catalog; its tables and objects are removed
    afterwards (the moto server, and so the catalog, is shared by the module's tests)."""
    import boto3

    s3 = boto3.client("s3", endpoint_url=moto_endpoint)
    with contextlib.suppress(s3.exceptions.BucketAlreadyOwnedByYou):
        s3.create_bucket(Bucket=BUCKET)
    for name, value in {
        "CREDITLAKE_CATALOG_TYPE": "glue",
        "CREDITLAKE_CATALOG_WAREHOUSE": f"s3://{BUCKET}/warehouse",
        "CREDITLAKE_S3_ENDPOINT_URL": moto_endpoint,
    }.items():
        monkeypatch.setenv(name, value)
    settings = get_settings()
    yield settings
    catalog = Lake.from_settings(settings).catalog
    for namespace in NAMESPACES:
        with contextlib.suppress(NoSuchNamespaceError):
            for identifier in catalog.list_tables(namespace):
                catalog.purge_table(identifier)
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET):
        for item in page.get("Contents", []):
            s3.delete_object(Bucket=BUCKET, Key=item["Key"])


def _publish_loans(settings: Settings, loan_ids: list[str]) -> Lake:
    lake = Lake.from_settings(settings)
    rows = pa.table({"loan_id": loan_ids, "principal_cny": [1000.0] * len(loan_ids)})
    staged = lake.stage_partition(bronze_table("loans"), DAY, [rows], rows.schema, {})
    lake.publish(staged)
    return lake


def test_catalog_configuration_has_endpoints_and_no_keys(glue_settings: Settings) -> None:
    properties = catalog_properties(glue_settings)
    assert properties["type"] == "glue"
    assert properties["glue.endpoint"] == properties["s3.endpoint"]
    assert properties["glue.endpoint"] == glue_settings.s3_endpoint_url
    assert not [key for key in properties if "key" in key or "secret" in key]
    assert not is_embedded(glue_settings) and catalog_exists(glue_settings)
    assert describe(glue_settings).startswith("Glue catalog in us-east-1, tables in s3://")


def test_the_default_lake_is_embedded_and_absent_until_written(creditlake_home: Path) -> None:
    settings = get_settings()
    assert is_embedded(settings) and not catalog_exists(settings)
    Lake.from_settings(settings)
    assert catalog_exists(settings)


def test_published_files_in_s3_are_pinned_as_tables_again_and_again(
    glue_settings: Settings,
) -> None:
    lake = _publish_loans(glue_settings, ["L1", "L2"])
    files = lake.partition_files(bronze_table("loans"), DAY)
    assert files and all(f.path.startswith("s3://") and f.local_path is None for f in files)
    pin_bronze(glue_settings)
    _publish_loans(glue_settings, ["L1", "L2", "L3"])
    pinned = pin_bronze(glue_settings)  # the second pin replaces the table the first one made
    with duckdb.connect(str(glue_settings.warehouse_path), read_only=True) as con:
        ids = sorted(r[0] for r in con.execute('select loan_id from bronze."loans"').fetchall())
        recorded = con.execute(f"select snapshot_id from {PINNED_SNAPSHOTS_TABLE}").fetchall()
    assert ids == ["L1", "L2", "L3"]
    assert recorded == [(pinned["loans"],)] == [(lake.snapshot_id(bronze_table("loans")),)]


def test_the_pii_scan_reads_the_lake_objects_in_s3(glue_settings: Settings) -> None:
    import boto3

    _publish_loans(glue_settings, ["L1"])
    assert scan_lake(glue_settings) == []
    bucket = BUCKET
    buffer = io.BytesIO()
    pq.write_table(pa.table({"note": [f"call {PHONE}"]}), buffer)
    key = "warehouse/bronze.db/loans/data/ingest_date=2026-01-01/stray.parquet"
    boto3.client("s3", endpoint_url=glue_settings.s3_endpoint_url).put_object(
        Bucket=bucket, Key=key, Body=buffer.getvalue()
    )
    findings = scan_lake(glue_settings)
    assert [(f.kind, f.where) for f in findings] == [
        ("mobile", f"s3://{bucket}/warehouse/bronze.db/loans/data")
    ]


def test_a_provisioned_database_keeps_its_tables_at_its_location_and_they_are_scanned(
    glue_settings: Settings,
) -> None:
    """As infra/terraform provisions them: the database exists (the lake must not try to create
    it) and has its own location, outside the warehouse prefix."""
    import boto3

    lake = Lake.from_settings(glue_settings)
    location = f"s3://{BUCKET}/provisioned/quarantine/"
    with contextlib.suppress(NamespaceAlreadyExistsError):
        lake.catalog.create_namespace("quarantine", {"location": location})
    rows = pa.table({"reason": ["malformed_row"]})
    lake.stage_partition(quarantine_table("loans"), DAY, [rows], rows.schema, {})
    assert lake.load(quarantine_table("loans")).location() == f"{location}loans"
    key = "provisioned/quarantine/loans/data/stray.json"
    boto3.client("s3", endpoint_url=glue_settings.s3_endpoint_url).put_object(
        Bucket=BUCKET, Key=key, Body=f'{{"mobile": "{PHONE}"}}'.encode()
    )
    findings = scan_lake(glue_settings)
    assert [(f.kind, f.where) for f in findings] == [("mobile", f"s3://{BUCKET}/{key}")]


def test_snapshot_ids_in_s3_metadata_are_not_reported_as_identifiers(
    glue_settings: Settings, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """With every 16-19 digit run taken for a card and every 18-digit one for a national ID, the
    lake's metadata is full of candidates (its snapshot ids); none may come back from the scan of
    the S3 objects."""
    from creditlake import objectstore
    from orchestration import pii_scan

    _publish_loans(glue_settings, ["L1"])
    _publish_loans(glue_settings, ["L2"])
    monkeypatch.setitem(pii_scan._VALIDATORS, "bank_card", lambda value: True)
    monkeypatch.setitem(pii_scan._VALIDATORS, "national_id", lambda value: True)
    objectstore.download_prefix(glue_settings, glue_settings.catalog_warehouse, tmp_path / "copy")
    assert pii_scan.scan_files([tmp_path / "copy"])  # candidates are there, unfiltered
    assert scan_lake(glue_settings) == []
