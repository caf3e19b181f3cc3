"""Realistic delivery defects, injected into landing files and recorded with their line numbers.

Kinds: an exact duplicate line, a required field left empty, a malformed JSON line (JSON Lines
only, cut short), a value of the wrong type (text in an amount, an impossible timestamp), a
negative amount, an APR above the policy cap (a policy breach that is structurally valid; chosen
before schedules are computed, so the loan's schedule follows its real rate), and a file
delivered late. Personal (PII) columns are only ever emptied, never rewritten or cut, so no raw
identifier ends up half-recognisable or in a column that is not tokenised.
"""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from creditlake.sources import Column, Source
from generator.writer import decimal_scale

DUPLICATE = "duplicate_row"
MISSING_REQUIRED = "missing_required"
MALFORMED_JSON = "malformed_json"
WRONG_TYPE = "wrong_type"
NEGATIVE_AMOUNT = "negative_amount"
APR_ABOVE_CAP = "apr_above_cap"
LATE_FILE = "late_file"
LINE_KINDS = (DUPLICATE, MISSING_REQUIRED, MALFORMED_JSON, WRONG_TYPE, NEGATIVE_AMOUNT)
APR_SOURCES = ("applications", "loans")
APR_BREACH_UNITS = np.array([2800, 3000, 3240, 3600])  # 28% .. 36% in units of 1e-4

_WRONG_VALUES = {
    "timestamp": ("2025-13-45 25:61:00", "31/12/2025 10:00", "not a date"),
    "date": ("2025-02-30", "20250230", "unknown"),
    "int": ("three", "abc", "1O"),
    "decimal": ("abc", "N/A", "12O.50", "1.2.3"),
    "double": ("abc", "N/A"),
}


def _type_family(column: Column) -> str | None:
    if decimal_scale(column) is not None:
        return "decimal"
    if column.type in ("int", "bigint"):
        return "int"
    return column.type if column.type in _WRONG_VALUES else None


def wrong_type_columns(source: Source) -> list[Column]:
    """Typed, required, non-personal columns: where text of the wrong type can go."""
    return [c for c in source.columns if c.required and not c.pii and _type_family(c)]


def amount_columns(source: Source) -> list[Column]:
    return [
        c
        for c in source.columns
        if decimal_scale(c) is not None and (c.positive or c.non_negative) and not c.pii
    ]


def applicable_kinds(source: Source) -> list[str]:
    kinds = [DUPLICATE, MISSING_REQUIRED]
    if source.format == "jsonl":
        kinds.append(MALFORMED_JSON)
    if wrong_type_columns(source):
        kinds.append(WRONG_TYPE)
    if amount_columns(source):
        kinds.append(NEGATIVE_AMOUNT)
    return kinds


@dataclass
class LineDefect:
    row: int  # 0-based row of the clean file
    kind: str
    column: str | None = None
    value: str | None = None


@dataclass
class FilePlan:
    """What to do to one landing file; rows are 0-based positions in the clean frame."""

    edits: list[LineDefect] = field(default_factory=list)
    duplicates: list[tuple[int, int]] = field(default_factory=list)  # (row copied, after row)
    apr_rows: list[int] = field(default_factory=list)


def allocate(
    row_counts: dict[str, int], kinds: list[str], rate: float, rng: np.random.Generator
) -> dict[str, list[str]]:
    """Defect kinds per file of one source: about ``rate`` of each file's rows.

    When ``rate`` > 0 every applicable kind occurs at least once for the source (in its largest
    file with a row to spare), so even a tiny run exercises every quarantine path.
    """
    plan: dict[str, list[str]] = {key: [] for key in row_counts}
    if rate <= 0 or not kinds:
        return plan
    for key, rows in row_counts.items():
        count = int(np.floor(rate * rows + rng.random()))
        plan[key] = [kinds[i] for i in rng.integers(0, len(kinds), count)]
    by_size = sorted(row_counts, key=lambda k: (-row_counts[k], k))
    for kind in kinds:
        if any(kind in v for v in plan.values()):
            continue
        # the largest file with a row to spare (each defect takes a row of its own)
        for key in by_size:
            if len(plan[key]) < row_counts[key]:
                plan[key].append(kind)
                break
    return plan


