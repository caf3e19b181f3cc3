"""Source freshness SLAs: dbt's sources.json condensed per date, a real check, deadline records."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from creditlake.settings import Settings, get_settings
from creditlake.sources import SOURCES
from orchestration.freshness import (
    FreshnessError,
    FreshnessResult,
    check_freshness,
    freshness_path,
    latest_counts,
    parse_sources_json,
    read_freshness,
    write_freshness,
)

UTC = dt.UTC


def _row(unique_id: str, status: str, **extra: object) -> dict:
    return {"unique_id": unique_id, "status": status, **extra}


#: Shaped as dbt 1.11 writes target/sources.json (schema v3), trimmed to the fields read.
SOURCES_JSON = {
    "metadata": {"dbt_schema_version": "https://schemas.getdbt.com/dbt/sources/v3.json"},
    "results": [
        _row(
            "source.creditlake.los.loans",
            "warn",
            max_loaded_at="2026-11-30T10:00:00+00:00",
            snapshotted_at="2026-12-01T13:00:00+00:00",
            max_loaded_at_time_ago_in_s=97200.0,
            criteria={
                "warn_after": {"count": 26, "period": "hour"},
                "error_after": {"count": 50, "period": "hour"},
                "filter": "cast(ingest_date as date) <= cast('2026-01-05' as date)",
            },
        ),
        _row(
            "source.creditlake.bureau.bureau_reports",
            "pass",
            max_loaded_at="2026-12-01T12:00:00+00:00",
            snapshotted_at="2026-12-01T13:00:00+00:00",
            max_loaded_at_time_ago_in_s=3600.04,
            criteria={
                "warn_after": {"count": 1, "period": "day"},
                "error_after": {"count": None, "period": None},
            },
        ),
        # No row up to the as-of date: dbt says "loaded at 0001-01-01" and errors.
        _row(
            "source.creditlake.los.collection_actions",
            "error",
            max_loaded_at="0001-01-01T00:00:00+00:00",
            snapshotted_at="2026-12-01T13:00:00+00:00",
            max_loaded_at_time_ago_in_s=63900000000.0,
            criteria={"warn_after": {}, "error_after": {"count": 50, "period": "hour"}},
        ),
        _row(
            "source.creditlake.behaviour.app_events",
            "runtime error",
            error="Catalog Error: Table with name app_events does not exist!",
        ),
    ],
}


def test_a_sources_json_becomes_one_result_per_source_table() -> None:
    results = parse_sources_json(SOURCES_JSON, dt.date(2026, 1, 5))

    assert results == [
        FreshnessResult(
            as_of_date="2026-01-05",
            source="behaviour",
            table="app_events",
            status="error",
            max_loaded_at=None,
            snapshotted_at=None,
            age_seconds=None,
            warn_after=None,
            error_after=None,
            message="Catalog Error: Table with name app_events does not exist!",
        ),
        FreshnessResult(
            as_of_date="2026-01-05",
            source="bureau",
            table="bureau_reports",
            status="pass",
            max_loaded_at="2026-12-01T12:00:00+00:00",
            snapshotted_at="2026-12-01T13:00:00+00:00",
            age_seconds=3600.0,
            warn_after="1 day",
            error_after=None,
        ),
        FreshnessResult(
            as_of_date="2026-01-05",
            source="los",
            table="collection_actions",
            status="error",
            max_loaded_at=None,
            snapshotted_at="2026-12-01T13:00:00+00:00",
            age_seconds=None,
            warn_after=None,
            error_after="50 hours",
        ),
        FreshnessResult(
            as_of_date="2026-01-05",
            source="los",
            table="loans",
            status="warn",
            max_loaded_at="2026-11-30T10:00:00+00:00",
            snapshotted_at="2026-12-01T13:00:00+00:00",
            age_seconds=97200.0,
            warn_after="26 hours",
            error_after="50 hours",
        ),
    ]
    assert results[-1].age_hours == 27.0
    assert "27.0 h ago" in results[-1].describe()
    assert "no delivery up to 2026-01-05" in results[2].describe()


@pytest.mark.parametrize(
    ("dbt_status", "status"),
    [("pass", "pass"), ("warn", "warn"), ("error", "error"), ("runtime error", "error")],
)
def test_dbt_statuses_map_to_pass_warn_or_error(dbt_status: str, status: str) -> None:
    document = {"results": [_row("source.creditlake.los.loans", dbt_status, criteria={})]}

    assert [r.status for r in parse_sources_json(document, "2026-01-05")] == [status]


def test_an_unknown_dbt_status_is_refused_rather_than_counted_as_fresh() -> None:
    document = {"results": [_row("source.creditlake.los.loans", "skipped")]}

    with pytest.raises(ValueError, match="skipped"):
        parse_sources_json(document, "2026-01-05")


def test_results_are_kept_per_date_and_a_rerun_replaces_its_date(creditlake_home: Path) -> None:
    settings = get_settings()
    first = parse_sources_json(SOURCES_JSON, "2026-01-05")
    write_freshness(settings, "2026-01-05", first)
    write_freshness(settings, "2026-01-06", first[1:2])
    write_freshness(settings, "2026-01-06", parse_sources_json(SOURCES_JSON, "2026-01-06")[1:])

    results = read_freshness(settings)

    assert [(r.as_of_date, r.name) for r in results] == [
        ("2026-01-05", "behaviour.app_events"),
        ("2026-01-05", "bureau.bureau_reports"),
        ("2026-01-05", "los.collection_actions"),
        ("2026-01-05", "los.loans"),
        ("2026-01-06", "bureau.bureau_reports"),
        ("2026-01-06", "los.collection_actions"),
        ("2026-01-06", "los.loans"),
    ]
    assert latest_counts(results) == ("2026-01-06", {"pass": 1, "warn": 1, "error": 1})
    assert latest_counts([]) == (None, {})
    assert freshness_path(settings, "2026-01-06").is_file()


def test_the_summary_counts_the_last_date_and_names_the_sources_not_fresh(
    creditlake_home: Path,
) -> None:
    from orchestration.summary import freshness_summary

    settings = get_settings()
    assert freshness_summary(settings) == {}
    write_freshness(settings, "2026-01-06", parse_sources_json(SOURCES_JSON, "2026-01-06"))

    summary = freshness_summary(settings)

    assert summary["as_of_date"] == "2026-01-06"
    assert summary["counts"] == {"pass": 1, "warn": 1, "error": 2}
    assert [line.split(":")[0] for line in summary["not_fresh"]] == [
        "behaviour.app_events",
        "los.collection_actions",
        "los.loans",
    ]


# A real `dbt source freshness` against bronze relations in a DuckDB warehouse -----------------

AS_OF_DATE = dt.date(2026, 1, 5)


def _write_bronze(settings: Settings, deliveries: dict[str, list[tuple[dt.date, dt.datetime]]]):
    """Bronze relations with only the columns freshness reads, as ``pin_bronze`` names them."""
    import duckdb
    import pyarrow as pa

    settings.warehouse_path.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(settings.warehouse_path)) as con:
        con.execute("create schema if not exists bronze")
        for source in SOURCES:
            rows = deliveries.get(source, [])
            table = pa.table(
                {
                    "ingest_date": pa.array([d for d, _ in rows], pa.date32()),
                    "_ingested_at": pa.array([t for _, t in rows], pa.timestamp("us", tz="UTC")),
                }
            )
            con.register("rows", table)
            con.execute(f'create or replace table bronze."{source}" as select * from rows')
            con.unregister("rows")


def test_a_real_check_records_every_source_and_fails_on_a_stale_one(
    creditlake_home: Path,
) -> None:
    """The thresholds are the ones in the dbt sources: LOS warns after 26 h and errors after 50 h,
    behaviour warns after 6 h, the bureau warns after 3 days."""
    settings = get_settings()
    now = dt.datetime.now(UTC)
    fresh = [(AS_OF_DATE, now - dt.timedelta(minutes=10))]
    deliveries = {source: fresh for source in SOURCES}
    # Stale up to the as-of date; the fresh delivery after it is not what this date's build reads.
    deliveries["loans"] = [
        (AS_OF_DATE - dt.timedelta(days=1), now - dt.timedelta(hours=60)),
        (AS_OF_DATE + dt.timedelta(days=1), now),
    ]
    deliveries["app_events"] = [(AS_OF_DATE, now - dt.timedelta(hours=8))]
    deliveries["bureau_reports"] = [(AS_OF_DATE, now - dt.timedelta(days=2))]
    deliveries["collection_actions"] = []
    _write_bronze(settings, deliveries)

    with pytest.raises(FreshnessError) as raised:
        check_freshness(settings, AS_OF_DATE)

    by_name = {r.name: r for r in read_freshness(settings)}
    assert set(by_name) == {f"{s.system}.{name}" for name, s in SOURCES.items()}
    statuses = {name: r.status for name, r in by_name.items() if r.status != "pass"}
    assert statuses == {
        "los.loans": "error",
        "los.collection_actions": "error",
        "behaviour.app_events": "warn",
    }
    assert by_name["los.loans"].age_hours == pytest.approx(60, abs=0.1)
    assert (by_name["los.loans"].warn_after, by_name["los.loans"].error_after) == (
        "26 hours",
        "50 hours",
    )
    assert by_name["los.collection_actions"].max_loaded_at is None
    assert by_name["bureau.bureau_reports"].warn_after == "3 days"
    message = str(raised.value)
    assert "los.loans" in message and "los.collection_actions" in message
    assert "app_events" not in message
    document = json.loads(freshness_path(settings, AS_OF_DATE).read_text())
    assert document["as_of_date"] == "2026-01-05" and len(document["results"]) == len(SOURCES)


# Deadline alerts on the ingest DAGs -----------------------------------------------------------


def test_the_ingest_deadline_is_declared_only_where_configured(
    creditlake_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from airflow.sdk import DeadlineReference

    from creditlake.sources import DOMAIN_CREDIT_BUREAU
    from orchestration.deadlines import ingest_deadline
    from orchestration.ingest import build_ingest_dag

    assert ingest_deadline(get_settings()) is None
    monkeypatch.setenv("CREDITLAKE_INGEST_DEADLINE_SECONDS", "14400")
    alert = ingest_deadline(get_settings())

    assert alert.reference == DeadlineReference.DAGRUN_QUEUED_AT
    assert alert.interval == dt.timedelta(hours=4)
    assert alert.callback.path == "orchestration.deadlines.record_missed_deadline"
    assert build_ingest_dag(DOMAIN_CREDIT_BUREAU, "doc").deadline == [alert]


def test_a_missed_deadline_is_recorded_once_per_dag_and_date(creditlake_home: Path) -> None:
    from orchestration.deadlines import read_missed_deadlines, record_missed_deadline

    # What Airflow passes a deadline callback: the run as its REST API shows it, and the deadline.
    context = {
        "dag_run": {
            "dag_id": "ingest__loan_origination",
            "dag_run_id": "scheduled__2026-01-05T00:00:00+00:00",
            "logical_date": "2026-01-05T00:00:00Z",
            "data_interval_start": "2026-01-05T00:00:00Z",
            "queued_at": "2026-01-06T00:00:05Z",
        },
        "deadline": {"id": "0b6f", "deadline_time": "2026-01-06T04:00:05+00:00"},
    }

    path = record_missed_deadline(context=context)
    record_missed_deadline(context=context)

    assert path.parent.name == "ingest__loan_origination" and path.name == "2026-01-05.json"
    records = read_missed_deadlines(get_settings())
    assert len(records) == 1
    assert records[0]["as_of_date"] == "2026-01-05"
    assert records[0]["deadline_at"] == "2026-01-06T04:00:05+00:00"
    assert read_freshness(get_settings()) == []  # deadline records are not freshness results
