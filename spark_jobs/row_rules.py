"""The row admission rules of the ingest job: what a landing row must be to enter bronze.

Each rule is a :class:`Check` built from the source registry (required columns, registry types,
amount signs, the national ID); a row that fails one is quarantined with the reason of the first
that fails, in the order :func:`validation_checks` lists them. This is the one home of these rules:
nothing downstream of bronze checks them again (docs/quality.md).
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, NamedTuple

from pyspark.sql import functions as F

from creditlake.pii import national_id_check_column
from creditlake.sources import Source

if TYPE_CHECKING:
    from pyspark.sql import Column

# Quarantine reasons, in the order they are checked (the first failing check wins) ----------------
MALFORMED_JSON = "malformed_json"
MALFORMED_ROW = "malformed_row"
MISSING_REQUIRED = "missing_required"
WRONG_TYPE = "wrong_type"
NEGATIVE_AMOUNT = "negative_amount"
NON_POSITIVE_AMOUNT = "non_positive_amount"
INVALID_NATIONAL_ID = "invalid_national_id"
DUPLICATE_KEY = "duplicate_key"

#: The earliest birth date a national ID may carry; later than the as-of date is impossible too.
EARLIEST_BIRTH_DATE = dt.date(1900, 1, 1)
NATIONAL_ID_SHAPE = r"^[0-9]{17}[0-9X]$"
#: How much of an offending value a quarantine detail quotes (never for tokenised columns).
DETAIL_VALUE_CHARS = 40


class Check(NamedTuple):
    """One validation: when ``failed`` is true the row is quarantined with this reason."""

    failed: Column
    reason: Column
    detail: Column


def failure(reason: Column, detail: Column) -> Column:
    """The (reason, detail) struct a quarantined row carries."""
    return F.struct(reason.cast("string").alias("reason"), detail.cast("string").alias("detail"))


def field(name: str) -> Column:
    """A field of the row as text, as parsed from the landing line."""
    return F.col("_fields").getField(name)


def quoted(value: Column) -> Column:
    """The start of an offending value, quoted, for a quarantine detail."""
    return F.concat(F.lit("'"), F.substring(value, 1, DETAIL_VALUE_CHARS), F.lit("'"))


def typed_columns(source: Source, as_of_date: dt.date) -> list[Column]:
    """Each non-tokenised field cast to its registry type (null when it does not cast), plus,
    for customers, the national-ID facts the checks and derived columns need.

    Tokenised columns are all text and stay in ``_fields`` until they are tokenised.
    """
    typed = [
        (field(c.name) if c.type == "string" else field(c.name).try_cast(c.type)).alias(c.name)
        for c in source.columns
        if not c.tokenised
    ]
    if source.name != "customers":
        return typed
    national_id = field("national_id")
    well_formed = F.coalesce(national_id.rlike(NATIONAL_ID_SHAPE), F.lit(False))
    # The check-digit expression casts digits to int; it only ever sees well-formed IDs, so a
    # stray letter can never raise an ANSI cast error.
    check_ok = F.coalesce(national_id_check_column(F.when(well_formed, national_id)), F.lit(False))
    birth_date = F.try_to_date(F.substring(national_id, 7, 8), "yyyyMMdd")
    birth_possible = F.coalesce(
        birth_date.between(F.lit(EARLIEST_BIRTH_DATE), F.lit(as_of_date)), F.lit(False)
    )
    return [
        *typed,
        well_formed.alias("_id_well_formed"),
        check_ok.alias("_id_check_ok"),
        birth_possible.alias("_id_birth_possible"),
        birth_date.alias("_id_birth_date"),
    ]


def validation_checks(source: Source, as_of_date: dt.date) -> list[Check]:
    """The row checks in the order their reasons are reported; the first failing one wins.

    They read ``_fields`` (the text) and the columns of :func:`typed_columns`.
    """
    checks = [
        Check(
            F.col("_malformed_reason").isNotNull(),
            F.col("_malformed_reason"),
            F.col("_malformed_detail"),
        )
    ]
    for column in source.columns:
        if column.required:
            checks.append(
                Check(
                    field(column.name).isNull(),
                    F.lit(f"{MISSING_REQUIRED}:{column.name}"),
                    F.lit(f"required column {column.name} is empty"),
                )
            )
    for column in source.columns:
        if column.type != "string" and not column.tokenised:
            checks.append(
                Check(
                    field(column.name).isNotNull() & F.col(column.name).isNull(),
                    F.lit(f"{WRONG_TYPE}:{column.name}"),
                    F.concat(
                        F.lit(f"{column.name} "),
                        quoted(field(column.name)),
                        F.lit(f" is not a {column.type}"),
                    ),
                )
            )
    for column in source.columns:
        if (column.positive or column.non_negative) and not column.tokenised:
            value = F.col(column.name)
            checks.append(
                Check(
                    value < 0,
                    F.lit(f"{NEGATIVE_AMOUNT}:{column.name}"),
                    F.concat(F.lit(f"{column.name} "), value.cast("string"), F.lit(" is below 0")),
                )
            )
            if column.positive:
                checks.append(
                    Check(
                        value == 0,
                        F.lit(f"{NON_POSITIVE_AMOUNT}:{column.name}"),
                        F.lit(f"{column.name} is 0 but must be positive"),
                    )
                )
    if source.name == "customers":
        checks.append(_national_id_check(as_of_date))
    return checks


def _national_id_check(as_of_date: dt.date) -> Check:
    well_formed = F.col("_id_well_formed")
    check_ok = F.col("_id_check_ok")
    detail = (
        F.when(~well_formed, F.lit("national_id is not 17 digits followed by a digit or X"))
        .when(~check_ok, F.lit("national_id check character does not match its first 17 digits"))
        .otherwise(
            F.lit(
                "national_id birth date (digits 7-14) is not a date between "
                f"{EARLIEST_BIRTH_DATE} and {as_of_date}"
            )
        )
    )
    is_valid = well_formed & check_ok & F.col("_id_birth_possible")
    return Check(~is_valid, F.lit(INVALID_NATIONAL_ID), detail)


def first_failure(checks: list[Check]) -> Column:
    """A struct (reason, detail) of the first failing check, or null when every check passes."""
    first = F.when(checks[0].failed, failure(checks[0].reason, checks[0].detail))
    for check in checks[1:]:
        first = first.when(check.failed, failure(check.reason, check.detail))
    return first
