"""ml.queue: the day's entries into collections, the least likely to cure first."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import duckdb
import pandas as pd
from mlflow.types import ColSpec, DataType, Schema

from ml import queue

DAY = dt.date(2026, 1, 4)


class _Model:
    """A stand-in for a logged pyfunc: PD from one feature, with reasons."""

    metadata = SimpleNamespace(
        get_input_schema=lambda: Schema([ColSpec(DataType.double, "earlier_max_days_past_due")])
    )

    def predict(self, frame: pd.DataFrame) -> pd.DataFrame:
        pd_hat = frame["earlier_max_days_past_due"] / 100
        return pd.DataFrame(
            {"pd": pd_hat, "score": 600 - 100 * pd_hat, "reasons": "earlier_max_days_past_due"}
        )


def _entries() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "installment_id": ["L1-3", "L2-2", "L3-1", "L4-5"],
            "loan_id": ["L1", "L2", "L3", "L4"],
            "due_date": [DAY - dt.timedelta(days=1)] * 3 + [DAY - dt.timedelta(days=40)],
            "earlier_max_days_past_due": [10, 45, 0, 99],
            "as_of_date": [DAY, DAY, DAY - dt.timedelta(days=1), DAY],
        }
    )


def test_the_queue_is_the_days_fresh_entries_riskiest_first(ml_settings) -> None:
    ml_settings.warehouse_path.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(ml_settings.warehouse_path)) as con:
        con.execute("create schema marts")
        con.register("frame", _entries())
        con.execute("create table marts.fct_collection_entries as select * from frame")
    entries = queue.todays_entries(ml_settings.warehouse_path, DAY)
    # L3 entered on another day; L4's due date is 40 days old: it has rolled past early collections
    assert entries["installment_id"].tolist() == ["L1-3", "L2-2"]
    ordered = queue.order_queue(_Model(), "7", entries, DAY)
    assert ordered[["installment_id", "priority"]].values.tolist() == [["L2-2", 1], ["L1-3", 2]]
    queue.write_queue(ml_settings.warehouse_path, ordered, DAY)
    queue.write_queue(ml_settings.warehouse_path, ordered, DAY)  # a re-run replaces, never adds
    with duckdb.connect(str(ml_settings.warehouse_path), read_only=True) as con:
        rows = con.execute(
            "select installment_id, priority, model_version from ml.collections_queue "
            "order by priority"
        ).fetchall()
    assert rows == [("L2-2", 1, 7), ("L1-3", 2, 7)]


def test_without_a_champion_the_queue_is_empty_and_says_why(ml_settings) -> None:
    ml_settings.warehouse_path.parent.mkdir(parents=True, exist_ok=True)
    result = queue.main(DAY, ml_settings)
    assert (result.rows, result.model_version) == (0, None)
    assert "'c_card' has no version with alias 'champion'" in result.note
