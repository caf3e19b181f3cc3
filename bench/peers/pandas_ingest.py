"""The bronze ingest of one delivery in pandas: the ingest case's single-process peer.

It does what the Spark job's transform does (``spark_jobs.parsing``, ``transforms``,
``row_rules``) for the sources in :data:`SUPPORTED`: number and parse the lines, type each field
to the registry, run the row checks in the job's order (the first failing check is the reason),
drop exact copies, quarantine key clashes, tokenise personal identifiers, and write bronze and
quarantine as Parquet. The delivery is fetched and scanned by the job's own extract
(``spark_jobs.delivery.fetch_delivery``), which is plain Python, so both engines start from the
same checked file. Not done here, because they are the lake's and not the engine's: the
delivery gate, the Iceberg stage and the ledger. The bench compares its row counts, reasons and
bronze keys with the Spark job's after each scale.

    python -m bench.peers.pandas_ingest --source app_events --as-of-date 2026-01-01 --out DIR
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import re
import sys
import time
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from creditlake import pii
from creditlake.landing import Landing
from creditlake.secrets import pii_key
from creditlake.settings import get_settings
from creditlake.sources import Source, get_source
from spark_jobs import row_rules as rules
from spark_jobs.delivery import CONTINUATION, fetch_delivery
from spark_jobs.parsing import MULTILINE_DETAIL, REPEATED_KEY_DETAIL, TRUNCATED_DETAIL

#: Sources whose registry features this peer implements (no national-ID derivations, which only
#: ``customers`` has).
SUPPORTED = ("app_events", "transactions", "repayment_schedules", "repayments", "loans")

_INTEGER = re.compile(r"^[+-]?[0-9]+$")
_NUMBER = re.compile(r"^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$")
_DATE = re.compile(r"^([0-9]{4})(?:-([0-9]{1,2})(?:-([0-9]{1,2}))?)?([ T].*)?$")
_INT_RANGES = {"int": (-(2**31), 2**31 - 1), "bigint": (-(2**63), 2**63 - 1)}
_LONG_DIGITS = re.compile(pii.LONG_DIGITS)
#: One decoder for every line (``json.loads`` with hooks builds a new one per call); numbers stay
#: the text they were written as, as in Spark's map of text.
_DECODER = json.JSONDecoder(parse_float=str, parse_int=str)


# Parsing ------------------------------------------------------------------------------------------
def _json_text(value: Any) -> str | None:
    """A JSON value as Spark's ``from_json`` into a map of text gives it."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    return str(value)


def parse_lines(text: str, source: Source, marks: dict[int, str]) -> pd.DataFrame:
    """One row per record: ``_row_number``, ``_raw_line``, malformed reason and detail, the text
    fields (blank → null), and JSON fields the registry does not declare (``_extra``).

    Built column by column and handed to Arrow in one go: pandas' own inference of millions of
    Python strings costs more than the parse.
    """
    names = source.column_names
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    is_csv = source.format == "csv"
    malformed_reason = rules.MALFORMED_ROW if is_csv else rules.MALFORMED_JSON
    meta: dict[str, list] = {k: [] for k in ("_row_number", "_raw_line", "_reason", "_detail")}
    extras: list[dict | None] = []
    columns: list[list[str | None]] = [[] for _ in names]
    empty: list[str | None] = [None] * len(names)
    for index, raw in enumerate(lines):
        number = index + 1
        raw = raw.removesuffix("\r")
        flag = marks.get(number)
        if flag == CONTINUATION or (is_csv and number == 1):
            continue
        values, extra, failed = _parse_line(raw, names, is_csv)
        nothing = values is None or values[0] is None
        reason = detail = None
        if flag == rules.TRUNCATED:
            reason, detail = rules.TRUNCATED, TRUNCATED_DETAIL
        elif flag == rules.MULTILINE:
            reason, detail = rules.MULTILINE, MULTILINE_DETAIL
        elif nothing and not raw.strip(" \t\n\x0b\f\r"):
            reason, detail = malformed_reason, "blank line"
        elif failed:
            reason, detail = failed
        if reason is not None or values is None:
            values, extra = empty, None
        meta["_row_number"].append(number - 1 if is_csv else number)
        meta["_raw_line"].append(raw)
        meta["_reason"].append(reason)
        meta["_detail"].append(detail)
        extras.append(extra)
        for column, value in zip(columns, values, strict=True):
            column.append(value)
    frame = pd.DataFrame(
        {
            "_row_number": np.array(meta["_row_number"], dtype=np.int64),
            "_raw_line": _text(meta["_raw_line"]),
            "_malformed_reason": _text(meta["_reason"]),
            "_malformed_detail": _text(meta["_detail"]),
            "_extra": pd.Series(extras, dtype=object),
        }
    )
    for name, column in zip(names, columns, strict=True):
        frame[name] = _text(column)
    return frame


