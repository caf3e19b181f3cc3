"""A made-up source small enough to read, with one column for each kind of check, and helpers
that run inline lines through the ingestion transforms (one Spark job per case table)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import hmac
import json

from pyspark.sql import functions as F
from spark_job_helpers import DAY, PII_KEY

from creditlake.sources import Column, Source
from spark_jobs import parsing
from spark_jobs import transforms as tr

KEY = PII_KEY.encode()
TS = "2026-01-01 08:00:00"
PHONE = "13800000000"

#: A made-up source small enough to read, with one column for each kind of check.
WIDGETS = Source(
    name="widgets",
    domain="test",
    format="csv",
    key="widget_id",
    description="test source",
    columns=(
        Column("widget_id", "string", required=True),
        Column("owner_phone", "string", required=True, pii="C2"),
        Column("amount_cny", "decimal(12,2)", required=True, positive=True),
        Column("quantity", "int", non_negative=True),
        Column("made_at", "timestamp", required=True),
        Column("note", "string"),
    ),
)
WIDGETS_JSONL = dataclasses.replace(WIDGETS, format="jsonl")
WIDGETS_WITHOUT_PII = dataclasses.replace(
    WIDGETS, columns=tuple(dataclasses.replace(c, pii=None) for c in WIDGETS.columns)
)


def python_hmac(value: str) -> str:
    """The expected token, from Python's hmac module (independent of the Spark expression)."""
    return hmac.new(KEY, value.encode("utf-8"), hashlib.sha256).hexdigest()


def widget(key: str, phone=PHONE, amount="10.50", quantity="3", made_at=TS, note="ok") -> str:
    return ",".join([key, phone, amount, quantity, made_at, note])


def widget_json(key: str, **values: object) -> str:
    row = {"widget_id": key, "owner_phone": PHONE, "amount_cny": 10.5, "quantity": 3}
    row |= {"made_at": TS, "note": "北京"}
    row.update(values)
    return json.dumps({k: v for k, v in row.items() if v is not ...}, ensure_ascii=False)


def classify(spark, source: Source, lines: list[str], day: dt.date = DAY):
    """Lines as delivered (a CSV header is added) → the deduplicated frame of the job."""
    if source.format == "csv":
        lines = [",".join(source.column_names), *lines]
    numbered = spark.createDataFrame(
        [(number, line) for number, line in enumerate(lines, start=1)],
        "_line_number bigint, _raw_line string",
    )
    validated = tr.transform_validate(parsing.transform_parse(numbered, source), source, day, KEY)
    duplicates = tr.transform_find_duplicates(validated)
    return tr.transform_deduplicate(validated, duplicates, source)


def by_row(frame) -> dict[int, dict]:
    """Rows by data row number, timestamps as UTC text (independent of the test machine's zone)."""
    text_times = [
        F.date_format(name, "yyyy-MM-dd HH:mm:ss").alias(name)
        for name, kind in frame.dtypes
        if kind == "timestamp"
    ]
    other = [name for name, kind in frame.dtypes if kind != "timestamp"]
    return {row["_row_number"]: row.asDict() for row in frame.select(*other, *text_times).collect()}
