"""The lake seam: staged dates are invisible until published; schema changes are policed."""

from __future__ import annotations

import datetime as dt
import multiprocessing
import threading
from concurrent.futures import ProcessPoolExecutor

import pyarrow as pa
import pytest

from creditlake import ledger, maintenance
from creditlake.lake import Lake, LakeError, bronze_table
from creditlake.settings import get_settings

D1, D2 = dt.date(2026, 1, 1), dt.date(2026, 1, 2)
TABLE = bronze_table("loans")


def rows(*ids: str, **extra: list) -> pa.Table:
    return pa.table({"loan_id": pa.array(ids, pa.string()), **extra})


@pytest.fixture
def lake(catalog_backend: str) -> Lake:
    lake = Lake.from_settings(get_settings())
    assert lake.catalog.engine.dialect.name == catalog_backend
    return lake


def _ids(lake: Lake, as_of_date: dt.date | None = None) -> list[str]:
    return sorted(lake.read(TABLE, as_of_date).column("loan_id").to_pylist())


def test_staged_dates_are_invisible_until_published(lake: Lake) -> None:
    first = lake.stage_partition(TABLE, D1, [rows("L1", "L2")], rows().schema, {"batch_id": "b1"})
    assert _ids(lake) == []
    lake.publish(first)
    second = lake.stage_partition(TABLE, D2, [rows("L3")], rows().schema, {})
    assert _ids(lake) == ["L1", "L2"]
    lake.publish(second)
    assert _ids(lake) == ["L1", "L2", "L3"]
    # a re-run of a date replaces that date only
    lake.publish(lake.stage_partition(TABLE, D1, [rows("L9")], rows().schema, {}))
    assert (_ids(lake, D1), _ids(lake, D2)) == (["L9"], ["L3"])
    assert set(lake.load(TABLE).metadata.refs) == {"main"}  # published branches are dropped
    summary = lake.load(TABLE).snapshot_by_id(first.snapshot_id).summary.additional_properties
    assert (summary["creditlake.batch_id"], summary["creditlake.as_of_date"]) == (
        "b1",
        "2026-01-01",
    )


def test_publish_refuses_when_main_moved_since_the_stage(lake: Lake) -> None:
    one = lake.stage_partition(TABLE, D1, [rows("L1")], rows().schema, {})
    two = lake.stage_partition(TABLE, D2, [rows("L2")], rows().schema, {})
    lake.publish(one)
    with pytest.raises(LakeError, match=r"main moved .* re-run the date"):
        lake.publish(two)
    assert _ids(lake) == ["L1"]
    assert lake.publish(one) == one.snapshot_id  # publishing again is a no-op


def test_an_empty_stage_leaves_no_audit_branch_behind(lake: Lake) -> None:
    """A delivery without quarantined rows stages nothing new: publishing it still drops its
    branch (a year of daily runs would otherwise leave 365 refs on every quarantine table)."""
    lake.publish(lake.stage_partition(TABLE, D1, [rows("L1")], rows().schema, {}))
    empty = lake.stage_partition(TABLE, D2, [rows()], rows().schema, {})
    assert empty.snapshot_id == lake.snapshot_id(TABLE)
    lake.publish(empty)
    assert set(lake.load(TABLE).metadata.refs) == {"main"}


def test_published_history_keeps_the_newest_snapshots_and_every_row(
    catalog_backend: str,
) -> None:
    """Past ``snapshot_retention`` snapshots of ``main``'s history the oldest are expired at
    each publish (a table's metadata, and so each commit's cost, stays flat over a year of
    dates); the current snapshot still holds every date's rows, and the newest stay readable."""
    lake = Lake(Lake.from_settings(get_settings()).catalog, snapshot_retention=3)
    published = []
    for day in range(1, 7):
        staged = lake.stage_partition(
            TABLE, dt.date(2026, 1, day), [rows(f"L{day}")], rows().schema, {}
        )
        published.append(lake.publish(staged))
    table = lake.load(TABLE)
    assert len(table.metadata.snapshots) <= 3
    assert _ids(lake) == [f"L{day}" for day in range(1, 7)]
    assert lake.read(TABLE, snapshot_id=published[-2]).num_rows == 5  # time travel within
    assert table.snapshot_by_id(published[0]) is None
    with pytest.raises(LakeError, match=r"snapshot \d+ is no longer in the lake .*RETENTION"):
        lake.read(TABLE, snapshot_id=published[0])


def test_rows_of_another_date_are_refused(lake: Lake) -> None:
    other = rows("L1", ingest_date=[D2])
    with pytest.raises(LakeError, match="1 row\\(s\\) staged for 2026-01-01 carry another"):
        lake.stage_partition(TABLE, D1, [other], other.schema, {})


