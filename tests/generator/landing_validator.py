"""An independent reader of landing lines: what is wrong with this line, if anything?

Written from the contract (docs/CONTRACTS.md and the source registry), not from the generator's
code, so the tests can check the generator's defect log against what is really in the files.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import re

from creditlake.sources import Column, Source

_DECIMAL = re.compile(r"decimal\(\d+,(\d+)\)")


def _parse_timestamp(text: str) -> bool:
    try:
        dt.datetime.strptime(text, "%Y-%m-%d %H:%M:%S")
    except (TypeError, ValueError):
        return False
    return bool(re.fullmatch(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}", text))


def _parse_date(text: str) -> bool:
    try:
        dt.date.fromisoformat(text)
    except (TypeError, ValueError):
        return False
    return bool(re.fullmatch(r"\d{4}-\d{2}-\d{2}", text))


def _number(value: object, column: Column, csv_text: bool) -> float | None:
    """The numeric value, or None when it is not of the column's type."""
    scale = _DECIMAL.fullmatch(column.type)
    if csv_text:
        if not isinstance(value, str):
            return None
        if scale and re.fullmatch(rf"-?\d+(\.\d{{1,{scale.group(1)}}})?", value):
            return float(value)
        if column.type == "int" and re.fullmatch(r"-?\d+", value):
            return float(value)
        if column.type == "double" and re.fullmatch(r"-?\d+(\.\d+)?", value):
            return float(value)
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    if column.type == "int" and not isinstance(value, int):
        return None
    return float(value)


def problems(line: str, source: Source, apr_cap: float = 0.24) -> set[tuple[str, str | None]]:
    """(kind, column) for everything wrong on one data line of ``source``'s file."""
    if source.format == "jsonl":
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            return {("malformed_json", None)}
        if not isinstance(record, dict) or list(record) != source.column_names:
            return {("wrong_keys", None)}
        values = record
        csv_text = False
    else:
        fields = next(csv.reader([line]))
        if len(fields) != len(source.columns):
            return {("wrong_field_count", None)}
        values = {
            c.name: (f if f != "" else None) for c, f in zip(source.columns, fields, strict=True)
        }
        csv_text = True
    found: set[tuple[str, str | None]] = set()
    for column in source.columns:
        value = values[column.name]
        if value is None:
            if column.required:
                found.add(("missing_required", column.name))
            continue
        if column.type == "timestamp":
            ok = isinstance(value, str) and _parse_timestamp(value)
        elif column.type == "date":
            ok = isinstance(value, str) and _parse_date(value)
        elif column.type == "string":
            ok = isinstance(value, str)
        else:
            number = _number(value, column, csv_text)
            ok = number is not None
            if ok and (column.positive or column.non_negative) and number < 0:
                found.add(("negative_amount", column.name))
            if ok and column.name == "apr" and number > apr_cap:
                found.add(("apr_above_cap", column.name))
        if not ok:
            found.add(("wrong_type", column.name))
    return found
