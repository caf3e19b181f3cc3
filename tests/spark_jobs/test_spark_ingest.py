"""Integration tests of the ingestion job on tiny landing files (CSV and JSON Lines).

The job stages each date on an audit branch of the Iceberg tables and records it in the ledger;
the staged rows are read back through the lake (pyiceberg and Arrow), not Spark, so the
assertions do not share a reader with the job they check.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import re
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from pyspark.sql import functions as F
from secret_files import put_pii_key
from spark_job_helpers import (
    DAY,
    PII_KEY,
    app_event,
    customer,
    customer_line,
    deliver,
    json_line,
    staged_rows,
    transaction,
)

from creditlake import ledger
from creditlake.lake import Lake, bronze_table
from creditlake.landing import Landing, LandingError
from creditlake.settings import PROJECT_ROOT, Settings, get_settings
from creditlake.sources import bronze_columns, get_source
from spark_jobs import delivery, duckdb_engine, ingest
from spark_jobs import transforms as tr
from spark_jobs.ingest import IngestError, ReconciliationError, main

#: Every test runs on both ingest engines: what the job does must not depend on the engine.
pytestmark = pytest.mark.usefixtures("ingest_engine")


def configure_keeping_landing(monkeypatch: pytest.MonkeyPatch, home: Path) -> Settings:
    """Settings for a fresh home that keep the landing URI the test has set."""
    monkeypatch.setenv("CREDITLAKE_HOME", str(home))
    put_pii_key(home, PII_KEY)
    monkeypatch.delenv("CREDITLAKE_LAKE_DIR", raising=False)
    return get_settings()


def location(settings: Settings, source: str, day: dt.date = DAY) -> str:
    src = get_source(source)
    return Landing.from_settings(settings).location(source, day, src.file_name)


# One delivery per format, ingested once for the tests of this module ----------------------------
CUSTOMERS = [customer(n) for n in range(1, 6)]
_ID = CUSTOMERS[3]["national_id"]
WRONG_CHECK = _ID[:-1] + ("1" if _ID[-1] == "0" else "0")
CUSTOMER_LINES = [
    customer_line(1),  # row 1 kept
    customer_line(2),  # row 2 kept
    customer_line(2),  # row 3 exact copy: dropped
    customer_line(3, monthly_income_cny="-1"),  # row 4 negative income
    customer_line(4, national_id=WRONG_CHECK),  # row 5 wrong check character
    "",  # row 6 blank
    customer_line(5, customer_id="C000001"),  # row 7 key clash with row 1
    customer_line(5),  # row 8 kept
]
APP_EVENT_LINES = [
    json_line(app_event(1)),  # row 1 kept
    json_line(app_event(2, event_at="yesterday")),  # row 2 wrong type
    "{not json",  # row 3 malformed
    json_line(app_event(3)),  # row 4 kept
    json_line(app_event(3)),  # row 5 exact copy: dropped
    json_line(app_event(4, device_id=None)),  # row 6 missing device
]
TRANSACTION_LINES = [
    json_line(transaction(1)),  # row 1 kept
    json_line(transaction(2, amount_cny=0)),  # row 2 zero amount
    json_line(transaction(3)),  # row 3 kept
]


@pytest.fixture(scope="module")
def ingested(spark, module_settings: Settings) -> dict[str, ingest.IngestResult]:
    deliver(module_settings, "customers", CUSTOMER_LINES)
    deliver(module_settings, "app_events", APP_EVENT_LINES)
    deliver(module_settings, "transactions", TRANSACTION_LINES)
    return {
        name: main(name, DAY.isoformat(), settings=module_settings, spark=spark)
        for name in ("customers", "app_events", "transactions")
    }


def test_customers_result_accounts_for_every_line(ingested, module_settings):
    result = ingested["customers"].to_dict()
    staged = {k: result.pop(k) for k in ("bronze_snapshot_id", "quarantine_snapshot_id")}
    assert all(isinstance(v, int) for v in staged.values())
    assert result.pop("batch_id").startswith("customers/2026-01-01/")
    assert result == {
        "source": "customers",
        "as_of_date": "2026-01-01",
        "landing_file": location(module_settings, "customers"),
        "landing_rows": 8,
        "bronze_rows": 3,
        "quarantined_rows": 4,
        "duplicates_dropped": 1,
        "quarantined_by_reason": {
            "duplicate_key": 1,
            "invalid_national_id": 1,
            "malformed_row": 1,
            "negative_amount:monthly_income_cny": 1,
        },
        "content_sha256": hashlib.sha256(
            Path(location(module_settings, "customers")).read_bytes()
        ).hexdigest(),
        "new_fields": [],
    }


def test_customers_bronze_rows_are_typed_tokenised_and_traced(ingested, module_settings):
    rows = sorted(
        staged_rows(module_settings, "bronze", "customers"), key=lambda r: r["_row_number"]
    )
    assert [(r["customer_id"], r["_row_number"]) for r in rows] == [
        ("C000001", 1),
        ("C000002", 2),
        ("C000005", 8),
    ]
    first = rows[0]
    assert list(first) == [c.name for c in bronze_columns(get_source("customers"))]
    national_id = CUSTOMERS[0]["national_id"]
    assert first["birth_date"] == dt.date(
        int(national_id[6:10]), int(national_id[10:12]), int(national_id[12:14])
    )
    assert first["sex"] == ("M" if int(national_id[16]) % 2 else "F")
    assert first["_source_file"] == location(module_settings, "customers")
    assert first["_batch_id"].startswith("customers/2026-01-01/")
    assert first["_ingested_at"].tzinfo is not None
    assert first["registered_at"] == dt.datetime(2024, 7, 2, 9, 15, tzinfo=dt.UTC)


def test_customers_quarantine_rows_and_reasons(ingested, module_settings):
    rows = staged_rows(module_settings, "quarantine", "customers")
    assert sorted((r["row_number"], r["reason"]) for r in rows) == [
        (4, "negative_amount:monthly_income_cny"),
        (5, "invalid_national_id"),
        (6, "malformed_row"),
        (7, "duplicate_key"),
    ]
    assert all(r["source"] == "customers" for r in rows)
    assert all(r["source_file"] == location(module_settings, "customers") for r in rows)
    assert all(r["raw_line"] is None for r in rows)  # customers carry PII: no raw lines


def test_app_events_from_json_lines(ingested, module_settings):
    assert ingested["app_events"].quarantined_by_reason == {
        "malformed_json": 1,
        "missing_required:device_id": 1,
        "wrong_type:event_at": 1,
    }
    assert ingested["app_events"].duplicates_dropped == 1
    bronze = staged_rows(module_settings, "bronze", "app_events")
    assert sorted((r["event_id"], r["_row_number"]) for r in bronze) == [
        ("E00000001", 1),
        ("E00000003", 4),
    ]
    assert {r["latitude"] for r in bronze} == {22.5431}


def test_raw_lines_are_quarantined_for_sources_without_pii(ingested, module_settings):
    [row] = staged_rows(module_settings, "quarantine", "transactions")
    assert (row["row_number"], row["reason"]) == (2, "non_positive_amount:amount_cny")
    assert row["raw_line"] == TRANSACTION_LINES[1]
    assert json.loads(row["record_json"])["amount_cny"] == "0"


def test_ledger_records_the_staged_delivery(ingested, module_settings):
    lake = Lake.from_settings(module_settings)
    delivery = ledger.latest_delivery(lake, "app_events", DAY)
    assert delivery.status == ledger.STAGED
    assert delivery.balanced
    assert (delivery.landing_rows, delivery.bronze_rows, delivery.quarantined_rows) == (6, 2, 3)
    assert delivery.duplicates_dropped == 1
    assert delivery.quarantined_by_reason == ingested["app_events"].quarantined_by_reason
    assert delivery.landing_file == location(module_settings, "app_events")
    assert delivery.batch_id == ingested["app_events"].batch_id
    assert delivery.bronze_snapshot_id == ingested["app_events"].bronze_snapshot_id


def test_a_staged_date_is_not_published(ingested, module_settings):
    """Until its gate passes, the date sits on its audit branch: readers of main see nothing."""
    lake = Lake.from_settings(module_settings)
    table = bronze_table("transactions")
    assert lake.read(table).num_rows == 0
    staged = lake.load(table).metadata.refs["audit_2026-01-01"].snapshot_id
    assert staged == ingested["transactions"].bronze_snapshot_id
    summary = lake.load(table).snapshot_by_id(staged).summary.additional_properties
    assert summary["creditlake.as_of_date"] == "2026-01-01"
    assert summary["creditlake.batch_id"] == ingested["transactions"].batch_id
    assert summary["creditlake.content_sha256"] == ingested["transactions"].content_sha256
    assert summary["creditlake.source_file"] == location(module_settings, "transactions")
    counts = ("landing_rows", "bronze_rows", "quarantined_rows", "duplicates_dropped")
    assert [int(summary[f"creditlake.{name}"]) for name in counts] == [3, 2, 1, 0]
    [spec_field] = lake.load(table).spec().fields
    assert (spec_field.name, str(spec_field.transform)) == ("ingest_date", "identity")


def _raw_pii_values() -> set[str]:
    values = set()
    for row in CUSTOMERS:
        values.update(row[name] for name in ("name", "national_id", "mobile", "bank_card_number"))
    values.update(str(app_event(n)["device_id"]) for n in range(1, 5))
    return values


def test_no_raw_pii_anywhere_downstream_of_landing(ingested, module_settings, caplog):
    raw = _raw_pii_values()
    texts = []
    for f in module_settings.lake_dir.rglob("*.parquet"):
        texts.extend(
            json.dumps(row, default=str, ensure_ascii=False) for row in pq.read_table(f).to_pylist()
        )
    texts.extend(p.read_text(encoding="utf-8") for p in module_settings.lake_dir.rglob("*.json"))
    texts.extend(json.dumps(result.to_dict(), ensure_ascii=False) for result in ingested.values())
    everything = "\n".join(texts)
    assert len(texts) > 10  # the scan did read the tables
    leaked = sorted(value for value in raw if value in everything)
    assert leaked == []


def test_job_logs_carry_no_pii(spark, settings, caplog):
    deliver(settings, "customers", [customer_line(1), customer_line(2, monthly_income_cny="x")])
    with caplog.at_level(logging.INFO, logger="spark_jobs"):
        main("customers", DAY, settings=settings, spark=spark)
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "customers 2026-01-01 staged" in logged
    assert not [value for value in _raw_pii_values() if value in logged]


def test_timestamps_mean_utc_whatever_session_the_job_is_given(spark, settings):
    deliver(
        settings, "transactions", [json_line(transaction(1, transacted_at="2025-12-31 23:30:00"))]
    )
    zone = spark.conf.get("spark.sql.session.timeZone")
    spark.conf.set("spark.sql.session.timeZone", "Asia/Shanghai")
    try:
        main("transactions", DAY, settings=settings, spark=spark)
        assert spark.conf.get("spark.sql.session.timeZone") == "Asia/Shanghai"  # put back
    finally:
        spark.conf.set("spark.sql.session.timeZone", zone)
    [row] = staged_rows(settings, "bronze", "transactions")
    assert row["transacted_at"] == dt.datetime(2025, 12, 31, 23, 30, tzinfo=dt.UTC)


# Re-runs and failures ---------------------------------------------------------------------------
def test_rerun_replaces_the_partition_and_an_emptied_quarantine(spark, settings):
    deliver(
        settings,
        "transactions",
        [json_line(transaction(1)), json_line(transaction(2, amount_cny=-5))],
    )
    first = main("transactions", DAY, settings=settings, spark=spark)
    assert (first.bronze_rows, first.quarantined_rows) == (1, 1)

    deliver(settings, "transactions", [json_line(transaction(1)), json_line(transaction(2))])
    second = main("transactions", DAY, settings=settings, spark=spark)
    bronze = staged_rows(settings, "bronze", "transactions")
    assert sorted(r["transaction_id"] for r in bronze) == ["T00000001", "T00000002"]
    assert len({r["_batch_id"] for r in bronze}) == 1  # only the second run's rows
    assert staged_rows(settings, "quarantine", "transactions") == []
    assert (second.bronze_rows, second.quarantined_rows) == (2, 0)
    refs = Lake.from_settings(settings).load(bronze_table("transactions")).metadata.refs
    assert set(refs) == {"main", "audit_2026-01-01"}  # the re-run replaced the date's stage


def break_bronze(monkeypatch, engine: str, spark_change, sql_change) -> None:
    """Change the bronze output of the engine under test: ``spark_change`` maps the Spark frame,
    ``sql_change`` the DuckDB query."""
    if engine == "spark":
        original = tr.transform_bronze
        monkeypatch.setattr(tr, "transform_bronze", lambda *a, **k: spark_change(original(*a, **k)))
        return
    original_sql = duckdb_engine._output_sql

    def changed(*args, **kwargs):
        queries = original_sql(*args, **kwargs)
        return queries | {"bronze": sql_change(queries["bronze"])}

    monkeypatch.setattr(duckdb_engine, "_output_sql", changed)


def test_failed_reruns_leave_the_old_partition_intact(spark, settings, monkeypatch):
    deliver(settings, "customers", [customer_line(1), customer_line(2)])
    main("customers", DAY, settings=settings, spark=spark)
    lake = Lake.from_settings(settings)
    before = staged_rows(settings, "bronze", "customers")
    recorded = ledger.deliveries(lake, "customers", DAY)
    published = lake.snapshot_id(bronze_table("customers"))

    # A delivery with a renamed column fails before anything is written.
    header = ",".join(get_source("customers").column_names).replace("mobile", "phone")
    path = deliver(settings, "customers", [header, customer_line(3)], header=False)
    with pytest.raises(IngestError) as error:
        main("customers", DAY, settings=settings, spark=spark)
    message = str(error.value)
    assert location(settings, "customers") in message
    assert "expected: " + ",".join(get_source("customers").column_names) in message
    assert "found:    " + header in message

    # A failure while the engine writes the new partition (mid-way through the job).
    path.write_text(f"{','.join(get_source('customers').column_names)}\n{customer_line(3)}\n")
    break_bronze(
        monkeypatch,
        settings.ingest_engine,
        lambda frame: frame.withColumn(
            "_row_number", F.raise_error(F.lit("disk full (simulated)")).cast("bigint")
        ),
        lambda sql: sql.replace(
            "SELECT ", "SELECT CAST(error('disk full (simulated)') AS BIGINT) AS _failing, ", 1
        ),
    )
    with pytest.raises(Exception, match="disk full"):
        main("customers", DAY, settings=settings, spark=spark)
    assert staged_rows(settings, "bronze", "customers") == before
    assert ledger.deliveries(lake, "customers", DAY) == recorded  # nothing new recorded
    assert lake.snapshot_id(bronze_table("customers")) == published


def test_reconciliation_failure_is_reported_and_recorded(spark, settings, monkeypatch):
    deliver(settings, "transactions", [json_line(transaction(n)) for n in range(1, 4)])
    break_bronze(
        monkeypatch,
        settings.ingest_engine,
        lambda frame: frame.where(F.col("_row_number") != 2),
        lambda sql: sql + " AND _row_number <> 2",
    )
    with pytest.raises(ReconciliationError) as error:
        main("transactions", DAY, settings=settings, spark=spark)
    assert str(error.value) == (
        "transactions 2026-01-01 does not reconcile: 3 landing rows != "
        "2 bronze + 0 quarantined + 0 duplicates dropped; nothing was published"
    )
    recorded = ledger.latest_delivery(Lake.from_settings(settings), "transactions", DAY)
    assert (recorded.status, recorded.landing_rows, recorded.bronze_rows) == ("unbalanced", 3, 2)


def test_missing_delivery_names_the_landing_location(settings):
    with pytest.raises(LandingError, match=re.escape(location(settings, "loans"))):
        main("loans", DAY, settings=settings)


def test_binary_file_is_refused_naming_it(settings):
    path = deliver(settings, "bureau_reports", [])
    path.write_bytes(b"\x1f\x8b\x08\x00" + bytes(range(256)))
    with pytest.raises(IngestError, match=re.escape(f"landing file {path} is binary")):
        main("bureau_reports", DAY, settings=settings)


def test_not_utf8_is_refused_naming_it(settings):
    path = deliver(settings, "bureau_reports", [])
    path.write_bytes('{"report_id": "\u5f20"}\n'.encode("gb18030"))
    with pytest.raises(IngestError, match=re.escape(f"landing file {path} is not UTF-8 text")):
        main("bureau_reports", DAY, settings=settings)


def test_header_error_does_not_print_personal_data(settings):
    deliver(settings, "customers", [customer_line(1)], header=False)
    with pytest.raises(IngestError) as error:
        main("customers", DAY, settings=settings)
    message = str(error.value)
    assert "has the wrong header line" in message
    assert "characters not shown>" in message
    assert not [value for value in _raw_pii_values() if value in message]


def test_empty_csv_file_has_no_header(settings):
    path = deliver(settings, "loans", [], header=False)
    with pytest.raises(IngestError, match="empty file, no header line"):
        main("loans", DAY, settings=settings)
    assert path.exists()


@pytest.mark.parametrize(
    ("source", "day", "message"),
    [("nope", "2026-01-01", "unknown source 'nope'"), ("loans", "01/02/2026", "is not a date")],
)
def test_unknown_source_or_date_is_an_ingest_error(settings, source, day, message):
    with pytest.raises(IngestError, match=message):
        main(source, day, settings=settings)


def test_ingests_from_an_s3_landing_zone(spark, moto_endpoint, tmp_path, monkeypatch):
    import boto3

    monkeypatch.setenv("CREDITLAKE_S3_ENDPOINT_URL", moto_endpoint)
    # moto keeps one store per process: a bucket of its own, so other tests' objects (a
    # generator test's control file under the same key) are not in this delivery
    monkeypatch.setenv("CREDITLAKE_LANDING_URI", "s3://ingest-test-landing/raw")
    s3_settings = configure_keeping_landing(monkeypatch, tmp_path / "home")
    boto3.client("s3", endpoint_url=moto_endpoint).create_bucket(Bucket="ingest-test-landing")
    delivered = tmp_path / "transactions.jsonl"
    delivered.write_text(json_line(transaction(1)) + "\n", encoding="utf-8")
    uri = Landing.from_settings(s3_settings).put(delivered, "transactions", DAY)

    result = main("transactions", DAY, settings=s3_settings, spark=spark)
    assert uri == "s3://ingest-test-landing/raw/transactions/2026-01-01/transactions.jsonl"
    assert (result.landing_file, result.bronze_rows) == (uri, 1)
    [row] = staged_rows(s3_settings, "bronze", "transactions")
    assert row["_source_file"] == uri


# Line counting (the independent side of reconciliation) -----------------------------------------
@pytest.mark.parametrize(
    ("content", "lines"),
    [
        (b"", 0),
        (b"a", 1),
        (b"a\n", 1),
        (b"a\nb", 2),
        (b"a\r\nb\r\n", 2),
        (b"a\rb\r", 2),
        (b"\n\n", 2),
        (b"a\n\nb\n", 3),
    ],
)
def test_count_lines(tmp_path, monkeypatch, content, lines):
    path = tmp_path / "f.txt"
    path.write_bytes(content)
    assert delivery.count_lines(path) == lines
    monkeypatch.setattr(delivery, "COUNT_CHUNK_BYTES", 1)  # every \r\n split across chunks
    assert delivery.count_lines(path) == lines


def test_count_lines_agrees_with_spark(spark, tmp_path):
    path = tmp_path / "mixed.txt"
    path.write_bytes(b"a\r\nb\rc\n\n d\r\n\r\ne")
    assert delivery.count_lines(path) == spark.read.text(str(path)).count() == 7


# Command line -----------------------------------------------------------------------------------
class _KeepAlive:
    """The shared test session, with ``stop`` made harmless for the CLI under test."""

    def __init__(self, session):
        self._session = session

    def __getattr__(self, name):
        return getattr(self._session, name)

    def stop(self) -> None:
        pass


def test_cli_runs_the_job_and_prints_the_result(spark, settings, monkeypatch, capsys):
    report = dict.fromkeys(get_source("bureau_reports").column_names) | {"report_id": "R1"}
    deliver(settings, "bureau_reports", [json.dumps(report)])
    monkeypatch.setattr("creditlake.spark.get_spark", lambda *a, **k: _KeepAlive(spark))
    assert ingest.cli(["--source", "bureau_reports", "--as-of-date", "2026-01-01"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["quarantined_by_reason"] == {"missing_required:customer_id": 1}

    assert ingest.cli(["--source", "loans", "--as-of-date", "2026-01-01"]) == 1
    assert "has not been delivered" in capsys.readouterr().err


def test_module_entry_point_for_spark_submit():
    completed = subprocess.run(
        [sys.executable, "-m", "spark_jobs.ingest", "--help"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 0
    assert "--source" in completed.stdout
    assert "--as-of-date" in completed.stdout
