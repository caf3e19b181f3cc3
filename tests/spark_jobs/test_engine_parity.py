"""Both ingest engines write the same bronze and quarantine for the same deliveries.

The embedded default lands bronze on DuckDB and the cluster path on Spark; two implementations of
one contract must not drift apart silently. Every source's delivery from the project's generator
(with its realistic defects, so every quarantine path the generator knows is exercised) is ingested
by each engine in turn, and the staged rows, the schemas each engine hands the lake and the ledger
counts must be equal; only the load-time columns (batch id, ingest time) may differ.

The deliveries are the ones the Spark cluster test compares the cluster with
(``tests/reference_deliveries.py``): this test is the ``local[2]`` half of that comparison.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from conftest import configure
from secret_files import put_pii_key

from creditlake import ledger
from creditlake.checksum import LOAD_TIME_COLUMNS, content_checksum
from creditlake.lake import Lake, bronze_table, quarantine_table
from creditlake.settings import Settings
from creditlake.sources import SOURCES
from spark_jobs import ingest
from tests.reference_deliveries import DAILY, EXTRACT, PII_KEY, generator_config

LEDGER_COUNTS = (
    "landing_rows",
    "bronze_rows",
    "quarantined_rows",
    "duplicates_dropped",
    "quarantined_by_reason",
)


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory):
    """The reference deliveries (initial extract and one daily file, with defects), tokenised
    with the reference key."""
    from generator import generate

    with pytest.MonkeyPatch.context() as monkeypatch:
        home = tmp_path_factory.mktemp("parity")
        settings = configure(monkeypatch, home)
        put_pii_key(home, PII_KEY)
        generate(generator_config(), settings, progress=lambda _: None)
        yield monkeypatch, settings


def _staged(settings: Settings, source: str, day: dt.date) -> dict[str, Any]:
    """What the latest ingest staged: bronze and quarantine rows in row order, their checksums
    and the ledger counts."""
    lake = Lake.from_settings(settings)
    record = ledger.latest_delivery(lake, source, day)
    staged: dict[str, Any] = {"ledger": {name: getattr(record, name) for name in LEDGER_COUNTS}}
    for layer, table, snapshot in (
        ("bronze", bronze_table(source), record.bronze_snapshot_id),
        ("quarantine", quarantine_table(source), record.quarantine_snapshot_id),
    ):
        rows = lake.read(table, day, snapshot)
        kept = [name for name in rows.column_names if name not in LOAD_TIME_COLUMNS]
        staged[layer] = rows.select(kept).sort_by(
            "row_number" if layer != "bronze" else "_row_number"
        )
        staged[f"{layer}_checksum"] = content_checksum(rows)
    return staged


def _run(engine: str, monkeypatch, settings, spark, source: str, day: dt.date, schemas: dict):
    """Ingest with ``engine``, keeping the Arrow schemas its transform handed to the lake."""
    monkeypatch.setenv("CREDITLAKE_INGEST_ENGINE", engine)
    seams = {"duckdb": "transform_to_scratch", "spark": "_transform_spark"}
    original = getattr(ingest, seams[engine])

    def keeping_schemas(*args, **kwargs):
        output = original(*args, **kwargs)
        schemas[engine] = (output.bronze_schema, output.quarantine_schema)
        return output

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(ingest, seams[engine], keeping_schemas)
        ingest.main(source, day, spark=spark)
    return _staged(settings, source, day)


@pytest.mark.parametrize(
    ("source", "day"),
    [(name, EXTRACT) for name in SOURCES]
    + [("app_events", DAILY), ("repayments", DAILY), ("customers", DAILY)],
)
def test_both_engines_stage_the_same_bronze_and_quarantine(generated, spark, source, day):
    monkeypatch, settings = generated
    schemas: dict[str, tuple] = {}
    on_duckdb = _run("duckdb", monkeypatch, settings, spark, source, day, schemas)
    on_spark = _run("spark", monkeypatch, settings, spark, source, day, schemas)
    # The small generated run's daily customers file holds only its header: parity on an empty
    # delivery; every other delivery must load rows, or the comparison below proves little.
    assert on_duckdb["bronze"].num_rows > 0 or (source, day) == ("customers", DAILY)
    assert schemas["duckdb"] == schemas["spark"]
    assert on_duckdb["ledger"] == on_spark["ledger"]
    for layer in ("bronze", "quarantine"):
        assert on_duckdb[layer].schema == on_spark[layer].schema
        assert on_duckdb[layer].to_pylist() == on_spark[layer].to_pylist(), layer
        assert on_duckdb[f"{layer}_checksum"] == on_spark[f"{layer}_checksum"]


def test_the_generated_deliveries_exercise_quarantine(generated, spark):
    """The parity above is worth little if nothing was quarantined: the defects must reach it."""
    _, settings = generated
    lake = Lake.from_settings(settings)
    quarantined = sum(
        ledger.latest_delivery(lake, name, EXTRACT).quarantined_rows for name in SOURCES
    )
    assert quarantined > 0
