"""Parsing of the ingestion job: landing lines → numbered lines → text fields of each record.

Each function takes and returns a DataFrame (:mod:`spark_jobs.transforms` goes on from here:
types, checks, duplicates and the two outputs). A line that cannot be parsed is not dropped: it
carries ``_malformed_reason``/``_malformed_detail`` and is quarantined with them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pyspark.sql import Window
from pyspark.sql import functions as F
from pyspark.sql import types as T

from creditlake.sources import Source
from spark_jobs.contract import (
    MALFORMED_JSON,
    MALFORMED_ROW,
    MULTILINE,
    MULTILINE_DETAIL,
    REPEATED_KEY_DETAIL,
    TRUNCATED,
    TRUNCATED_DETAIL,
)
from spark_jobs.delivery import CONTINUATION
from spark_jobs.delivery_gate import EXTRA_FIELDS, KEY_CENSUS_COLUMNS
from spark_jobs.row_rules import failure

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame

CSV_OPTIONS = {
    "sep": ",",
    "quote": '"',
    "escape": '"',  # RFC 4180: a quote inside a quoted field is doubled
    "mode": "PERMISSIVE",
    "columnNameOfCorruptRecord": "_corrupt_record",
}
JSON_OPTIONS = {"mode": "PERMISSIVE"}
#: A JSON Lines record as parsed: every key it has, each value as text (nested values as JSON).
JSON_RECORD = T.MapType(T.StringType(), T.StringType())

BLANK = r"^\s*$"


# Line numbering ---------------------------------------------------------------------------------
def transform_number_lines(lines: DataFrame) -> DataFrame:
    """Give every line its 1-based line number in the file, without RDDs or a global sort.

    ``lines`` has ``_raw_line``, ``_block_start`` (the byte offset of the file split the line was
    read from) and ``_position`` (``monotonically_increasing_id()``, consecutive within a split).
    Splits are numbered in byte order, so a line's number is the count of lines in all earlier
    splits plus its place in its own split. Only the per-split counts (a handful of rows) meet in
    one partition; a ``row_number()`` over the whole file would pull every line through a single
    task.
    """
    per_split = lines.groupBy("_block_start").agg(
        F.count(F.lit(1)).alias("_split_lines"),
        F.min("_position").alias("_split_first_position"),
    )
    # A constant partition says on purpose that the few split counts meet in one task.
    earlier_splits = (
        Window.partitionBy(F.lit(0))
        .orderBy("_block_start")
        .rowsBetween(Window.unboundedPreceding, -1)
    )
    offsets = per_split.select(
        "_block_start",
        "_split_first_position",
        F.coalesce(F.sum("_split_lines").over(earlier_splits), F.lit(0)).alias("_lines_before"),
    )
    line_number = (
        F.col("_lines_before") + (F.col("_position") - F.col("_split_first_position")) + F.lit(1)
    )
    return lines.join(F.broadcast(offsets), on="_block_start", how="inner").select(
        line_number.cast("bigint").alias("_line_number"), "_raw_line"
    )


def transform_mark_lines(numbered: DataFrame, marks: dict[int, str]) -> DataFrame:
    """Flag the few lines the scan of the file's bytes found special (``_line_flag``).

    ``marks`` (:meth:`spark_jobs.delivery.FileScan.line_marks`) maps a line number to
    ``truncated_line`` (the file ends inside it), ``embedded_newline`` (a quoted field opens a
    record that continues on the next lines) or ``continuation``. Continuation lines are dropped:
    a multi-line record is one record, reported once, on the line it starts on.
    """
    flag = F.lit(None).cast("string")
    by_flag: dict[str, list[int]] = {}
    for line, name in marks.items():
        by_flag.setdefault(name, []).append(line)
    for name, lines in sorted(by_flag.items()):
        flag = F.when(F.col("_line_number").isin(lines), F.lit(name)).otherwise(flag)
    flagged = numbered.select("*", flag.alias("_line_flag"))
    if CONTINUATION in by_flag:
        flagged = flagged.where(
            F.col("_line_flag").isNull() | (F.col("_line_flag") != CONTINUATION)
        )
    return flagged


# Parsing ----------------------------------------------------------------------------------------
def _text_schema(source: Source) -> T.StructType:
    """Every registry column as text, plus the parser's corrupt-record column."""
    fields = [T.StructField(name, T.StringType()) for name in source.column_names]
    return T.StructType([*fields, T.StructField("_corrupt_record", T.StringType())])