def _text(values: list[str | None]) -> pd.Series:
    import pyarrow as pa

    return pa.array(values, pa.string()).to_pandas()


def _blank(value: str | None) -> str | None:
    return value if value is None or value.strip(" ") else None


def _parse_line(
    raw: str, names: list[str], is_csv: bool
) -> tuple[list[str | None] | None, dict | None, tuple[str, str] | None]:
    """(text fields or None, undeclared JSON fields, (reason, detail) when it does not parse)."""
    if is_csv:
        fields = next(csv.reader([raw]), [])
        if len(fields) != len(names):
            return None, None, (rules.MALFORMED_ROW, _csv_detail(raw, len(names)))
        return [_blank(v) for v in fields], None, None
    try:
        record = _DECODER.decode(raw)
    except ValueError:
        return None, None, (rules.MALFORMED_JSON, "line is not a JSON object")
    if not isinstance(record, dict):
        return None, None, (rules.MALFORMED_JSON, "line is not a JSON object")
    # A key given twice survives only in the raw text: look again, with a hook, when the text
    # holds more key-like quotes than the record has keys.
    if raw.count('":') > len(record) or len(record) != len(names):
        pairs = json.loads(raw, object_pairs_hook=list, parse_float=str, parse_int=str)
        if len({k for k, _ in pairs}) < len(pairs):
            return None, None, (rules.MALFORMED_JSON, REPEATED_KEY_DETAIL)
    values = [
        (v if v.strip(" ") else None) if type(v) is str else _json_text(v)
        for v in map(record.get, names)
    ]
    extra = {k: _json_text(v) for k, v in record.items() if k not in names} or None
    return values, extra, None


def _csv_detail(raw: str, expected: int) -> str:
    unquoted = re.sub(r'"([^"]|"")*"', "", raw)
    return f"expected {expected} comma-separated fields (RFC 4180), found {unquoted.count(',') + 1}"


# Types ----------------------------------------------------------------------------------------
def _decimal(value: str | None, precision: int, scale: int) -> Decimal | None:
    if not isinstance(value, str) or not _NUMBER.match(value.strip()):
        return None
    try:
        number = Decimal(value.strip()).quantize(Decimal(1).scaleb(-scale), ROUND_HALF_UP)
    except InvalidOperation:
        return None
    return number if len(number.as_tuple().digits) - scale <= precision - scale else None


def _date(value: str | None) -> dt.date | None:
    found = _DATE.match(value.strip()) if isinstance(value, str) else None
    if not found:
        return None
    try:
        return dt.date(int(found[1]), int(found[2] or 1), int(found[3] or 1))
    except ValueError:
        return None


def typed(text: pd.Series, kind: str) -> pd.Series:
    """Text cast to a registry type, null where it does not cast (Spark's ``try_cast``)."""
    if kind == "string":
        return text
    if kind in _INT_RANGES:
        low, high = _INT_RANGES[kind]
        stripped = text.str.strip()
        ok = stripped.str.match(_INTEGER.pattern).fillna(False).astype(bool)
        numbers = pd.to_numeric(stripped.where(ok), errors="coerce")
        return numbers.where((numbers >= low) & (numbers <= high)).astype("Int64")
    if kind == "double":
        stripped = text.str.strip()
        ok = stripped.str.match(_NUMBER.pattern).fillna(False).astype(bool)
        return pd.to_numeric(stripped.where(ok), errors="coerce").astype("Float64")
    if kind.startswith("decimal"):
        precision, scale = (int(p) for p in kind[8:-1].split(","))
        return pd.Series([_decimal(v, precision, scale) for v in text], index=text.index)
    if kind == "date":
        return pd.Series([_date(v) for v in text], index=text.index, dtype=object)
    if kind == "timestamp":
        return pd.to_datetime(text, format="ISO8601", errors="coerce", utc=True)
    raise ValueError(f"no pandas cast for the registry type {kind!r}")