def test_added_columns_evolve_the_schema_and_retyped_ones_fail(lake: Lake) -> None:
    lake.publish(lake.stage_partition(TABLE, D1, [rows("L1")], rows().schema, {}))
    wider = rows("L2", principal=[10.0])
    lake.publish(lake.stage_partition(TABLE, D2, [wider], wider.schema, {}))
    assert lake.read(TABLE).column("principal").to_pylist() in ([None, 10.0], [10.0, None])
    retyped = rows("L3", principal=["ten"])
    with pytest.raises(LakeError, match=r"column type changed for principal \(double -> string\)"):
        lake.stage_partition(TABLE, D2, [retyped], retyped.schema, {})


def _delivery(as_of_date: dt.date, status: str, sha: str = "a" * 64) -> ledger.Delivery:
    return ledger.Delivery("loans", as_of_date, status, "b", "f", sha, 1, 1, 0, 0)


def test_the_ledger_finds_content_already_published_under_another_date(lake: Lake) -> None:
    ledger.record(lake, _delivery(D1, ledger.STAGED))
    assert ledger.loaded_elsewhere(lake, "loans", "a" * 64, D2) is None  # staged only
    ledger.record(lake, _delivery(D1, ledger.PUBLISHED))
    found = ledger.loaded_elsewhere(lake, "loans", "a" * 64, D2)
    assert found is not None and found.as_of_date == D1
    assert ledger.loaded_elsewhere(lake, "loans", "a" * 64, D1) is None  # a re-run of D1
    assert ledger.loaded_elsewhere(lake, "customers", "a" * 64, D2) is None
    # D1 was corrected with other bytes: the old content is no longer what D1 holds
    ledger.record(lake, _delivery(D1, ledger.PUBLISHED, sha="b" * 64))
    assert ledger.loaded_elsewhere(lake, "loans", "a" * 64, D2) is None
    assert ledger.latest_delivery(lake, "loans", D1).content_sha256 == "b" * 64


def test_a_record_table_stays_small_as_it_grows(
    lake: Lake, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every ledger row is a commit: the table is rewritten as one file past
    ``RECORD_FILES_MAX`` files and keeps its last ``RECORD_SNAPSHOTS_KEPT`` snapshots, so a
    year of history costs each commit no more than a week; every row is still there, in order."""
    monkeypatch.setattr(maintenance, "RECORD_FILES_MAX", 4)
    days = range(1, 15)
    for day in days:
        ledger.record(lake, _delivery(dt.date(2026, 1, day), ledger.STAGED))
    table = lake.load(ledger.DELIVERIES)
    assert len(table.metadata.snapshots) <= maintenance.RECORD_SNAPSHOTS_KEPT
    assert int(table.current_snapshot().summary["total-data-files"]) <= 5
    assert [d.as_of_date.day for d in ledger.deliveries(lake, "loans")] == list(days)


def _record_deliveries(source: str, count: int, start: threading.Barrier) -> None:
    """One writer process: ``count`` ledger rows for ``source``, one commit each, once every
    writer is ready (they start together, so their commits race, with each other and with the
    rewrites of the table every few files)."""
    maintenance.RECORD_FILES_MAX = 3
    lake = Lake.from_settings(get_settings())
    lake.load(ledger.DELIVERIES)
    start.wait(timeout=120)
    for day in range(1, count + 1):
        entry = ledger.Delivery(source, dt.date(2026, 1, day), "staged", "b", "f", "a", 1, 1, 0, 0)
        ledger.record(lake, entry)


def test_concurrent_writers_lose_no_ledger_row(lake: Lake) -> None:
    """Ingest tasks of different sources run at once (a LocalExecutor, a cluster) and all append
    to one ledger: a commit that loses the race is retried, never dropped."""
    ledger.record(lake, _delivery(D1, ledger.STAGED))  # the table exists before the race
    sources = ["customers", "applications", "loans", "transactions"]
    context = multiprocessing.get_context("spawn")
    writers = ProcessPoolExecutor(len(sources), mp_context=context)
    with context.Manager() as manager, writers as pool:
        start = manager.Barrier(len(sources))
        for done in [pool.submit(_record_deliveries, s, 6, start) for s in sources]:
            done.result()
    written = [(source, day) for source in sources for day in range(1, 7)] + [("loans", 1)]
    found = [(r.source, r.as_of_date.day) for r in ledger.deliveries(lake)]
    assert sorted(found) == sorted(written)
