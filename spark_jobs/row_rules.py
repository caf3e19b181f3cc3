"""The row admission rules of the ingest job: what a landing row must be to enter bronze.

Each rule is a :class:`Check` built from the source registry (required columns, registry types,
amount signs, plausible ranges, the national ID, no personal identifier in a column that is not
tokenised); a row that fails one is quarantined with the reason of the first
that fails, in the order :func:`validation_checks` lists them. This is the one home of these rules:
nothing downstream of bronze checks them again (docs/quality.md).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

from pyspark.sql import functions as F

from creditlake.pii import LONG_DIGITS, identifier_shape_sql, national_id_check_sql
from creditlake.sources import Column as RegistryColumn
from creditlake.sources import Source
from spark_jobs.contract import (  # noqa: F401 (re-exported: the rules' names live here too)
    AS_OF_DATE,
    DETAIL_VALUE_CHARS,
    DUPLICATE_KEY,
    EARLIEST_BIRTH_DATE,
    INVALID_NATIONAL_ID,
    MALFORMED_JSON,
    MALFORMED_ROW,
    MISSING_REQUIRED,
    MULTILINE,
    NATIONAL_ID_SHAPE,
    NEGATIVE_AMOUNT,
    NON_POSITIVE_AMOUNT,
    NOT_SHOWN,
    OUT_OF_RANGE,
    PERSONAL_DATA,
    PERSONAL_DATA_UNDECLARED,
    REDACTED,
    TRUNCATED,
    WRONG_TYPE,
    screened_columns,
)
from spark_jobs.delivery_gate import EXTRA_FIELDS

if TYPE_CHECKING:
    from pyspark.sql import Column


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
    """The start of an offending value, quoted, for a quarantine detail; a value with a run of
    digits as long as a mobile number is not shown (it may be a misplaced identifier)."""
    shown = F.concat(F.lit("'"), F.substring(value, 1, DETAIL_VALUE_CHARS), F.lit("'"))
    return F.when(value.rlike(LONG_DIGITS), F.lit(NOT_SHOWN)).otherwise(shown)


def personal_flag(name: str) -> str:
    """The column that says whether ``name``'s text is shaped like a personal identifier."""
    return f"_personal__{name}"


def looks_personal(column: RegistryColumn) -> Column:
    """True when the field holds a mobile number, a resident ID or a card number (never null).

    Free text is searched for one anywhere in it; a key or code column (``*_id``), where long
    digit strings are normal, only when its whole value is one.
    """
    ref = f"`_fields`.`{column.name}`"
    return F.expr(identifier_shape_sql(ref, whole_value=column.name.endswith("_id")))


def shown_number(value: Column) -> Column:
    """A typed value for a quarantine detail, unless it has as many digits as a mobile number."""
    text = value.cast("string")
    return F.when(text.rlike(LONG_DIGITS), F.lit(NOT_SHOWN)).otherwise(text)


def typed_columns(source: Source) -> list[Column]:
    """Each non-tokenised field cast to its registry type (null when it does not cast), whether
    each screened field looks like a personal identifier (:func:`personal_flag`), plus, for
    customers, the national-ID facts the checks and derived columns need.

    Tokenised columns are all text and stay in ``_fields`` until they are tokenised.
    """
    typed = [
        (field(c.name) if c.type == "string" else field(c.name).try_cast(c.type)).alias(c.name)
        for c in source.columns
        if not c.tokenised
    ]
    typed += [looks_personal(c).alias(personal_flag(c.name)) for c in screened_columns(source)]
    if source.name != "customers":
        return typed
    national_id = field("national_id")
    well_formed = F.coalesce(national_id.rlike(NATIONAL_ID_SHAPE), F.lit(False))
    check_ok = F.coalesce(F.expr(national_id_check_sql("`_fields`.`national_id`")), F.lit(False))
    birth_date = F.try_to_date(F.substring(national_id, 7, 8), "yyyyMMdd")
    birth_possible = F.coalesce(
        birth_date.between(F.lit(EARLIEST_BIRTH_DATE), F.col(AS_OF_DATE)), F.lit(False)
    )
    return [
        *typed,
        well_formed.alias("_id_well_formed"),
        check_ok.alias("_id_check_ok"),
        birth_possible.alias("_id_birth_possible"),
        birth_date.alias("_id_birth_date"),
    ]


def validation_checks(source: Source, extra_fields: bool = False) -> list[Check]:
    """The row checks in the order their reasons are reported; the first failing one wins.

    They read ``_fields`` (the text), the columns of :func:`typed_columns` and, with
    ``extra_fields``, a JSON record's undeclared fields (``_extra_fields``).
    """
    checks = [
        Check(
            F.col("_malformed_reason").isNotNull(),
            F.col("_malformed_reason"),
            F.col("_malformed_detail"),
        )
    ]
    for column in screened_columns(source):
        checks.append(
            Check(
                F.col(personal_flag(column.name)),
                F.lit(f"{PERSONAL_DATA}:{column.name}"),
                F.lit(
                    f"{column.name} holds a value shaped like a mobile, resident ID or card "
                    "number (not shown); swapped columns?"
                ),
            )
        )
    if extra_fields:
        checks.append(_undeclared_field_check())
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
                    F.concat(F.lit(f"{column.name} "), shown_number(value), F.lit(" is below 0")),
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
    checks.extend(_range_checks(source))
    if source.name == "customers":
        checks.append(_national_id_check())
    return checks


def _range_checks(source: Source) -> list[Check]:
    """Values outside the registry's plausible range: a unit change or swapped columns."""
    checks = []
    for column in source.columns:
        if column.tokenised:
            continue
        value = F.col(column.name)
        for bound, failed, words in (
            (column.max_value, value > F.lit(column.max_value), "above the plausible maximum"),
            (column.min_value, value < F.lit(column.min_value), "below the plausible minimum"),
        ):
            if bound is not None:
                detail = F.concat(
                    F.lit(f"{column.name} "),
                    shown_number(value),
                    F.lit(f" is {words} {bound:.10g}; a unit change?"),
                )
                checks.append(Check(failed, F.lit(f"{OUT_OF_RANGE}:{column.name}"), detail))
    return checks


def _undeclared_field_check() -> Check:
    """A JSON field the registry does not declare is loaded as text (additive drift), so it can
    be neither tokenised nor known to be personal: a row is quarantined when any such field's
    value holds a mobile, resident ID or card number anywhere in it."""
    shaped = identifier_shape_sql("extra_value", whole_value=False)
    values = f"map_values(`{EXTRA_FIELDS}`)"
    found = F.expr(f"exists({values}, extra_value -> coalesce({shaped}, false))")
    return Check(
        F.coalesce(found, F.lit(False)),
        F.lit(PERSONAL_DATA_UNDECLARED),
        F.lit(
            "a field the registry does not declare holds a value shaped like a mobile, resident "
            "ID or card number (not shown); declare the field in the registry (as personal) to "
            "load it"
        ),
    )


def _national_id_check() -> Check:
    well_formed = F.col("_id_well_formed")
    check_ok = F.col("_id_check_ok")
    detail = (
        F.when(~well_formed, F.lit("national_id is not 17 digits followed by a digit or X"))
        .when(~check_ok, F.lit("national_id check character does not match its first 17 digits"))
        .otherwise(
            F.concat(
                F.lit(
                    "national_id birth date (digits 7-14) is not a date between "
                    f"{EARLIEST_BIRTH_DATE} and "
                ),
                F.col(AS_OF_DATE).cast("string"),
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
