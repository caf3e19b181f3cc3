"""The row admission rules of :mod:`spark_jobs.row_rules`, as DuckDB SQL built from the registry.

The in-process engine (:mod:`spark_jobs.duckdb_engine`) types, checks and tokenises with the SQL
this module builds from the same registry facts (required columns, types, signs, ranges, screened
columns) and the same reason names and details, so a registry change reaches both engines; the
parity tests (``tests/spark_jobs/test_engine_parity.py``) fail when the two disagree.

Two differences of dialect are handled here rather than hoped away: DuckDB's regular expressions
(RE2) have no look-around, so the identifier shapes are rewritten with explicit neighbours, and
DuckDB's casts accept text Spark's ``try_cast`` rejects (``'1.5'`` to an integer rounds), so every
typed field passes a gate shaped like Spark's parser before it is cast.
"""

from __future__ import annotations

from creditlake.pii import _ID_CHECK, _ID_WEIGHTS, LONG_DIGITS, _padded_keys
from creditlake.sources import Column as RegistryColumn
from creditlake.sources import Source
from spark_jobs.contract import (
    DETAIL_VALUE_CHARS,
    EARLIEST_BIRTH_DATE,
    INVALID_NATIONAL_ID,
    MISSING_REQUIRED,
    NEGATIVE_AMOUNT,
    NON_POSITIVE_AMOUNT,
    NOT_SHOWN,
    OUT_OF_RANGE,
    PERSONAL_DATA,
    PERSONAL_DATA_UNDECLARED,
    REDACTED,
    WRONG_TYPE,
    screened_columns,
)

#: Spark trims these around a value it casts (every character up to and including the space).
_PAD = r"[\x00-\x20]*"
_INTEGER = r"[+-]?[0-9]+"
_DECIMAL = r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?"
_SPECIAL_DOUBLE = r"[+-]?(inf|infinity)|nan"
#: ``yyyy-m[m]-d[d]``, then for a date anything after a space or ``T`` (Spark ignores it).
_DATE = r"^([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})([ T].*)?$"
#: ``yyyy-m[m]-d[d][( |T)h[h]:m[m][:s[s][.fraction]]][zone]`` with zone ``Z`` or ``±hh[:]mm``.
_TIMESTAMP = (
    r"^([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})"
    r"(?:[ T]([0-9]{1,2}):([0-9]{1,2})(?::([0-9]{1,2})(?:\.([0-9]{1,9}))?)?)?"
    r"(Z|[+-][0-9]{2}:?[0-9]{2})?$"
)
#: The identifier shapes of :mod:`creditlake.pii` without look-around (RE2): the neighbour a
#: look-behind or look-ahead forbade is matched explicitly instead, or the text's edge.
MOBILE_SHAPE = {
    "text": r"(^|[^0-9])(\+?86[- ]?)?1[3-9][0-9]{9}([^0-9]|$)",
    "value": r"^(\+?86[- ]?)?1[3-9][0-9]{9}$",
}
NATIONAL_ID_SHAPE = {
    "text": (r"(^|[^0-9])([0-9]{17}[0-9Xx])([^0-9A-Za-z]|$)", 2),
    "value": (r"^([0-9]{17}[0-9Xx])$", 1),
}
CARD_SHAPE = {
    "text": (r"(^|[^0-9])([0-9]{13,19})([^0-9]|$)", 2),
    "value": (r"^([0-9]{13,19})$", 1),
}


def literal(text: str) -> str:
    """``text`` as a DuckDB string literal (standard SQL: a quote is doubled, backslashes are
    plain characters)."""
    return "'" + text.replace("'", "''") + "'"


def ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def text_ref(name: str) -> str:
    """A registry field as text, as parsed (null when empty or when the line is malformed)."""
    return ident(f"t__{name}")


def typed_ref(name: str) -> str:
    return ident(f"v__{name}")


def personal_ref(name: str) -> str:
    return ident(f"p__{name}")


# Types ------------------------------------------------------------------------------------------
def _stripped(ref: str) -> str:
    return f"regexp_replace({ref}, {literal('^' + _PAD + '|' + _PAD + '$')}, '', 'g')"


def _gated(ref: str, pattern: str, cast: str, options: str = "") -> str:
    value = _stripped(ref)
    flags = f", {literal(options)}" if options else ""
    return (
        f"CASE WHEN regexp_full_match({value}, {literal(pattern)}{flags}) "
        f"THEN TRY_CAST({value} AS {cast}) END"
    )


