"""The ingest contract both transform engines share, free of any engine import.

Quarantine reasons and details, the Batch lineage and the quarantine layout: the Spark transform
(:mod:`spark_jobs.parsing`, :mod:`spark_jobs.row_rules`, :mod:`spark_jobs.transforms`) and the
in-process DuckDB transform (:mod:`spark_jobs.duckdb_engine`) import them from here, so a process
that runs the DuckDB engine never imports pyspark.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

from creditlake.sources import Column as RegistryColumn
from creditlake.sources import Source
from spark_jobs.delivery import EMBEDDED_NEWLINE, TRUNCATED_LINE

if TYPE_CHECKING:
    import pyarrow as pa

# Quarantine reasons, in the order they are checked (the first failing check wins) ----------------
TRUNCATED = TRUNCATED_LINE  # the file ends inside the line (spark_jobs.delivery)
MULTILINE = EMBEDDED_NEWLINE  # a quoted CSV field holds a line break (spark_jobs.delivery)
MALFORMED_JSON = "malformed_json"
MALFORMED_ROW = "malformed_row"
PERSONAL_DATA = "personal_data_in_unprotected_column"
PERSONAL_DATA_UNDECLARED = "personal_data_in_undeclared_field"
MISSING_REQUIRED = "missing_required"
WRONG_TYPE = "wrong_type"
NEGATIVE_AMOUNT = "negative_amount"
NON_POSITIVE_AMOUNT = "non_positive_amount"
OUT_OF_RANGE = "out_of_range"
INVALID_NATIONAL_ID = "invalid_national_id"
DUPLICATE_KEY = "duplicate_key"

#: The column that holds the run's as-of date (the rules are built once, for every date).
AS_OF_DATE = "_as_of_date"
#: The earliest birth date a national ID may carry; later than the as-of date is impossible too.
EARLIEST_BIRTH_DATE = dt.date(1900, 1, 1)
NATIONAL_ID_SHAPE = r"^[0-9]{17}[0-9X]$"
#: What a quarantine record shows instead of a value shaped like a personal identifier, and a
#: quarantine detail instead of a value with a long run of digits.
REDACTED = "<redacted: shaped like a personal identifier>"
NOT_SHOWN = "(value not shown: a long run of digits)"
#: How much of an offending value a quarantine detail quotes (never for tokenised columns).
DETAIL_VALUE_CHARS = 40

# Malformed-line details ---------------------------------------------------------------------------
TRUNCATED_DETAIL = "the file ends inside this line (no line feed after it): cut short?"
REPEATED_KEY_DETAIL = "a key appears more than once in the record: which value is meant?"
MULTILINE_DETAIL = (
    "a quoted field holds a line break, so the record continues on the next line(s); "
    "deliver one record per line"
)

#: The quarantine table's columns and registry types, in order.
QUARANTINE_COLUMNS = (
    ("source", "string"),
    ("source_file", "string"),
    ("row_number", "bigint"),
    ("reason", "string"),
    ("reason_detail", "string"),
    ("record_json", "string"),
    ("raw_line", "string"),
)


@dataclass(frozen=True)
class Batch:
    """Lineage of one ingest attempt, stamped on every bronze row it writes."""

    source_file: str
    batch_id: str
    ingested_at: dt.datetime


def screened_columns(source: Source) -> list[RegistryColumn]:
    """Text columns not declared personal, where a misplaced personal identifier would reach
    bronze in clear. Typed columns need no screening: an identifier in one fails its type or its
    plausible range, and no detail quotes it."""
    return [c for c in source.columns if c.type == "string" and c.pii is None]


@dataclass(frozen=True)
class ScratchOutput:
    """What either engine's transform leaves for the rest of the job (gate, stage)."""

    files: dict[str, list[str]]
    bronze_schema: pa.Schema
    quarantine_schema: pa.Schema
    #: Exact copies of an earlier line, dropped and counted.
    copies: int
