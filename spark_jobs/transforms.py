"""Pure transforms of the ingestion job: numbered landing lines → bronze and quarantine rows.

Each function takes and returns a DataFrame and reads nothing else, so each can be unit-tested with
a few inline rows. Columns the job adds for itself start with ``_`` (registry columns never do);
the final ``select`` in :func:`transform_bronze` and :func:`transform_quarantine` is the schema
contract of the tables the job writes.

A row ends in exactly one of three outcomes, which is what makes reconciliation possible:
``bronze`` (valid), ``quarantine`` (rejected, with the first reason that applies; the admission
rules and their reasons are :mod:`spark_jobs.row_rules`) or ``duplicate`` (an exact copy of an
earlier record's line, dropped and counted).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple

from pyspark.sql import Window
from pyspark.sql import functions as F
from pyspark.sql import types as T

from creditlake.pii import hmac_sha256_column
from creditlake.sources import CUSTOMER_DERIVED_COLUMNS, Source, bronze_columns
from spark_jobs.delivery import CONTINUATION
from spark_jobs.delivery_gate import KEY_CENSUS_COLUMNS
from spark_jobs.row_rules import (
    AS_OF_DATE,
    DUPLICATE_KEY,
    LONG_DIGITS,
    MALFORMED_JSON,
    MALFORMED_ROW,
    MULTILINE,
    REDACTED,
    TRUNCATED,
    failure,
    field,
    first_failure,
    personal_flag,
    quoted,
    screened_columns,
    typed_columns,
    validation_checks,
)

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame

# Outcomes -----------------------------------------------------------------------------------------
BRONZE = "bronze"
QUARANTINE = "quarantine"
DUPLICATE = "duplicate"

#: The quarantine table's columns, in order (docs/CONTRACTS.md).
QUARANTINE_SCHEMA = T.StructType(
    [
        T.StructField("source", T.StringType()),
        T.StructField("source_file", T.StringType()),
        T.StructField("row_number", T.LongType()),
        T.StructField("reason", T.StringType()),
        T.StructField("reason_detail", T.StringType()),
        T.StructField("record_json", T.StringType()),
        T.StructField("raw_line", T.StringType()),
    ]
)

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
#: Quarantine records keep null fields, so "missing" is visible rather than implied.
JSON_WRITE_OPTIONS = {"ignoreNullFields": "false"}
#: Seeds the second line hash, so the two 64-bit hashes are independent.
LINE_HASH_SALT = "creditlake-line"

BLANK = r"^\s*$"
TRUNCATED_DETAIL = "the file ends inside this line (no line feed after it): cut short?"
REPEATED_KEY_DETAIL = "a key appears more than once in the record: which value is meant?"
MULTILINE_DETAIL = (
    "a quoted field holds a line break, so the record continues on the next line(s); "
    "deliver one record per line"
)


@dataclass(frozen=True)
class Batch:
    """Lineage of one ingest attempt, stamped on every bronze row it writes."""

    source_file: str
    batch_id: str
    ingested_at: dt.datetime


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
    in ``_keys`` for the census. A line that is not a JSON object parses to null.
    """
    record = F.col("_record")
    exact = F.size(record) == F.lit(len(source.column_names))
    for name in source.column_names:
        exact = exact & F.map_contains_key(record, F.lit(name))
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
    and the registry keys it lacks (null when there are none).
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
    registry_keys = F.array(*[F.lit(name) for name in source.column_names])
    extra_keys = F.array_except(F.col("_keys"), registry_keys)
    absent_keys = F.array_except(registry_keys, F.col("_keys"))
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
    ).select(
        "_row_number",
        "_raw_line",
        F.col("_malformed").getField("reason").alias("_malformed_reason"),
        F.col("_malformed").getField("detail").alias("_malformed_detail"),
        F.when(F.col("_malformed").isNull(), F.col("_parsed_fields")).alias("_fields"),
        *KEY_CENSUS_COLUMNS,
    )


def _ddl(schema: T.StructType) -> str:
    """A DDL string for ``from_csv``, which takes its schema as text."""
    return ", ".join(f"`{field.name}` {field.dataType.simpleString()}" for field in schema.fields)