def _date_sql(ref: str) -> str:
    parts = [f"regexp_extract({_stripped(ref)}, {literal(_DATE)}, {i})" for i in (1, 2, 3)]
    year, month, day = (f"TRY_CAST(nullif({part}, '') AS BIGINT)" for part in parts)
    return f"try(make_date({year}, {month}, {day}))"


def parts_sql(ref: str, spark_type: str) -> str | None:
    """The regular-expression groups a timestamp is built from, computed once per value in a
    projection of their own (``cast_sql`` reads them several times)."""
    if spark_type != "timestamp":
        return None
    names = ["y", "mo", "d", "h", "mi", "s", "frac", "zone"]
    return f"regexp_extract({_stripped(ref)}, {literal(_TIMESTAMP)}, {names!r})"


def _timestamp_sql(parts: str) -> str:
    """Text → timestamp (UTC) the way Spark reads it (UTC unless the text names an offset);
    ``parts`` is the struct of :func:`parts_sql`."""

    def number(name: str) -> str:
        return f"coalesce(TRY_CAST(nullif({parts}.{name}, '') AS BIGINT), 0)"

    zone = f"replace({parts}.zone, ':', '')"
    offset_minutes = (
        f"CASE WHEN {zone} IN ('', 'Z') THEN 0 ELSE "
        f"(CASE WHEN left({zone}, 1) = '-' THEN -1 ELSE 1 END) * "
        f"(CAST(substr({zone}, 2, 2) AS BIGINT) * 60 + CAST(substr({zone}, 4, 2) AS BIGINT)) END"
    )
    micros = f"coalesce(TRY_CAST(rpad(left({parts}.frac, 6), 6, '0') AS BIGINT), 0)"
    local = (
        f"try(make_timestamp({number('y')}, {number('mo')}, {number('d')}, "
        f"{number('h')}, {number('mi')}, {number('s')}))"
    )
    # A naive TIMESTAMP that means UTC (the ICU extension, which time zones need, is not
    # bundled); the Arrow cast to the bronze schema labels it UTC.
    shifted = f"{local} + to_microseconds({micros}) - to_minutes({offset_minutes})"
    in_range = f"{number('h')} < 24 AND {number('mi')} < 60 AND {number('s')} < 60"
    return f"CASE WHEN {parts}.y <> '' AND {in_range} THEN {shifted} END"


def cast_sql(ref: str, spark_type: str, parts: str | None = None) -> str:
    """``try_cast(ref AS spark_type)`` as Spark evaluates it, in DuckDB SQL (null when it does not
    cast); a timestamp is built from ``parts`` (:func:`parts_sql`)."""
    if spark_type == "string":
        return ref
    if spark_type in ("int", "bigint"):
        return _gated(ref, _INTEGER, "INTEGER" if spark_type == "int" else "BIGINT")
    if spark_type == "double":
        pattern = f"{_DECIMAL}|{_SPECIAL_DOUBLE}"
        return _gated(ref, pattern, "DOUBLE", "i")
    if spark_type.startswith("decimal("):
        return _gated(ref, _DECIMAL, spark_type.upper())
    if spark_type == "date":
        return _date_sql(ref)
    if spark_type == "timestamp":
        return _timestamp_sql(parts or parts_sql(ref, spark_type))
    raise ValueError(f"no DuckDB cast for registry type {spark_type!r}")


def as_text_sql(ref: str, spark_type: str) -> str:
    """A typed value as Spark's ``cast(... as string)`` writes it."""
    if spark_type == "timestamp":
        fraction = f"rtrim(strftime({ref}, '%f'), '0')"
        return (
            f"strftime({ref}, '%Y-%m-%d %H:%M:%S') || "
            f"CASE WHEN {fraction} = '' THEN '' ELSE '.' || {fraction} END"
        )
    return f"CAST({ref} AS VARCHAR)"


# Personal identifiers ---------------------------------------------------------------------------
def national_id_check_sql(ref: str) -> str:
    """True when ``ref`` is 17 digits and the check character GB 11643 computes from them."""
    weighted = " + ".join(
        f"TRY_CAST(substring({ref}, {i + 1}, 1) AS INTEGER) * {w}"
        for i, w in enumerate(_ID_WEIGHTS)
    )
    expected = f"substring({literal(_ID_CHECK)}, CAST(({weighted}) % 11 + 1 AS INTEGER), 1)"
    return (
        f"(regexp_matches({ref}, '^[0-9]{{17}}[0-9X]$') AND substring({ref}, 18, 1) = {expected})"
    )