# Checks ---------------------------------------------------------------------------------------
def _identifier(value: str | None, whole: bool) -> bool:
    """Python twin of ``creditlake.pii.identifier_shape_sql`` (never null)."""
    if not isinstance(value, str):
        return False
    if whole:
        if not 11 <= len(value) <= 22 or not (value[0].isdigit() or value[0] == "+"):
            return False
    elif len(value) < 11 or not _LONG_DIGITS.search(value):
        return False
    shape = "value" if whole else "text"
    if re.search(pii.MOBILE_SHAPE[shape], value):
        return True
    found = re.search(pii.NATIONAL_ID_SHAPE[shape], value)
    if found and pii.is_valid_national_id(found[1].upper()):
        return True
    card = re.search(pii.CARD_SHAPE[shape], value)
    return bool(card) and pii.luhn_valid(card[1])


def _looks_personal(text: pd.Series, whole: bool) -> pd.Series:
    """:func:`_identifier` of every value, run only where the cheap test of the SQL twin passes."""
    if whole:
        first = text.str.slice(0, 1)
        gate = text.str.len().between(11, 22) & (first.str.isdigit() | (first == "+"))
    else:
        gate = text.str.contains(pii.LONG_DIGITS, na=False)
    gate = gate.fillna(False).astype(bool)
    found = pd.Series(False, index=text.index)
    if gate.any():
        found[gate] = [_identifier(v, whole) for v in text[gate]]
    return found


def _quoted(text: pd.Series) -> pd.Series:
    shown = "'" + text.str.slice(0, rules.DETAIL_VALUE_CHARS) + "'"
    return shown.where(~text.str.contains(pii.LONG_DIGITS, na=False), rules.NOT_SHOWN)


def checks(frame: pd.DataFrame, values: dict[str, pd.Series], source: Source) -> list[tuple]:
    """``(failed mask, reason, detail)`` in the order of ``row_rules.validation_checks``."""
    found: list[tuple] = [
        (frame["_malformed_reason"].notna(), frame["_malformed_reason"], frame["_malformed_detail"])
    ]
    for column in rules.screened_columns(source):
        whole = column.name.endswith("_id")
        mask = _looks_personal(frame[column.name], whole)
        detail = (
            f"{column.name} holds a value shaped like a mobile, resident ID or card number "
            "(not shown); swapped columns?"
        )
        found.append((mask, f"{rules.PERSONAL_DATA}:{column.name}", detail))
    if source.format == "jsonl":
        extra = frame["_extra"].map(
            lambda fields: bool(fields) and any(_identifier(v, False) for v in fields.values())
        )
        found.append((extra.astype(bool), rules.PERSONAL_DATA_UNDECLARED, "undeclared field"))
    for column in source.columns:
        if column.required:
            found.append(
                (
                    frame[column.name].isna(),
                    f"{rules.MISSING_REQUIRED}:{column.name}",
                    f"required column {column.name} is empty",
                )
            )
    numeric = [c for c in source.columns if c.type != "string" and not c.tokenised]
    for column in numeric:
        mask = frame[column.name].notna() & values[column.name].isna()
        detail = f"{column.name} " + _quoted(frame[column.name]) + f" is not a {column.type}"
        found.append((mask, f"{rules.WRONG_TYPE}:{column.name}", detail))
    for column in numeric:
        value = values[column.name]
        if column.positive or column.non_negative:
            shown = f"{column.name} " + value.astype(str) + " is below 0"
            found.append((_compare(value, "<", 0), f"{rules.NEGATIVE_AMOUNT}:{column.name}", shown))
            if column.positive:
                found.append(
                    (
                        _compare(value, "==", 0),
                        f"{rules.NON_POSITIVE_AMOUNT}:{column.name}",
                        f"{column.name} is 0 but must be positive",
                    )
                )
    for column in numeric:
        value = values[column.name]
        for bound, op, words in (
            (column.max_value, ">", "above the plausible maximum"),
            (column.min_value, "<", "below the plausible minimum"),
        ):
            if bound is not None:
                detail = f"{column.name} " + value.astype(str) + f" is {words} {bound:.10g}"
                reason = f"{rules.OUT_OF_RANGE}:{column.name}"
                found.append((_compare(value, op, bound), reason, detail))
    return found