def _derived_columns(source: Source) -> list[Column]:
    """Customers: birth date and sex from the national ID, before the ID is tokenised."""
    if source.name != "customers":
        return []
    id_ok = F.col("_id_well_formed") & F.col("_id_check_ok") & F.col("_id_birth_possible")
    sex_digit = F.substring(field("national_id"), 17, 1).try_cast("int")
    derived = {
        "birth_date": F.col("_id_birth_date"),
        "sex": F.when(sex_digit % 2 == 1, F.lit("M")).otherwise(F.lit("F")),
    }
    return [
        F.when(id_ok, derived[column.name]).cast(column.type).alias(column.name)
        for column in CUSTOMER_DERIVED_COLUMNS
    ]


def _source_value_columns(source: Source) -> list[str]:
    """The bronze names of the registry columns (tokens for tokenised ones) plus derived ones."""
    names = [c.bronze_name for c in source.columns]
    if source.name == "customers":
        names.extend(c.name for c in CUSTOMER_DERIVED_COLUMNS)
    return names


class _ValidationPlan(NamedTuple):
    """The columns of :func:`transform_validate`'s three projections, for one source."""

    typed: list[Column | str]
    checked: list[Column | str]
    result: list[Column | str]


#: (id of the Source, PII key, census columns, Spark Connect?) → (the Source, its plan). Building
#: a plan takes thousands of Py4J calls (about half a second); a process that ingests a source for
#: many dates builds it once. The Source is kept to check identity: an id may be reused.
_PLANS: dict[tuple[int, bytes, tuple[str, ...], bool], tuple[Source, _ValidationPlan]] = {}


def _validation_plan(source: Source, pii_key: bytes, census: tuple[str, ...]) -> _ValidationPlan:
    """The (date-independent) columns of :func:`transform_validate`, built once per process."""
    from pyspark.sql.utils import is_remote

    key = (id(source), pii_key, census, is_remote())
    cached = _PLANS.get(key)
    if cached is not None and cached[0] is source:
        return cached[1]
    value_columns = [c.name for c in source.columns if not c.tokenised]
    personal_flags = [personal_flag(c.name) for c in screened_columns(source)]
    passed_on = ["_row_number", "_raw_line", "_fields", "_malformed_reason", "_malformed_detail"]
    typed = [*passed_on, AS_OF_DATE, *census, *typed_columns(source)]
    tokens = [
        hmac_sha256_column(field(c.name), pii_key).alias(c.bronze_name) for c in source.pii_columns
    ]
    checked = [
        "_row_number",
        "_raw_line",
        "_fields",
        field(source.key).alias("_key"),
        F.xxhash64(field(source.key)).alias("_key_hash"),
        F.xxhash64("_raw_line").alias("_line_hash_1"),
        F.xxhash64(F.lit(LINE_HASH_SALT), "_raw_line").alias("_line_hash_2"),
        F.col("_malformed_reason").isNull().alias("_is_record"),
        first_failure(validation_checks(source)).alias("_failure"),
        *census,
        *personal_flags,
        *value_columns,
        *tokens,
        *_derived_columns(source),
    ]
    screened = {c.name for c in screened_columns(source)}

    def shown(name: str) -> Column:
        """A field's text for a quarantine record, unless it may be a misplaced identifier: shaped
        like one (free text) or holding a run of digits as long as a mobile number (typed)."""
        hidden = F.col(personal_flag(name)) if name in screened else field(name).rlike(LONG_DIGITS)
        return F.when(hidden, F.lit(REDACTED)).otherwise(field(name)).alias(name)

    text_record = F.struct(
        *[F.col(c.bronze_name) if c.tokenised else shown(c.name) for c in source.columns]
    )
    failed_check = F.col("_failure").isNotNull()
    record_json = F.when(
        failed_check & F.col("_fields").isNotNull(), F.to_json(text_record, JSON_WRITE_OPTIONS)
    )
    # A raw line is kept only for sources without tokenised columns (a quarantine record shows it
    # only when it holds no misplaced identifier: transform_deduplicate).
    raw_line = F.lit(None) if source.pii_columns else F.col("_raw_line")
    result = [
        "_row_number",
        "_key",
        "_key_hash",
        "_line_hash_1",
        "_line_hash_2",
        "_is_record",
        F.col("_failure").getField("reason").alias("_check_reason"),
        F.col("_failure").getField("detail").alias("_check_detail"),
        record_json.cast("string").alias("_record_json"),
        raw_line.cast("string").alias("_raw_line"),
        *census,
        *_source_value_columns(source),
    ]
    plan = _ValidationPlan(typed, checked, result)
    _PLANS[key] = (source, plan)
    return plan


