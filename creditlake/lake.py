"""Where things live in the lake, and the one seam through which tables are written.

Bronze and quarantine are Hive-style partitioned Parquet (``<table>/ingest_date=<date>/``). Every
write goes through :func:`replace_partition`, which writes the new partition aside and swaps it in
with renames, so a re-run of a date replaces that date (never appends) and a failed run leaves the
old partition intact. A table format (Iceberg, Delta, DuckLake) can take over behind this seam
later without touching the jobs.
"""

from __future__ import annotations

import datetime as dt
import shutil
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

from creditlake.sources import PARTITION_COLUMN

if TYPE_CHECKING:
    from pyspark.sql import DataFrame


def partition_dir(table_dir: Path, as_of_date: dt.date) -> Path:
    return table_dir / f"{PARTITION_COLUMN}={as_of_date.isoformat()}"


def replace_partition(df: DataFrame, table_dir: Path, as_of_date: dt.date) -> Path:
    """Write ``df`` as the ``as_of_date`` partition of ``table_dir``, atomically per partition.

    The new data is written to a hidden sibling folder (Spark and DuckDB skip names starting with
    ``_`` or ``.``), then the old partition is renamed away and the new one renamed in. Renames
    within one file system are atomic, so readers see the old partition or the new one.
    """
    target = partition_dir(table_dir, as_of_date)
    table_dir.mkdir(parents=True, exist_ok=True)
    token = uuid.uuid4().hex[:12]
    staging = table_dir / f"_staging_{target.name}_{token}"
    df.write.mode("overwrite").parquet(str(staging))
    retired = table_dir / f"_retired_{target.name}_{token}"
    if target.exists():
        target.rename(retired)
    staging.rename(target)
    shutil.rmtree(retired, ignore_errors=True)
    return target


def parse_date(value: str | dt.date, setting: str = "date") -> dt.date:
    """A ``yyyy-mm-dd`` date, or a clear error naming what was wrong."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value)[:10])
    except ValueError:
        raise ValueError(f"{setting} {value!r} is not a date in yyyy-mm-dd form") from None