def luhn_valid_sql(ref: str) -> str:
    digit = f"TRY_CAST(substring({ref}, length({ref}) - place + 1, 1) AS INTEGER)"
    doubled = f"CASE WHEN {digit} * 2 > 9 THEN {digit} * 2 - 9 ELSE {digit} * 2 END"
    term = f"CASE WHEN place % 2 = 0 THEN {doubled} ELSE {digit} END"
    total = f"list_sum(list_transform(range(1, length({ref}) + 1), lambda place: {term}))"
    return f"(regexp_matches({ref}, '^[0-9]+$') AND {total} % 10 = 0)"


def identifier_shape_sql(ref: str, whole_value: bool = False) -> str:
    """:func:`creditlake.pii.identifier_shape_sql` in DuckDB SQL (never null)."""
    shape = "value" if whole_value else "text"
    id_pattern, id_group = NATIONAL_ID_SHAPE[shape]
    card_pattern, card_group = CARD_SHAPE[shape]
    national_id = f"nullif(upper(regexp_extract({ref}, {literal(id_pattern)}, {id_group})), '')"
    card = f"nullif(regexp_extract({ref}, {literal(card_pattern)}, {card_group}), '')"
    precise = (
        f"regexp_matches({ref}, {literal(MOBILE_SHAPE[shape])})"
        f" OR coalesce({national_id_check_sql(national_id)}, false)"
        f" OR coalesce({luhn_valid_sql(card)}, false)"
    )
    if whole_value:
        first = f"substring({ref}, 1, 1)"
        gate = f"length({ref}) BETWEEN 11 AND 22 AND ({first} BETWEEN '0' AND '9' OR {first} = '+')"
    else:
        gate = f"length({ref}) >= 11 AND regexp_matches({ref}, {literal(LONG_DIGITS)})"
    return f"coalesce(CASE WHEN {gate} THEN ({precise}) ELSE false END, false)"


def looks_personal_sql(column: RegistryColumn) -> str:
    return identifier_shape_sql(text_ref(column.name), whole_value=column.name.endswith("_id"))


def hmac_sha256_sql(ref: str, key: bytes) -> str:
    """HMAC-SHA256 of a text value in lower-case hex (:func:`creditlake.pii.tokenise`)."""
    inner_pad, outer_pad = _padded_keys(key)
    inner = f"sha256(unhex({literal(inner_pad.hex())}) || encode({ref}))"
    outer = f"sha256(unhex({literal(outer_pad.hex())}) || unhex({inner}))"
    return f"CASE WHEN {ref} IS NOT NULL THEN {outer} END"


# Checks -----------------------------------------------------------------------------------------
def quoted_sql(ref: str) -> str:
    """:func:`spark_jobs.row_rules.quoted`: the start of an offending value, or not shown."""
    shown = f"'''' || substring({ref}, 1, {DETAIL_VALUE_CHARS}) || ''''"
    return (
        f"CASE WHEN regexp_matches({ref}, {literal(LONG_DIGITS)}) "
        f"THEN {literal(NOT_SHOWN)} ELSE {shown} END"
    )


def _shown_number(ref: str, spark_type: str) -> str:
    text = as_text_sql(ref, spark_type)
    return (
        f"CASE WHEN regexp_matches({text}, {literal(LONG_DIGITS)}) "
        f"THEN {literal(NOT_SHOWN)} ELSE {text} END"
    )