def _registry_keys(source: Source) -> Column:
    """The registry's column names, as an array literal to compare a record's keys with."""
    return F.array(*[F.lit(name) for name in source.column_names])


def _blank_to_null(value: Column) -> Column:
    """The contract says an empty field is null; a field of only spaces is just as empty."""
    return F.when(F.length(F.trim(value)) > 0, value)


def _csv_field_count(line: Column) -> Column:
    """Fields in a CSV line, RFC 4180 aware: commas inside quoted fields do not separate."""
    unquoted = F.regexp_replace(line, r'"([^"]|"")*"', "")
    return F.length(unquoted) - F.length(F.regexp_replace(unquoted, ",", "")) + F.lit(1)


def _json_fields(lines: DataFrame, source: Source) -> DataFrame:
    """JSON lines parsed once, into every key of the record (a map), then the registry's fields.

    Parsing into a map rather than the registry's struct keeps the keys the record really has, so
    drift needs no second parse: a record whose map has exactly the registry's keys (the usual
    case, checked by its size and N lookups) needs nothing more; any other record lists its keys
    in ``_keys`` for the census and keeps its undeclared fields in ``_extra_record``. A line that
    is not a JSON object parses to null.
    """
    record = F.col("_record")
    exact = F.size(record) == F.lit(len(source.column_names))
    for name in source.column_names:
        exact = exact & F.map_contains_key(record, F.lit(name))
    undeclared = F.map_filter(record, lambda key, _: ~F.array_contains(_registry_keys(source), key))
    # A map with a key given twice (quarantined below) cannot be rebuilt by map_filter.
    keys = F.map_keys(record)
    repeated = F.size(F.array_distinct(keys)) < F.size(keys)
    fields = [record.getItem(name).alias(name) for name in source.column_names]
    return lines.select(
        "_row_number",
        "_raw_line",
        "_line_flag",
        F.when(
            record.isNotNull(),
            F.struct(*fields, F.lit(None).cast("string").alias("_corrupt_record")),
        ).alias("_parsed"),
        F.when(~exact, F.map_keys(record)).alias("_keys"),
        F.when(~exact & ~repeated, undeclared).alias("_extra_record"),
    )