def plan_file(
    frame: pd.DataFrame,
    source: Source,
    kinds: list[str],
    apr_rows: list[int],
    rng: np.random.Generator,
) -> FilePlan:
    """Choose distinct rows (and columns) for the kinds allotted to one file."""
    plan = FilePlan(apr_rows=sorted(apr_rows))
    n = len(frame)
    available = np.ones(n, dtype=bool)
    available[np.asarray(apr_rows, dtype="int64")] = False
    kinds = kinds[: int(available.sum())]
    rows = _distinct_rows(available, len(kinds), rng)
    chosen = set(rows.tolist()) | set(apr_rows)
    typed = wrong_type_columns(source)
    amounts = amount_columns(source)
    for row, kind in zip(rows.tolist(), kinds, strict=True):
        if kind == DUPLICATE:
            plan.duplicates.append((row, min(n - 1, row + int(rng.integers(0, 20)))))
        elif kind == MISSING_REQUIRED:
            required = [c for c in source.columns if c.required]
            plan.edits.append(LineDefect(row, kind, required[rng.integers(len(required))].name))
        elif kind == MALFORMED_JSON:
            plan.edits.append(LineDefect(row, kind))
        elif kind == WRONG_TYPE:
            column = typed[rng.integers(len(typed))]
            choices = _WRONG_VALUES[_type_family(column)]
            plan.edits.append(
                LineDefect(row, kind, column.name, choices[rng.integers(len(choices))])
            )
        elif kind == NEGATIVE_AMOUNT:
            usable = [c for c in amounts if _positive_at(frame, c.name, row)]
            if not usable:  # an optional amount is empty here: move to a row that has one
                row = _row_with_amount(frame, amounts, chosen, rng, row)
                usable = [c for c in amounts if _positive_at(frame, c.name, row)]
            if usable:
                plan.edits.append(LineDefect(row, kind, usable[rng.integers(len(usable))].name))
            else:  # every amount on this row is zero or empty: duplicate it instead
                plan.duplicates.append((row, row))
    plan.edits.sort(key=lambda d: d.row)
    plan.duplicates.sort()
    return plan


def _distinct_rows(available: np.ndarray, count: int, rng: np.random.Generator) -> np.ndarray:
    """``count`` distinct available rows, drawn without scanning a permutation of the file."""
    chosen: list[int] = []
    taken = ~available
    while len(chosen) < count:
        for row in rng.integers(0, len(available), count - len(chosen)).tolist():
            if not taken[row]:
                taken[row] = True
                chosen.append(row)
    return np.array(chosen, dtype="int64")


def _row_with_amount(
    frame: pd.DataFrame, amounts: list[Column], chosen: set[int], rng: np.random.Generator, row: int
) -> int:
    """A row not otherwise chosen with a positive amount (``row`` itself when there is none)."""
    has = np.zeros(len(frame), dtype=bool)
    for column in amounts:
        values = pd.to_numeric(frame[column.name], errors="coerce").to_numpy(dtype=float)
        has |= np.nan_to_num(values) > 0
    candidates = np.setdiff1d(np.flatnonzero(has), np.fromiter(chosen, dtype="int64"))
    if not len(candidates):
        return row
    picked = int(candidates[rng.integers(len(candidates))])
    chosen.add(picked)
    return picked


def _positive_at(frame: pd.DataFrame, column: str, row: int) -> bool:
    value = frame[column].iloc[row]
    return not pd.isna(value) and int(value) > 0


def _json_field(line: str, column: str) -> re.Match[str]:
    pattern = re.compile(rf'"{re.escape(column)}":(null|"(?:[^"\\]|\\.)*"|[^,}}]*)')
    match = pattern.search(line)
    if match is None:
        raise ValueError(f"column {column!r} not found in JSON line {line[:80]!r}")
    return match


def apply_edit(line: str, defect: LineDefect, source: Source, rng: np.random.Generator) -> str:
    """The defective version of one clean line (newline kept)."""
    if source.format == "jsonl":
        return _edit_json(line, defect, source, rng)
    return _edit_csv(line, defect, source)


def _edit_csv(line: str, defect: LineDefect, source: Source) -> str:
    fields = next(csv.reader([line.rstrip("\n")]))
    position = source.column_names.index(defect.column)
    if defect.kind == MISSING_REQUIRED:
        fields[position] = ""
    elif defect.kind == WRONG_TYPE:
        fields[position] = defect.value
    elif defect.kind == NEGATIVE_AMOUNT:
        fields[position] = "-" + fields[position]
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow(fields)
    return buffer.getvalue()


def _edit_json(line: str, defect: LineDefect, source: Source, rng: np.random.Generator) -> str:
    if defect.kind == MALFORMED_JSON:
        # cut the object short after the last personal value, so no identifier is truncated
        body = line.rstrip("\n")
        earliest = 1
        for column in source.pii_columns:
            earliest = max(earliest, _json_field(body, column.name).end())
        cut = int(rng.integers(earliest, len(body) - 1)) if earliest < len(body) - 1 else earliest
        return body[:cut] + "\n"
    match = _json_field(line, defect.column)
    if defect.kind == MISSING_REQUIRED:
        value = "null"
    elif defect.kind == WRONG_TYPE:
        value = json.dumps(defect.value)
    else:  # NEGATIVE_AMOUNT
        value = "-" + match.group(1)
    return line[: match.start(1)] + value + line[match.end(1) :]


def final_line_numbers(n_rows: int, plan: FilePlan) -> tuple[np.ndarray, list[int]]:
    """1-based line numbers of each clean row, and of each inserted duplicate, in the file."""
    after = np.sort(np.array([a for _, a in plan.duplicates], dtype="int64"))
    rows = np.arange(n_rows)
    shift = np.searchsorted(after, rows, side="left")  # duplicates inserted before this row
    row_line = rows + 1 + shift
    duplicate_lines = []
    seen: dict[int, int] = {}
    for _, a in plan.duplicates:  # sorted by (row, after); same `after` stack up in order
        k = seen.get(a, 0)
        seen[a] = k + 1
        duplicate_lines.append(int(row_line[a]) + 1 + k)
    return row_line, duplicate_lines