def _compare(value: pd.Series, op: str, bound: float) -> pd.Series:
    """``value op bound`` with null → False, for numbers, nullable numbers and Decimals."""
    present = value.notna()
    if value.dtype == object:
        limit = Decimal(str(bound))
        cells = value.where(present, limit)
        tests = {"<": limit.__gt__, ">": limit.__lt__, "==": limit.__eq__}
        result = cells.map(tests[op])
    else:
        filled = value.astype("float64").fillna(bound)
        result = filled < bound if op == "<" else filled > bound if op == ">" else filled == bound
    return (result.astype(bool) & present).astype(bool)


def first_failure(frame: pd.DataFrame, found: list[tuple]) -> tuple[pd.Series, pd.Series]:
    """The reason and detail of the first failing check of each row (null when all pass)."""
    reason = pd.Series(None, index=frame.index, dtype=object)
    detail = pd.Series(None, index=frame.index, dtype=object)
    open_rows = pd.Series(True, index=frame.index)
    for mask, why, what in found:
        hit = mask.fillna(False).astype(bool) & open_rows
        if hit.any():
            reason[hit] = why[hit] if isinstance(why, pd.Series) else why
            detail[hit] = what[hit] if isinstance(what, pd.Series) else what
            open_rows &= ~hit
    return reason, detail


# Duplicates and outcomes ---------------------------------------------------------------------
def outcomes(frame: pd.DataFrame, key: str, reason: pd.Series) -> pd.DataFrame:
    """``_outcome`` (bronze / quarantine / duplicate) and final reasons, as
    ``transform_find_duplicates`` and ``transform_deduplicate`` decide them."""
    rows = frame["_row_number"]
    keys = frame[key].fillna("\0null")
    is_record = frame["_malformed_reason"].isna()
    passed = reason.isna()
    first_same = rows.groupby([keys, frame["_raw_line"]]).transform("min")
    is_copy = is_record & (rows > first_same)
    first_valid = rows.where(passed).groupby(keys).transform("min")
    is_clash = ~is_copy & passed & (rows > first_valid).fillna(False).astype(bool)
    outcome = np.select([is_copy, is_clash | ~passed], ["duplicate", "quarantine"], "bronze")
    final_reason = reason.where(~is_clash, rules.DUPLICATE_KEY)
    clash_detail = f"{key} was first loaded from row " + first_valid.astype("Int64").astype(str)
    return pd.DataFrame(
        {
            "_outcome": outcome,
            "_reason": final_reason,
            "_clash_detail": clash_detail.where(is_clash),
        },
        index=frame.index,
    )