def transform_parse(numbered: DataFrame, source: Source) -> DataFrame:
    """Split numbered lines into text fields, flagging lines that cannot be parsed at all.

    CSV lines go through ``from_csv`` (RFC 4180 quoting) and JSON Lines through ``from_json``; both
    keep every field as text so that a bad value becomes a ``wrong_type`` quarantine with the value
    in view, not a silent null. The CSV header (line 1, checked before Spark reads the file) is
    dropped, so ``_row_number`` is the data row the registry's lineage column promises.

    A line flagged by :func:`transform_mark_lines` is malformed whatever it parses into: a cut
    line may still parse (``0.0730`` cut to ``0.07``) and would load a wrong value.

    Returns ``_row_number``, ``_raw_line``, ``_malformed_reason``/``_malformed_detail`` (null when
    the line parsed), ``_fields`` (a struct of text fields, null for a malformed line) and, for
    JSON Lines, ``_extra_keys``/``_absent_keys``: the keys of a record the registry does not know
    and the registry keys it lacks (null when there are none), and ``_extra_fields``: the
    undeclared fields of a record that parsed (a map of key to text; null when there are none;
    JSON Lines only).
    """
    schema = _text_schema(source)
    line_flag = F.col("_line_flag") if "_line_flag" in numbered.columns else F.lit(None)
    if source.format == "csv":
        rows = numbered.where(F.col("_line_number") > 1).select(
            (F.col("_line_number") - F.lit(1)).alias("_row_number"),
            "_raw_line",
            line_flag.cast("string").alias("_line_flag"),
            F.from_csv(F.col("_raw_line"), _ddl(schema), CSV_OPTIONS).alias("_parsed"),
            F.lit(None).cast("array<string>").alias("_keys"),
            F.lit(None).cast(JSON_RECORD).alias("_extra_record"),
        )
        found = _csv_field_count(F.col("_raw_line")).cast("string")
        malformed_reason = MALFORMED_ROW
        malformed_detail = F.concat(
            F.lit(f"expected {len(source.columns)} comma-separated fields (RFC 4180), found "),
            found,
        )
    else:
        records = numbered.select(
            F.col("_line_number").alias("_row_number"),
            "_raw_line",
            line_flag.cast("string").alias("_line_flag"),
            F.from_json(F.col("_raw_line"), JSON_RECORD, JSON_OPTIONS).alias("_record"),
        )
        rows = _json_fields(records, source)
        malformed_reason = MALFORMED_JSON
        malformed_detail = F.lit("line is not a JSON object")
    # The parsed struct is referenced many times below but parsed once: Spark does not inline an
    # expensive expression into a projection that uses it more than once.
    parsed = F.col("_parsed")
    # A blank line parses to nothing; only then is the (per-character) blank test worth running.
    first_field = _blank_to_null(parsed.getField(source.column_names[0]))
    parsed_to_nothing = parsed.isNull() | first_field.isNull()
    is_blank = F.when(parsed_to_nothing, F.col("_raw_line").rlike(BLANK)).otherwise(F.lit(False))
    unparsable = parsed.isNull() | parsed.getField("_corrupt_record").isNotNull()
    # Only records whose keys are listed (not exactly the registry's) can repeat a key.
    repeated_key = F.size(F.array_distinct(F.col("_keys"))) < F.size(F.col("_keys"))
    flag = F.col("_line_flag")
    malformed = (
        F.when(flag == TRUNCATED, failure(F.lit(TRUNCATED), F.lit(TRUNCATED_DETAIL)))
        .when(flag == MULTILINE, failure(F.lit(MULTILINE), F.lit(MULTILINE_DETAIL)))
        .when(is_blank, failure(F.lit(malformed_reason), F.lit("blank line")))
        .when(unparsable, failure(F.lit(malformed_reason), malformed_detail))
        .when(repeated_key, failure(F.lit(malformed_reason), F.lit(REPEATED_KEY_DETAIL)))
    )
    extra_keys = F.array_except(F.col("_keys"), _registry_keys(source))
    absent_keys = F.array_except(_registry_keys(source), F.col("_keys"))
    fields = F.struct(
        *[_blank_to_null(parsed.getField(name)).alias(name) for name in source.column_names]
    )
    return rows.select(
        "_row_number",
        "_raw_line",
        malformed.alias("_malformed"),
        fields.alias("_parsed_fields"),
        F.when(F.size(extra_keys) > 0, extra_keys).alias("_extra_keys"),
        F.when(F.size(absent_keys) > 0, absent_keys).alias("_absent_keys"),
        F.when(F.size("_extra_record") > 0, F.col("_extra_record")).alias("_extra_record"),
    ).select(
        "_row_number",
        "_raw_line",
        F.col("_malformed").getField("reason").alias("_malformed_reason"),
        F.col("_malformed").getField("detail").alias("_malformed_detail"),
        F.when(F.col("_malformed").isNull(), F.col("_parsed_fields")).alias("_fields"),
        *KEY_CENSUS_COLUMNS,
        # JSON Lines only: a CSV row has exactly the header's fields (checked on the header).
        *(
            [F.when(F.col("_malformed").isNull(), F.col("_extra_record")).alias(EXTRA_FIELDS)]
            if source.format != "csv"
            else []
        ),
    )


def _ddl(schema: T.StructType) -> str:
    """A DDL string for ``from_csv``, which takes its schema as text."""
    return ", ".join(f"`{field.name}` {field.dataType.simpleString()}" for field in schema.fields)