def transform_validate(
    parsed: DataFrame, source: Source, as_of_date: dt.date, pii_key: bytes
) -> DataFrame:
    """Type every field, run the row checks and replace personal identifiers by their tokens.

    After this step no raw national ID, phone, card number or name is left in the frame (so it
    can be cached safely): ``_record_json`` (the text fields of a row that failed a check, as JSON)
    is built from the tokens, and ``_raw_line`` is kept only for sources without tokenised columns.

    Returns ``_row_number``, ``_key`` and ``_key_hash``, ``_line_hash_1``/``_line_hash_2`` (two
    independent 64-bit hashes of the raw line, for exact-duplicate detection), ``_is_record``
    (the line parsed into fields),
    ``_check_reason``/``_check_detail`` (null when every check passes), ``_record_json``,
    ``_raw_line`` and the bronze source columns: typed values, ``<name>_token`` columns and
    derived columns.
    """
    plan = _validation_plan(source, pii_key, tuple(_census_columns(parsed)))
    dated = parsed.withColumn(AS_OF_DATE, F.lit(as_of_date))
    return dated.select(*plan.typed).select(*plan.checked).select(*plan.result)


def _census_columns(frame: DataFrame) -> list[str]:
    """The key-census columns, when the frame has them (unit tests may build frames without)."""
    return [name for name in KEY_CENSUS_COLUMNS if name in frame.columns]


def transform_find_duplicates(validated: DataFrame) -> DataFrame:
    """The few rows that repeat an earlier line or an earlier valid row's key.

    An exact copy of an earlier line (same key, same text) is dropped and counted, because a
    re-sent row is not an error. Among rows that passed every check, a later row with an
    already-loaded key but different text is a key clash: quarantined as ``duplicate_key``, the
    first one kept. Only lines that parse are records that can be re-sent: identical blank or
    malformed lines (say, two files cut short at the same byte) are each reported.

    Only a 64-bit hash of the key is aggregated over the whole file; the rows whose key hash
    repeats (a handful in a normal delivery, plus any hash collisions) are then compared by their
    real keys on their own, so the wide rows are never shuffled or sorted. Lines count as
    identical when their key and both 64-bit line hashes agree (a false match needs a 128-bit
    collision between two lines with the same key).

    Returns ``_row_number``, ``_is_copy``, ``_is_clash`` and ``_first_valid_row`` (the row whose
    key a clash repeats) for copies and clashes only.
    """
    repeated_key_hashes = (
        validated.groupBy("_key_hash")
        .agg(F.count(F.lit(1)).alias("_lines"))
        .where(F.col("_lines") > 1)
        .select("_key_hash")
    )
    passed = F.col("_check_reason").isNull()
    candidates = validated.join(
        F.broadcast(repeated_key_hashes), on="_key_hash", how="inner"
    ).select(
        "_row_number", "_key", "_line_hash_1", "_line_hash_2", "_is_record", passed.alias("_passed")
    )
    same_line = Window.partitionBy("_key", "_line_hash_1", "_line_hash_2")
    same_key = Window.partitionBy("_key")
    flagged = candidates.select(
        "_row_number",
        "_passed",
        "_is_record",
        F.min("_row_number").over(same_line).alias("_first_same_line"),
        F.min(F.when(F.col("_passed"), F.col("_row_number")))
        .over(same_key)
        .alias("_first_valid_row"),
    )
    is_copy = F.col("_is_record") & (F.col("_row_number") > F.col("_first_same_line"))
    is_clash = ~is_copy & F.col("_passed") & (F.col("_row_number") > F.col("_first_valid_row"))
    return flagged.select(
        "_row_number",
        is_copy.alias("_is_copy"),
        F.coalesce(is_clash, F.lit(False)).alias("_is_clash"),
        "_first_valid_row",
    ).where(F.col("_is_copy") | F.col("_is_clash"))


