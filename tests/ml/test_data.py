"""ml.data: the training set as of a date is every row owned by that date or an earlier one."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb

from ml.data import read_training_set


def test_training_reads_only_rows_owned_up_to_its_date(tmp_path: Path) -> None:
    warehouse = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(warehouse)) as con:
        con.execute("create schema marts")
        con.execute(
            "create table marts.fct_application_training_set as select * from (values "
            "('A1', date '2025-03-01', 1, date '2026-01-01'), "
            "('A2', date '2025-04-01', 0, date '2026-01-03'), "
            "('A3', date '2025-05-01', 0, date '2026-01-05')) "
            "t(application_id, application_month, is_bad, as_of_date)"
        )

    frame = read_training_set(warehouse, dt.date(2026, 1, 4))

    # A3's label became known on the 5th: a model trained on the 4th must not see it
    assert list(frame["application_id"]) == ["A1", "A2"]
    assert list(frame["application_month"]) == ["2025-03", "2025-04"]


def test_rows_come_in_the_order_of_the_key_whatever_order_the_table_holds(tmp_path) -> None:
    """LightGBM's row subsampling depends on row order: the same rows must arrive the same way."""
    warehouse = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(warehouse)) as con:
        con.execute("create schema marts")
        con.execute(
            "create table marts.fct_application_training_set as select * from (values "
            "('A3', date '2025-03-01', 0, date '2026-01-01'), "
            "('A1', date '2025-03-01', 1, date '2026-01-01'), "
            "('A2', date '2025-03-01', 0, date '2026-01-01')) "
            "t(application_id, application_month, is_bad, as_of_date)"
        )

    frame = read_training_set(warehouse, dt.date(2026, 1, 4))

    assert list(frame["application_id"]) == ["A1", "A2", "A3"]