def validation_checks_sql(source: Source, extra_fields: bool) -> list[tuple[str, str, str]]:
    """(failed, reason, detail) SQL triples in the order of
    :func:`spark_jobs.row_rules.validation_checks`; the first failing one wins."""
    checks = [("_malformed_reason IS NOT NULL", "_malformed_reason", "_malformed_detail")]
    for column in screened_columns(source):
        checks.append(
            (
                personal_ref(column.name),
                literal(f"{PERSONAL_DATA}:{column.name}"),
                literal(
                    f"{column.name} holds a value shaped like a mobile, resident ID or card "
                    "number (not shown); swapped columns?"
                ),
            )
        )
    if extra_fields:
        shaped = identifier_shape_sql("extra_value", whole_value=False)
        found = (
            f"list_bool_or(list_transform(map_values(_extra_fields), lambda extra_value: {shaped}))"
        )
        checks.append(
            (
                f"coalesce({found}, false)",
                literal(PERSONAL_DATA_UNDECLARED),
                literal(
                    "a field the registry does not declare holds a value shaped like a mobile, "
                    "resident ID or card number (not shown); declare the field in the registry "
                    "(as personal) to load it"
                ),
            )
        )
    for column in source.columns:
        if column.required:
            checks.append(
                (
                    f"{text_ref(column.name)} IS NULL",
                    literal(f"{MISSING_REQUIRED}:{column.name}"),
                    literal(f"required column {column.name} is empty"),
                )
            )
    for column in source.columns:
        if column.type != "string" and not column.tokenised:
            text, value = text_ref(column.name), typed_ref(column.name)
            checks.append(
                (
                    f"{text} IS NOT NULL AND {value} IS NULL",
                    literal(f"{WRONG_TYPE}:{column.name}"),
                    f"{literal(column.name + ' ')} || {quoted_sql(text)} || "
                    f"{literal(f' is not a {column.type}')}",
                )
            )
    for column in source.columns:
        if (column.positive or column.non_negative) and not column.tokenised:
            value = typed_ref(column.name)
            shown = _shown_number(value, column.type)
            checks.append(
                (
                    f"{value} < 0",
                    literal(f"{NEGATIVE_AMOUNT}:{column.name}"),
                    f"{literal(column.name + ' ')} || {shown} || ' is below 0'",
                )
            )
            if column.positive:
                checks.append(
                    (
                        f"{value} = 0",
                        literal(f"{NON_POSITIVE_AMOUNT}:{column.name}"),
                        literal(f"{column.name} is 0 but must be positive"),
                    )
                )
    for column in source.columns:
        if column.tokenised:
            continue
        value = typed_ref(column.name)
        for bound, operator, words in (
            (column.max_value, ">", "above the plausible maximum"),
            (column.min_value, "<", "below the plausible minimum"),
        ):
            if bound is not None:
                detail = (
                    f"{literal(column.name + ' ')} || {_shown_number(value, column.type)} || "
                    f"{literal(f' is {words} {bound:.10g}; a unit change?')}"
                )
                checks.append(
                    (
                        f"{value} {operator} CAST({float(bound)!r} AS DOUBLE)",
                        literal(f"{OUT_OF_RANGE}:{column.name}"),
                        detail,
                    )
                )
    if source.name == "customers":
        checks.append(_national_id_check())
    return checks


def _national_id_check() -> tuple[str, str, str]:
    detail = (
        "CASE WHEN NOT _id_well_formed "
        "THEN 'national_id is not 17 digits followed by a digit or X' "
        "WHEN NOT _id_check_ok "
        "THEN 'national_id check character does not match its first 17 digits' "
        f"ELSE {literal('national_id birth date (digits 7-14) is not a date between ')} || "
        f"{literal(str(EARLIEST_BIRTH_DATE) + ' and ')} || CAST(_as_of_date AS VARCHAR) END"
    )
    failed = "NOT (_id_well_formed AND _id_check_ok AND _id_birth_possible)"
    return failed, literal(INVALID_NATIONAL_ID), detail


def national_id_facts_sql() -> list[str]:
    """The customers' national-ID facts the check and the derived columns need."""
    national_id = text_ref("national_id")
    digits = f"substring({national_id}, 7, 8)"
    birth = (
        f"CASE WHEN regexp_full_match({digits}, '[0-9]{{8}}') THEN try(make_date("
        f"CAST(substring({digits}, 1, 4) AS BIGINT), CAST(substring({digits}, 5, 2) AS BIGINT), "
        f"CAST(substring({digits}, 7, 2) AS BIGINT))) END"
    )
    return [
        f"coalesce(regexp_matches({national_id}, '^[0-9]{{17}}[0-9X]$'), false) AS _id_well_formed",
        f"coalesce({national_id_check_sql(national_id)}, false) AS _id_check_ok",
        f"{birth} AS _id_birth_date",
    ]


def first_failure_sql(checks: list[tuple[str, str, str]], detail: bool = False) -> str:
    """The reason (or with ``detail`` the detail) of the first failing check, or null."""
    whens = " ".join(
        f"WHEN {failed} THEN {text if detail else reason}" for failed, reason, text in checks
    )
    return f"CASE {whens} END"


__all__ = [
    "REDACTED",
    "as_text_sql",
    "cast_sql",
    "first_failure_sql",
    "hmac_sha256_sql",
    "identifier_shape_sql",
    "literal",
    "looks_personal_sql",
    "quoted_sql",
    "validation_checks_sql",
]
