"""The warehouse-history case: which dates it builds, how it counts the bronze a build reads, and
how it judges a history's daily run against the first one."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from types import SimpleNamespace

import pytest

from bench.cases.warehouse_history import BASELINE, TARGET_RATIO, WarehouseHistoryCase
from bench.core import RunRecord
from bench.data import Scale
from bench.peers.warehouse_history import bronze_rows

EXTRACT = dt.date(2026, 1, 1)


def _scale(tmp_path: Path) -> Scale:
    return Scale(1, tmp_path, EXTRACT)


def test_peers_build_the_first_daily_date_and_the_date_after_each_history(tmp_path) -> None:
    options = SimpleNamespace(out=tmp_path, history_days=[365, 30])
    peers = WarehouseHistoryCase().peers(_scale(tmp_path), options)
    built = {peer.engine: peer.argv[peer.argv.index("--date") + 1] for peer in peers}
    assert built == {"first": "2026-01-02", "after30": "2026-01-31", "after365": "2027-01-01"}
    assert WarehouseHistoryCase.baseline == BASELINE == "first"


def test_bronze_rows_are_the_deliveries_by_the_date_and_those_on_it(tmp_path) -> None:
    import duckdb

    from creditlake.sources import PARTITION_COLUMN, SOURCES

    warehouse = tmp_path / "w.duckdb"
    delivered = ["2026-01-01"] * 5 + ["2026-01-02"] * 2 + ["2026-01-03"]
    with duckdb.connect(str(warehouse)) as con:
        con.execute("create schema bronze")
        for source in SOURCES:
            values = ", ".join(f"(date '{d}')" for d in delivered)
            con.execute(f'create table bronze."{source}" as select * from (values {values}) t')
            con.execute(f'alter table bronze."{source}" rename column col0 to {PARTITION_COLUMN}')
    read, new = bronze_rows(warehouse, dt.date(2026, 1, 2))
    # the later delivery (01-03) is not read by the build of 01-02
    assert (read, new) == (7 * len(SOURCES), 2 * len(SOURCES))


def _run(engine: str, seconds: float) -> RunRecord:
    extra = {
        "build_seconds": seconds,
        "bronze_rows_read": 1000,
        "bronze_rows_new": 10,
        "rows_read_per_new_row": 100.0,
    }
    return RunRecord(
        "warehouse-history", 1, "daily build", engine, 1, seconds + 5, 1.0, "ok", extra
    )


@pytest.mark.parametrize(
    ("after_seconds", "within_target"),
    [(10.0 * TARGET_RATIO, True), (10.0 * TARGET_RATIO + 0.5, False), (9.0, True)],
)
def test_check_takes_each_history_s_build_time_against_the_first_daily_run(
    tmp_path, after_seconds: float, within_target: bool
) -> None:
    runs = [_run("first", 10.0), _run("after30", after_seconds)]
    found = WarehouseHistoryCase().check(_scale(tmp_path), runs)
    assert found["after30"]["equal"] is within_target
    assert f"{after_seconds / 10.0:.2f}× the first daily run" in found["after30"]["what"]
    assert "100.0 per new row" in found["after30"]["what"]
    assert found["first"]["equal"] is True


def test_check_names_the_dbt_nodes_that_grew_most(tmp_path) -> None:
    first, after = _run("first", 10.0), _run("after365", 14.0)
    first.extra["node_seconds"] = {"stg_a": 1.0, "fct_b": 2.0, "tests": 3.0}
    after.extra["node_seconds"] = {"stg_a": 1.1, "fct_b": 5.0, "tests": 4.0}
    what = WarehouseHistoryCase().check(_scale(tmp_path), [first, after])["after365"]["what"]
    assert what.endswith("grew most: fct_b 2.00 → 5.00 s, tests 3.00 → 4.00 s, stg_a 1.00 → 1.10 s")


def test_node_seconds_reads_each_model_and_sums_the_tests(tmp_path, monkeypatch) -> None:
    import json

    from bench.peers.warehouse_history import node_seconds

    results = [
        {"unique_id": "model.creditlake.stg_los__loans", "execution_time": 0.5},
        {"unique_id": "test.creditlake.not_null_x.abc", "execution_time": 0.25},
        {"unique_id": "unit_test.creditlake.fct_loans.case", "execution_time": 0.5},
        {"unique_id": "operation.creditlake.on-run-start", "execution_time": 9.0},
    ]
    (tmp_path / "run_results.json").write_text(json.dumps({"results": results}))
    monkeypatch.setenv("DBT_TARGET_PATH", str(tmp_path))
    assert node_seconds() == {"stg_los__loans": 0.5, "tests": 0.75}
