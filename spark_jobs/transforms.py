"""Pure transforms of the ingestion job: parsed records (:mod:`spark_jobs.parsing`) → typed,
checked and de-duplicated rows → bronze and quarantine rows.

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
from typing import TYPE_CHECKING, NamedTuple

from pyspark.sql import Window
from pyspark.sql import functions as F
from pyspark.sql import types as T

from creditlake.pii import hmac_sha256_column
from creditlake.sources import CUSTOMER_DERIVED_COLUMNS, Source, bronze_columns
from spark_jobs.contract import Batch
from spark_jobs.delivery_gate import DRIFT_COLUMNS, EXTRA_FIELDS, KEY_CENSUS_COLUMNS
from spark_jobs.row_rules import (
    AS_OF_DATE,
    DUPLICATE_KEY,
    LONG_DIGITS,
    REDACTED,
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

#: Quarantine records keep null fields, so "missing" is visible rather than implied.
JSON_WRITE_OPTIONS = {"ignoreNullFields": "false"}
#: Seeds the second line hash, so the two 64-bit hashes are independent.
LINE_HASH_SALT = "creditlake-line"


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
        first_failure(validation_checks(source, EXTRA_FIELDS in census)).alias("_failure"),
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
    """The schema-drift columns, when the frame has them (unit tests may build frames without)."""
    return [name for name in DRIFT_COLUMNS if name in frame.columns]


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
    """The valid rows with lineage, exactly ``bronze_columns(source)`` in order and type, plus
    (JSON Lines) ``_extra_fields``, the undeclared fields that the lake seam turns into columns."""
    lineage = {
        "_source_file": F.lit(batch.source_file),
        "_row_number": F.col("_row_number"),
        "_batch_id": F.lit(batch.batch_id),
        "_ingested_at": F.lit(batch.ingested_at),
    }
    is_loaded = F.col("_outcome") == BRONZE
    extra = [EXTRA_FIELDS] if EXTRA_FIELDS in deduplicated.columns else []
    return deduplicated.where(is_loaded).select(
        *[
            lineage.get(column.name, F.col(column.name)).cast(column.type).alias(column.name)
            for column in bronze_columns(source)
        ],
        *extra,
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
