"""Extract for the DuckDB ingest engine: the landing file's lines, numbered by DuckDB in file
order, and CSV records split into text fields (RFC 4180) in SQL.

DuckDB reads the file itself; Python touches a line only in two rare cases: a file whose lines end
with a bare carriage return or a mix of endings (DuckDB's reader splits those otherwise than
:func:`spark_jobs.delivery.scan_file` counts them), and a CSV line with a quote inside a field,
which Python's ``csv`` module splits (:func:`odd_csv_lines`).
"""

from __future__ import annotations

import csv
import re
from pathlib import Path
from typing import TYPE_CHECKING

from creditlake.sources import Source
from spark_jobs.delivery import CONTINUATION
from spark_jobs.duckdb_rules import ident, literal

if TYPE_CHECKING:
    import duckdb
    import pyarrow as pa

_LINE_BREAK = re.compile(r"\r\n|\r|\n")
#: The longest line DuckDB's reader takes (its default is 2 MB).
MAX_LINE_BYTES = 16 * 1024 * 1024


def lines_sql(path: Path, line_ending: str) -> str:
    """The file's physical lines, numbered from 1 in file order, read by DuckDB itself: one
    VARCHAR column per line (no delimiter or quote can occur: the scan refused NUL bytes)."""
    return f"""
        SELECT row_number() OVER () AS _line_number, coalesce(line, '') AS _raw_line
        FROM read_csv({literal(str(path))}, columns = {{'line': 'VARCHAR'}}, delim = '\\0',
            quote = '', escape = '', header = false, auto_detect = false,
            new_line = {literal(line_ending.encode("unicode_escape").decode())},
            max_line_size = {MAX_LINE_BYTES}, buffer_size = {2 * MAX_LINE_BYTES})"""


def python_lines(path: Path) -> pa.Table:
    """The lines split in Python (``\\n``, ``\\r`` or ``\\r\\n``, as the scan counts them), for
    the rare file that mixes line endings or ends lines with a bare carriage return, which
    DuckDB's reader does not split the same way."""
    import pyarrow as pa

    lines = _LINE_BREAK.split(path.read_bytes().decode("utf-8"))
    if lines and lines[-1] == "":
        lines.pop()  # the last line's terminator ends it; it does not start another
    return pa.table(
        {
            "_line_number": pa.array(range(1, len(lines) + 1), pa.int64()),
            "_raw_line": pa.array(lines, pa.string()),
        }
    )


def records_sql(source: Source) -> str:
    """``raw`` lines → records: ``_row_number`` (the data row), ``_raw_line``, ``_line_flag``; a
    CSV header and the continuation lines of multi-line records are left out."""
    header = 1 if source.format == "csv" else 0
    return f"""
        SELECT _line_number - {header} AS _row_number, _raw_line, marks._flag AS _line_flag
        FROM raw LEFT JOIN marks USING (_line_number)
        WHERE _line_number > {header} AND marks._flag IS DISTINCT FROM {literal(CONTINUATION)}"""


def marks_table(marks: dict[int, str]) -> pa.Table:
    import pyarrow as pa

    return pa.table(
        {
            "_line_number": pa.array(list(marks), pa.int64()),
            "_flag": pa.array(list(marks.values()), pa.string()),
        }
    )


#: A CSV line whose every field is plain (no quote, no comma) or wholly quoted (RFC 4180).
_PLAIN_CSV = r'(?:"(?:[^"]|"")*"|[^",]*)(?:,(?:"(?:[^"]|"")*"|[^",]*))*'
#: One field of such a line, after the comma that precedes it (a comma is put before the line).
_CSV_FIELD = r',("(?:[^"]|"")*"|[^",]*)'


def csv_fields_sql(line: str) -> str:
    """A CSV line's fields as Python's ``csv`` reader splits one line (RFC 4180), in SQL; null
    for a line shaped otherwise (a quote inside a field), which :func:`odd_csv_lines` splits."""
    unquoted = "CASE WHEN starts_with(f, '\"') THEN replace(f[2:-2], '\"\"', '\"') ELSE f END"
    return f"""CASE WHEN {line} = '' THEN []::VARCHAR[]
        WHEN NOT contains({line}, '"') THEN string_split({line}, ',')
        WHEN regexp_full_match({line}, {literal(_PLAIN_CSV)}) THEN list_transform(
            regexp_extract_all(',' || {line}, {literal(_CSV_FIELD)}, 1), lambda f: {unquoted})
        END"""


def odd_csv_lines(con: duckdb.DuckDBPyConnection) -> pa.Table:
    """The few CSV lines SQL does not split (:func:`_csv_fields_sql`), split by Python's ``csv``
    module: ``_row_number`` and ``_odd_fields`` (null when the line is not CSV at all)."""
    import pyarrow as pa

    odd = con.sql(
        f"SELECT _row_number, _raw_line FROM records WHERE ({csv_fields_sql('_raw_line')}) IS NULL"
    ).fetchall()
    fields: list[list[str] | None] = []
    for _, line in odd:
        try:
            fields.append(next(csv.reader((line,)), []))
        except csv.Error:
            fields.append(None)
    return pa.table(
        {
            "_row_number": pa.array([number for number, _ in odd], pa.int64()),
            "_odd_fields": pa.array(fields, pa.list_(pa.string())),
        }
    )


def csv_split_sql(source: Source) -> str:
    """``records`` → each line's fields as text, ``_no_record`` when it holds none and
    ``_corrupt`` when it does not have exactly the registry's fields (Spark's corrupt record)."""
    width = len(source.column_names)
    fields = f"coalesce({csv_fields_sql('_raw_line')}, _odd_fields)"
    values = ", ".join(
        f"_fields[{i}] AS {ident('c__' + name)}" for i, name in enumerate(source.column_names, 1)
    )
    return f"""
        SELECT _row_number, _raw_line, _line_flag,
            _fields IS NULL OR len(_fields) = 0 AS _no_record,
            _fields IS NULL OR (len(_fields) > 0 AND len(_fields) <> {width}) AS _corrupt,
            {values}
        FROM (
            SELECT records.*, {fields} AS _fields
            FROM records LEFT JOIN odd USING (_row_number)
        )"""
