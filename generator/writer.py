"""Landing-file text, built column-wise with numpy and Arrow rather than row by row.

Frames hold typed values in the generator's internal units: timestamps as UTC seconds, dates as
day numbers, ``decimal(p,s)`` as integers scaled by ``10**s`` (fen for money), nullable numbers
as pandas ``Int64``. Each source's file is the registry's columns in order, formatted to the
landing contract (docs/CONTRACTS.md): CSV with a header and RFC 4180 quoting, or JSON Lines with
the registry's keys. Whole lines are built as Arrow string arrays and written as raw buffers, so
a few defective lines can be spliced in by line number without re-serialising the rest.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import BinaryIO

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from creditlake.sources import Column, Source
from generator.dates import DAY, format_dates, format_timestamps

CHUNK_ROWS = 250_000
#: A landing file's control file is its name plus this (docs/CONTRACTS.md).
CONTROL_SUFFIX = ".ctl.json"
_DECIMAL = re.compile(r"decimal\(\d+,\s*(\d+)\)")


def decimal_scale(column: Column) -> int | None:
    match = _DECIMAL.fullmatch(column.type)
    return int(match.group(1)) if match else None


def scaled_to_text(values: np.ndarray, scale: int) -> np.ndarray:
    """Exact decimal text of integers scaled by ``10**scale`` (``12345, 2 -> "123.45"``)."""
    values = np.asarray(values, dtype="int64")
    magnitude = np.abs(values)
    unit = 10**scale
    text = (magnitude // unit).astype(str)
    if scale:
        fraction = np.strings.zfill((magnitude % unit).astype(str), scale)
        text = np.strings.add(np.strings.add(text, "."), fraction)
    return np.where(values < 0, np.strings.add("-", text), text)


def _null_mask(series: pd.Series) -> np.ndarray:
    return series.isna().to_numpy()


def column_text(series: pd.Series, column: Column, fmt: str) -> pa.Array:
    """One field per row, ready to place in a line (JSON strings already quoted)."""
    if isinstance(series.dtype, pd.CategoricalDtype):
        # format each distinct value once, then pick by code (fast for repeated values)
        categories = column_text(pd.Series(series.cat.categories), column, fmt)
        codes = series.cat.codes.to_numpy().astype("int64")
        missing = codes < 0
        taken = pc.take(categories, pa.array(np.maximum(codes, 0)))
        return pc.if_else(pa.array(missing), pa.scalar("null" if fmt == "jsonl" else ""), taken)
    nulls = _null_mask(series)
    scale = decimal_scale(column)
    if column.type == "timestamp":
        text = timestamp_text(series.fillna(0).to_numpy(dtype="int64"))
        return _finish(text, nulls, fmt, quoted=True)
    if column.type == "date":
        raw, quoted = format_dates(series.fillna(0).to_numpy(dtype="int64")), True
    elif scale is not None:
        raw, quoted = scaled_to_text(series.fillna(0).to_numpy(dtype="int64"), scale), False
    elif column.type in ("int", "bigint"):
        raw, quoted = series.fillna(0).to_numpy(dtype="int64").astype(str), False
    elif column.type == "double":
        values = np.nan_to_num(series.to_numpy(dtype="float64"))
        return _finish(pc.cast(pa.array(values), pa.string()), nulls, fmt, quoted=False)
    else:
        text = pc.fill_null(pa.array(series, type=pa.string(), from_pandas=True), "")
        return _finish(text, nulls, fmt, quoted=True)
    return _finish(pa.array(raw, type=pa.string()), nulls, fmt, quoted=quoted)


@cache
def _times_of_day() -> pa.Array:
    seconds = np.arange(DAY)
    return pa.array(np.strings.replace(format_timestamps(seconds), "1970-01-01 ", ""))


def timestamp_text(seconds: np.ndarray) -> pa.Array:
    """``yyyy-mm-dd HH:MM:SS`` for many timestamps: each distinct day is formatted once."""
    if len(seconds) == 0:
        return pa.array([], type=pa.string())
    days = seconds // DAY
    first = int(days.min())
    day_text = pa.array(format_dates(np.arange(first, int(days.max()) + 1)))
    return pc.binary_join_element_wise(
        pc.take(day_text, pa.array(days - first)),
        pc.take(_times_of_day(), pa.array(seconds % DAY)),
        " ",
    )


def _finish(text: pa.Array, nulls: np.ndarray, fmt: str, quoted: bool) -> pa.Array:
    if fmt == "jsonl":
        if quoted:
            escaped = pc.replace_substring(pc.replace_substring(text, "\\", "\\\\"), '"', '\\"')
            text = pc.binary_join_element_wise('"', escaped, '"', "")
        return pc.if_else(pa.array(nulls), pa.scalar("null"), text)
    needs_quotes = pc.match_substring_regex(text, '[,"\r\n]')
    if pc.any(needs_quotes).as_py():
        text = pc.if_else(
            needs_quotes,
            pc.binary_join_element_wise('"', pc.replace_substring(text, '"', '""'), '"', ""),
            text,
        )
    return pc.if_else(pa.array(nulls), pa.scalar(""), text)


def format_lines(frame: pd.DataFrame, source: Source) -> pa.Array:
    """Each row as one landing line, newline included."""
    pieces: list[pa.Array | str] = []
    for position, column in enumerate(source.columns):
        text = column_text(frame[column.name], column, source.format)
        if source.format == "jsonl":
            pieces.append(("{" if position == 0 else ",") + f'"{column.name}":')
            pieces.append(text)
        else:
            if position:
                pieces.append(",")
            pieces.append(text)
    pieces.append("}\n" if source.format == "jsonl" else "\n")
    if len(frame) == 0:
        return pa.array([], type=pa.string())
    arrays = [p for p in pieces if not isinstance(p, str)]
    if not arrays:
        raise ValueError(f"source {source.name!r} has no columns")
    lines = pc.binary_join_element_wise(*pieces, "")
    return lines.combine_chunks() if isinstance(lines, pa.ChunkedArray) else lines


def header(source: Source) -> str:
    return ",".join(source.column_names) + "\n" if source.format == "csv" else ""


def _write_array_slice(out: BinaryIO, lines: pa.Array, start: int, stop: int) -> None:
    if stop <= start:
        return
    part = lines.slice(start, stop - start)
    offsets = np.frombuffer(part.buffers()[1], dtype=np.int32)[
        part.offset : part.offset + len(part) + 1
    ]
    data = part.buffers()[2]
    out.write(memoryview(data)[offsets[0] : offsets[-1]])


def write_file(
    path: Path,
    frame: pd.DataFrame,
    source: Source,
    replacements: dict[int, str],
    insertions: dict[int, list[str]],
) -> int:
    """Write ``frame`` as ``source``'s landing file; returns the number of data lines.

    ``replacements`` maps a 0-based row to the text that replaces its line; ``insertions`` maps a
    row to extra lines written right after it (exact duplicates). Everything else is the clean
    formatting of the frame.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    special = sorted(set(replacements) | set(insertions))
    written = 0
    with path.open("wb") as out:
        out.write(header(source).encode())
        for chunk_start in range(0, len(frame), CHUNK_ROWS):
            chunk_stop = min(chunk_start + CHUNK_ROWS, len(frame))
            lines = format_lines(frame.iloc[chunk_start:chunk_stop], source)
            cursor = chunk_start
            for row in _rows_between(special, chunk_start, chunk_stop):
                _write_array_slice(out, lines, cursor - chunk_start, row - chunk_start)
                if row in replacements:
                    out.write(replacements[row].encode())
                else:
                    _write_array_slice(out, lines, row - chunk_start, row - chunk_start + 1)
                for extra in insertions.get(row, ()):
                    out.write(extra.encode())
                    written += 1
                cursor = row + 1
            _write_array_slice(out, lines, cursor - chunk_start, chunk_stop - chunk_start)
            written += chunk_stop - chunk_start
    return written


def write_control_file(path: Path, data_rows: int) -> Path:
    """Write ``<file>.ctl.json`` beside a landing file, as lenders' feeds ship one.

    It says how many data rows (header excluded) and bytes the file has, and their SHA-256, so the
    ingest can tell a complete delivery from one cut short or changed on the way.
    """
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(8 * 1024 * 1024):
            digest.update(chunk)
    control = {
        "file": path.name,
        "rows": data_rows,
        "sha256": digest.hexdigest(),
        "bytes": path.stat().st_size,
    }
    target = path.with_name(path.name + CONTROL_SUFFIX)
    target.write_text(json.dumps(control) + "\n", encoding="utf-8")
    return target


def _rows_between(rows: list[int], start: int, stop: int) -> Iterable[int]:
    lo = np.searchsorted(rows, start)
    hi = np.searchsorted(rows, stop)
    return rows[lo:hi]


def line_texts(frame: pd.DataFrame, source: Source, rows: list[int]) -> dict[int, str]:
    """The clean text of a few lines, for building defective copies of them."""
    if not rows:
        return {}
    lines = format_lines(frame.iloc[rows], source).to_pylist()
    return dict(zip(rows, lines, strict=True))