# The job ----------------------------------------------------------------------------------------
def ingest(source_name: str, as_of_date: dt.date, out: Path) -> dict[str, Any]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    from creditlake.sources import bronze_columns

    started = time.monotonic()
    settings = get_settings()
    source = get_source(source_name)
    if source.name not in SUPPORTED:
        raise SystemExit(f"no pandas peer for {source.name}; supported: {', '.join(SUPPORTED)}")
    delivery = fetch_delivery(Landing.from_settings(settings), source, as_of_date, settings)
    key = pii_key(settings)
    text = delivery.path.read_text(encoding="utf-8")
    frame = parse_lines(text, source, delivery.scan.line_marks())
    values = {c.name: typed(frame[c.name], c.type) for c in source.columns if not c.tokenised}
    reason, detail = first_failure(frame, checks(frame, values, source))
    decided = outcomes(frame, source.key, reason)
    ingested_at = dt.datetime.now(dt.UTC)
    batch_id = f"{source.name}/{as_of_date.isoformat()}/{ingested_at:%Y%m%dT%H%M%S.%fZ}"
    loaded = decided["_outcome"] == "bronze"
    bronze: dict[str, Any] = {}
    for column in bronze_columns(source):
        if column.name == "_source_file":
            bronze[column.name] = [delivery.location] * int(loaded.sum())
        elif column.name == "_row_number":
            bronze[column.name] = frame["_row_number"][loaded]
        elif column.name == "_batch_id":
            bronze[column.name] = [batch_id] * int(loaded.sum())
        elif column.name == "_ingested_at":
            bronze[column.name] = [ingested_at] * int(loaded.sum())
        elif column.name.endswith("_token"):
            raw = frame[column.name.removesuffix("_token")][loaded]
            tokens = {v: pii.tokenise(v, key) for v in raw.dropna().unique()}
            bronze[column.name] = raw.map(tokens)
        else:
            bronze[column.name] = values[column.name][loaded]
    bronze_table = pa.table(
        {n: _arrow(v, _arrow_type(t)) for n, (v, t) in _typed_columns(bronze, source).items()}
    )
    quarantined = decided["_outcome"] == "quarantine"
    raw_shown = frame["_raw_line"].where(
        ~frame["_raw_line"].str.contains(pii.LONG_DIGITS, na=False) & (not source.pii_columns)
    )
    quarantine = pd.DataFrame(
        {
            "source": source.name,
            "source_file": delivery.location,
            "row_number": frame["_row_number"],
            "reason": decided["_reason"],
            "reason_detail": decided["_clash_detail"].fillna(detail),
            "raw_line": raw_shown,
        }
    )[quarantined]
    out.mkdir(parents=True, exist_ok=True)
    pq.write_table(bronze_table, out / "bronze.parquet")
    quarantine.to_parquet(out / "quarantine.parquet", index=False)
    counts = decided["_outcome"].value_counts()
    by_reason = decided["_reason"][quarantined].value_counts()
    result = {
        "source": source.name,
        "as_of_date": as_of_date.isoformat(),
        "landing_rows": delivery.landing_rows,
        "bronze_rows": int(counts.get("bronze", 0)),
        "quarantined_rows": int(counts.get("quarantine", 0)),
        "duplicates_dropped": int(counts.get("duplicate", 0)),
        "quarantined_by_reason": {str(k): int(v) for k, v in sorted(by_reason.items())},
        "bronze_file": str(out / "bronze.parquet"),
        "seconds": round(time.monotonic() - started, 2),
    }
    accounted = result["bronze_rows"] + result["quarantined_rows"] + result["duplicates_dropped"]
    if accounted != delivery.landing_rows:
        raise SystemExit(
            f"{source.name}: {delivery.landing_rows} landing rows but {accounted} accounted for"
        )
    return result


def _typed_columns(bronze: dict[str, Any], source: Source) -> dict[str, tuple[Any, str]]:
    from creditlake.sources import bronze_columns

    return {c.name: (bronze[c.name], c.type) for c in bronze_columns(source)}


def _arrow_type(kind: str):
    import pyarrow as pa

    if kind.startswith("decimal"):
        precision, scale = (int(p) for p in kind[8:-1].split(","))
        return pa.decimal128(precision, scale)
    return {
        "string": pa.string(),
        "int": pa.int32(),
        "bigint": pa.int64(),
        "double": pa.float64(),
        "date": pa.date32(),
        "timestamp": pa.timestamp("us", tz="UTC"),
    }[kind]


def _arrow(values: Any, kind: Any):
    import pyarrow as pa

    if isinstance(values, pd.Series):
        return pa.Array.from_pandas(values.reset_index(drop=True), type=kind)
    return pa.array(values, type=kind)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.peers.pandas_ingest")
    parser.add_argument("--source", required=True)
    parser.add_argument("--as-of-date", required=True, type=dt.date.fromisoformat)
    parser.add_argument("--out", required=True, type=Path)
    args = parser.parse_args(argv)
    print(json.dumps(ingest(args.source, args.as_of_date, args.out)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
