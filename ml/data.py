"""Reading the training set from the warehouse: tables, the label and the application month.

Training only reads: the marts are dbt's to write. Every connection is read-only, and every
problem with the data (no warehouse, no table, a null or non-binary label) is a
:class:`TrainingDataError` whose message names the table and says what is wrong, so a failed
Airflow task tells its reader what to fix.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd

from ml.names import CREDIT_PD, ModelTarget

#: The application PD model's label (1 = the loan went bad) and the month the out-of-time split
#: cuts on; other models name theirs in their :class:`ml.names.ModelTarget`.
LABEL = CREDIT_PD.label
MONTH = CREDIT_PD.month


class TrainingDataError(ValueError):
    """The training data cannot support a run; the message names the table and what is wrong."""


def _read_only(warehouse_path: Path):
    """A read-only connection: DuckDB allows one writer per file, and dbt may be that writer."""
    import duckdb

    if not warehouse_path.is_file():
        raise TrainingDataError(
            f"warehouse {warehouse_path} does not exist: build it with the transform__warehouse "
            "DAG (or set CREDITLAKE_WAREHOUSE_PATH)"
        )
    return duckdb.connect(str(warehouse_path), read_only=True)


def table_columns(warehouse_path: Path, table: str) -> list[str] | None:
    """A warehouse table's column names, or ``None`` when the table does not exist."""
    schema, name = table.split(".")
    con = _read_only(warehouse_path)
    try:
        rows = con.execute(
            "select column_name from information_schema.columns "
            "where table_schema = ? and table_name = ? order by ordinal_position",
            [schema, name],
        ).fetchall()
    finally:
        con.close()
    return [row[0] for row in rows] or None


def read_table(warehouse_path: Path, table: str) -> pd.DataFrame | None:
    """A whole warehouse table, or ``None`` when it does not exist."""
    if table_columns(warehouse_path, table) is None:
        return None
    con = _read_only(warehouse_path)
    try:
        return con.sql(f"select * from {table}").df()
    finally:
        con.close()


def month_labels(frame: pd.DataFrame, target: ModelTarget = CREDIT_PD) -> pd.Series:
    """``yyyy-mm`` per row, from ``application_month`` (a date or text) or ``applied_at``."""
    if target.month in frame.columns:
        source = frame[target.month]
    elif "applied_at" in frame.columns:
        source = frame["applied_at"]
    else:
        raise TrainingDataError(
            f"{target.training_table} has neither {target.month} nor applied_at"
        )
    if pd.api.types.is_datetime64_any_dtype(source.dtype):
        return source.dt.strftime("%Y-%m")
    return source.astype("str").str.slice(0, 7)


def labels_of(frame: pd.DataFrame, target: ModelTarget = CREDIT_PD) -> np.ndarray:
    """The label as 0/1 integers; a null (an immature loan) or any other value is an error."""
    table, label_name = target.training_table, target.label
    if label_name not in frame.columns:
        raise TrainingDataError(f"{table} has no label column {label_name!r}")
    label = frame[label_name]
    if label.isna().any():
        raise TrainingDataError(
            f"{table}.{label_name} is null in {int(label.isna().sum())} rows: immature loans "
            "must not reach the training set"
        )
    values = label.astype("int64").to_numpy()
    if not np.isin(values, (0, 1)).all():
        raise TrainingDataError(f"{table}.{label_name} must be 0/1 or boolean")
    return values


#: The as-of date that owns a training row: the date its label became known.
OWNER_DATE = "as_of_date"


def read_training_set(
    warehouse_path: Path, as_of_date: dt.date, target: ModelTarget = CREDIT_PD
) -> pd.DataFrame:
    """The target's training set as of ``as_of_date``; ``application_month`` as ``yyyy-mm``.

    The training set is an event mart: each row is owned by the date its label became known and
    never rewritten, so the set as of D is every row owned by D or earlier (a backfilled or later
    date's rows are not part of it). Loans applied for after the month of D stay out as well.
    """
    table = target.training_table
    frame = read_table(warehouse_path, table)
    if frame is None:
        raise TrainingDataError(
            f"table {table} does not exist in {warehouse_path}: build the marts first"
        )
    if OWNER_DATE in frame.columns:
        owned = pd.to_datetime(frame[OWNER_DATE]).dt.date <= as_of_date
        frame = frame[owned.to_numpy()].reset_index(drop=True)
    frame = frame.assign(**{target.month: month_labels(frame, target)})
    frame = frame[frame[target.month] <= as_of_date.strftime("%Y-%m")]
    # In the key's order (a mart's first column): the warehouse returns rows in no set order, and
    # LightGBM's row subsampling depends on it, so the same rows must give the same model.
    frame = frame.sort_values(frame.columns[0], kind="stable").reset_index(drop=True)
    if frame.empty:
        raise TrainingDataError(f"{table} has no rows on or before {as_of_date}")
    return frame