def transform_deduplicate(
    validated: DataFrame, duplicates: DataFrame | None, source: Source
) -> DataFrame:
    """Decide each row's outcome: bronze, quarantine (with its final reason) or duplicate.

    ``duplicates`` is :func:`transform_find_duplicates` of ``validated``; it is small, so it
    reaches every row through a broadcast join. ``None`` says it is known to be empty, which
    spares the join.

    Returns ``_row_number``, ``_outcome``, ``_reason``, ``_reason_detail``, ``_record_json``,
    ``_raw_line`` (only on quarantined rows) and the bronze source columns.
    """
    if duplicates is None:
        joined = validated.select(
            "*",
            F.lit(None).cast("boolean").alias("_is_copy"),
            F.lit(None).cast("boolean").alias("_is_clash"),
            F.lit(None).cast("bigint").alias("_first_valid_row"),
        )
    else:
        joined = validated.join(F.broadcast(duplicates), on="_row_number", how="left")
    is_copy = F.coalesce(F.col("_is_copy"), F.lit(False))
    is_clash = F.coalesce(F.col("_is_clash"), F.lit(False))
    passed = F.col("_check_reason").isNull()
    outcome = (
        F.when(is_copy, F.lit(DUPLICATE))
        .when(is_clash | ~passed, F.lit(QUARANTINE))
        .otherwise(F.lit(BRONZE))
    )
    shown_key = F.lit("") if source.column(source.key).tokenised else quoted(F.col("_key"))
    clash_detail = F.concat(
        F.lit(f"{source.key} "),
        shown_key,
        F.lit(" was first loaded from row "),
        F.col("_first_valid_row").cast("string"),
    )
    # A clashing row passed every check, so its typed values say what its text said.
    typed_record = F.struct(
        *[F.col(c.bronze_name).cast("string").alias(c.bronze_name) for c in source.columns]
    )
    is_quarantined = outcome == QUARANTINE
    return joined.select(
        "_row_number",
        outcome.alias("_outcome"),
        F.when(is_clash, F.lit(DUPLICATE_KEY))
        .when(is_quarantined, F.col("_check_reason"))
        .cast("string")
        .alias("_reason"),
        F.when(is_clash, clash_detail)
        .when(is_quarantined, F.col("_check_detail"))
        .cast("string")
        .alias("_reason_detail"),
        F.when(is_clash, F.to_json(typed_record, JSON_WRITE_OPTIONS))
        .when(is_quarantined, F.col("_record_json"))
        .cast("string")
        .alias("_record_json"),
        # not when it holds a run of digits as long as a mobile number: a misplaced identifier
        F.when(is_quarantined & ~F.col("_raw_line").rlike(LONG_DIGITS), F.col("_raw_line"))
        .cast("string")
        .alias("_raw_line"),
        *_census_columns(joined),
        *_source_value_columns(source),
    )


def transform_bronze(deduplicated: DataFrame, source: Source, batch: Batch) -> DataFrame:
    """The valid rows with lineage, exactly ``bronze_columns(source)`` in order and type."""
    lineage = {
        "_source_file": F.lit(batch.source_file),
        "_row_number": F.col("_row_number"),
        "_batch_id": F.lit(batch.batch_id),
        "_ingested_at": F.lit(batch.ingested_at),
    }
    is_loaded = F.col("_outcome") == BRONZE
    return deduplicated.where(is_loaded).select(
        *[
            lineage.get(column.name, F.col(column.name)).cast(column.type).alias(column.name)
            for column in bronze_columns(source)
        ]
    )


def transform_key_drift(deduplicated: DataFrame) -> DataFrame:
    """The key census (``_extra_keys``, ``_absent_keys``) of the records whose keys drifted."""
    extra, absent = (F.col(name).isNotNull() for name in KEY_CENSUS_COLUMNS)
    return deduplicated.where(extra | absent).select(*KEY_CENSUS_COLUMNS)


def transform_quarantine(deduplicated: DataFrame, source: Source, source_file: str) -> DataFrame:
    """The rejected rows with their reason, exactly :data:`QUARANTINE_SCHEMA`."""
    values = {
        "source": F.lit(source.name),
        "source_file": F.lit(source_file),
        "row_number": F.col("_row_number"),
        "reason": F.col("_reason"),
        "reason_detail": F.col("_reason_detail"),
        "record_json": F.col("_record_json"),
        "raw_line": F.col("_raw_line"),
    }
    is_quarantined = F.col("_outcome") == QUARANTINE
    return deduplicated.where(is_quarantined).select(
        *[values[field.name].cast(field.dataType).alias(field.name) for field in QUARANTINE_SCHEMA]
    )
