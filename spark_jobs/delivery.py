"""File-level checks of a delivery, made before Spark reads a line of it, and the delivery gate.

A hostile or broken delivery must end loudly, not as thousands of quietly quarantined rows or,
worse, as wrong values in bronze. So before the job parses anything it checks, naming the file:

* the delivery folder holds only the file and, optionally, its control file;
* the file is UTF-8 text from its first byte to its last (one pass over the bytes, which also
  counts the lines, finds CSV records whose quoted field holds a line break, notices a last line
  without its line feed, and computes the file's SHA-256), with the registry's header line;
* the control file ``<file>.ctl.json``, when there is one (or when settings require one), agrees
  with the file: name, bytes, SHA-256 and data rows;
* a file without data rows is accepted only when its control file says 0 rows.

After the transform, :mod:`spark_jobs.delivery_gate` judges the delivery as a whole. No raw
value of the file is ever put into an error message or a log line: only file names, line
numbers, byte offsets, counts and column names.
"""

from __future__ import annotations

import codecs
import datetime as dt
import hashlib
import json
import logging
import re
from dataclasses import dataclass
from pathlib import Path

from creditlake.landing import Landing
from creditlake.settings import Settings
from creditlake.sources import Source

log = logging.getLogger(__name__)

#: Bytes read from the start of a landing file to check its header before anything else.
SNIFF_BYTES = 64 * 1024
COUNT_CHUNK_BYTES = 8 * 1024 * 1024
#: A delivery's control file is its data file's name plus this suffix.
CONTROL_SUFFIX = ".ctl.json"
#: A quoted CSV field spanning more lines than this is a stray quote, not a multi-line value.
MAX_RECORD_LINES = 100
#: More flagged lines than this (cut or multi-line records) means the file is not line-oriented.
MAX_MARKED_LINES = 10_000

# Line flags set from the scan (quarantine reasons of :mod:`spark_jobs.row_rules`) ----------------
TRUNCATED_LINE = "truncated_line"
EMBEDDED_NEWLINE = "embedded_newline"
#: A physical line that continues a multi-line record: not a record of its own, not counted.
CONTINUATION = "continuation"

_FIRST_LINE = re.compile(r"\r\n|\r|\n")
#: Header fields and JSON keys are quoted in errors and results only if they look like names.
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
_BOM = "\ufeff"


class IngestError(RuntimeError):
    """A delivery the job cannot ingest (wrong header, not text, unknown source or date)."""


def shown_name(name: str) -> str:
    """A name from the file as an error may show it: no raw personal data in any log."""
    return name if _NAME.match(name) else f"<{len(name)} characters not shown>"


# Header -----------------------------------------------------------------------------------------
def expected_header(source: Source) -> str:
    return ",".join(source.column_names)


def _shown_header(found: str, source: Source) -> str:
    """The found header as an error may show it.

    A file delivered without its header has a data row in its place; for a source with tokenised
    columns that row would put names and ID numbers into the Airflow log. Fields that do not look
    like column names are replaced by their length.
    """
    if not source.pii_columns:
        return found
    return ",".join(shown_name(name) for name in found.split(","))


def check_landing_file(path: Path, source: Source, location: str) -> None:
    """Fail early, naming the file, if it is unreadable, binary, starts with a byte-order mark or
    has the wrong header.

    Spark would read a binary file as text and quarantine every "line", hiding the real problem
    (a wrong or compressed file) behind thousands of rows, so the start of the file is checked
    here first. A CSV header must be exactly the registry's column list: a renamed or reordered
    column, or another delimiter, would otherwise load values into the wrong columns. The whole
    file's encoding is checked by :func:`scan_file`.
    """
    try:
        with path.open("rb") as handle:
            head = handle.read(SNIFF_BYTES)
    except OSError as error:
        raise IngestError(f"landing file {location} cannot be read: {error.strerror}") from error
    nul = head.find(b"\0")
    if nul >= 0:
        raise IngestError(
            f"landing file {location} is binary, not UTF-8 text "
            f"(NUL byte at offset {nul}); is it compressed or the wrong file?"
        )
    try:
        text = codecs.getincrementaldecoder("utf-8")().decode(head, final=len(head) < SNIFF_BYTES)
    except UnicodeDecodeError as error:
        raise IngestError(
            f"landing file {location} is not UTF-8 text (invalid byte at offset {error.start})"
        ) from error
    if source.format != "csv":
        if text.startswith(_BOM):
            raise IngestError(
                f"landing file {location} starts with a UTF-8 byte-order mark; "
                "deliver JSON Lines without one"
            )
        return
    found = _FIRST_LINE.split(text, maxsplit=1)[0] if text else ""
    expected = expected_header(source)
    if found != expected:
        shown = _shown_header(found, source) if found else "(empty file, no header line)"
        hint = (
            "\n  (the file starts with a UTF-8 byte-order mark; deliver it without one)"
            if found.startswith(_BOM)
            else ""
        )
        raise IngestError(
            f"landing file {location} has the wrong header line:\n"
            f"  expected: {expected}\n"
            f"  found:    {shown}{hint}"
        )


# One pass over the bytes ------------------------------------------------------------------------
@dataclass(frozen=True)
class FileScan:
    """What one read of a landing file's bytes found."""

    size: int
    sha256: str
    #: Physical lines as Spark's text reader splits them (``\\n``, ``\\r`` or ``\\r\\n``).
    lines: int
    #: False when the last line has no line terminator: the file was cut short.
    ends_with_newline: bool
    #: (first, last) physical line of each CSV record whose quoted field holds a line break.
    multiline_records: tuple[tuple[int, int], ...] = ()
    #: ``"\n"`` when every line ends with a line feed, ``"\r\n"`` when every one ends with a
    #: carriage return and line feed, None for a mix or a bare carriage return.
    line_ending: str | None = "\n"

    def data_rows(self, source: Source) -> int:
        """Records in the file: physical lines, less a CSV header and the continuation lines of
        multi-line records (each counts once, on the line it starts on)."""
        header = 1 if source.format == "csv" and self.lines > 0 else 0
        continued = sum(last - first for first, last in self.multiline_records)
        return self.lines - header - continued

    def line_marks(self) -> dict[int, str]:
        """Physical line number → flag, for the few lines the row rules must treat specially."""
        marks: dict[int, str] = {}
        for first, last in self.multiline_records:
            marks[first] = EMBEDDED_NEWLINE
            marks.update(dict.fromkeys(range(first + 1, last + 1), CONTINUATION))
        if self.size and not self.ends_with_newline:
            # A cut multi-line record is cut: report it on the line it starts on.
            last_line = self.lines
            start = next((f for f, la in self.multiline_records if la == last_line), last_line)
            marks[start] = TRUNCATED_LINE
        return marks


def _line_breaks(chunk: bytes, start: int, stop: int) -> int:
    return (
        chunk.count(b"\n", start, stop)
        + chunk.count(b"\r", start, stop)
        - chunk.count(b"\r\n", start, stop)
    )


class _QuotedLineBreaks:
    """Finds CSV records whose quoted field holds a line break (RFC 4180), chunk by chunk.

    Only quotes are visited (most chunks have none), so the cost is one ``in`` test per chunk for
    an ordinary file. A quote opens a field only at a field's start (after a comma or a line
    break); inside a field, ``""`` is an escaped quote.
    """

    def __init__(self, location: str) -> None:
        self.location = location
        self.in_quote = False
        self.pending = False  # inside a field, the previous chunk ended on a quote
        self.open_line = 0
        self.before = b"\n"  # the byte before the chunk: the file starts at a field start
        self.records: list[tuple[int, int]] = []

    def feed(self, chunk: bytes, first_line: int, skip: int) -> None:
        """``first_line`` is the line number of ``chunk[skip]``; ``skip`` is 1 when the chunk
        starts with the ``\\n`` of a ``\\r\\n`` split across chunks."""
        if not self.in_quote and b'"' not in chunk:
            self.before = chunk[-1:]
            return
        counted, line = skip, first_line

        def line_at(position: int) -> int:
            nonlocal counted, line
            line += _line_breaks(chunk, counted, position)
            counted = position
            return line

        position = 0
        if self.pending:
            self.pending = False
            if chunk.startswith(b'"'):
                position = 1  # the second quote of an escaped pair
            else:
                self._close(first_line)
        while (quote := chunk.find(b'"', position)) >= 0:
            if not self.in_quote:
                before = chunk[quote - 1 : quote] if quote else self.before
                if before in (b",", b"\n", b"\r"):
                    self.in_quote, self.open_line = True, line_at(quote)
                position = quote + 1
            elif quote + 1 == len(chunk):
                self.pending = True
                break
            elif chunk[quote + 1 : quote + 2] == b'"':
                position = quote + 2
            else:
                self._close(line_at(quote))
                position = quote + 1
        self.before = chunk[-1:]

    def _close(self, line: int) -> None:
        self.in_quote = False
        if line == self.open_line:
            return
        if line - self.open_line >= MAX_RECORD_LINES:
            raise IngestError(
                f"landing file {self.location}: the quoted field opened on line {self.open_line} "
                f"closes only on line {line}; a stray quote?"
            )
        self.records.append((self.open_line, line))

    def finish(self, last_line: int) -> tuple[tuple[int, int], ...]:
        if self.pending:
            self._close(last_line)
        if self.in_quote and last_line > self.open_line:
            raise IngestError(
                f"landing file {self.location}: the quoted field opened on line {self.open_line} "
                "never closes; a stray quote?"
            )
        return tuple(self.records)


def scan_file(path: Path, source: Source | None, location: str, digest: bool = True) -> FileScan:
    """Read the file once: validate UTF-8 to the last byte, count lines, hash the content.

    Raises :class:`IngestError` naming the byte offset and line of the first invalid byte (or
    NUL byte), so a file that is text at its start but not further on never loads as mangled
    names. ``source`` (CSV) enables the search for quoted fields holding line breaks.
    """
    decoder = codecs.getincrementaldecoder("utf-8")()
    sha256 = hashlib.sha256()
    quotes = _QuotedLineBreaks(location) if source is not None and source.format == "csv" else None
    size, lines, last = 0, 0, b""
    feeds, returns, pairs = 0, 0, 0
    with path.open("rb") as handle:
        while chunk := handle.read(COUNT_CHUNK_BYTES):
            if digest:
                sha256.update(chunk)
            _check_text(chunk, decoder, size, lines, location)
            skip = 1 if last == b"\r" and chunk.startswith(b"\n") else 0
            if quotes is not None:
                quotes.feed(chunk, lines + 1, skip)
            chunk_feeds, chunk_returns = chunk.count(b"\n"), chunk.count(b"\r")
            chunk_pairs = chunk.count(b"\r\n") + skip if chunk_returns else skip
            feeds, returns, pairs = (
                feeds + chunk_feeds,
                returns + chunk_returns,
                pairs + chunk_pairs,
            )
            lines += chunk_feeds + chunk_returns - chunk_pairs
            size += len(chunk)
            last = chunk[-1:]
    try:
        decoder.decode(b"", final=True)
    except UnicodeDecodeError as error:
        raise IngestError(
            f"landing file {location} is not UTF-8 text: it ends inside a character "
            f"(byte offset {size - len(error.object) + error.start}, line {lines + 1})"
        ) from error
    ends_with_newline = last in (b"", b"\n", b"\r")
    if not ends_with_newline:
        lines += 1
    records = quotes.finish(lines) if quotes is not None else ()
    ending = "\n" if not returns else ("\r\n" if returns == pairs == feeds else None)
    return FileScan(
        size, sha256.hexdigest() if digest else "", lines, ends_with_newline, records, ending
    )


def _check_text(chunk: bytes, decoder, offset: int, lines: int, location: str) -> None:
    """Raise naming the offset and line of the first byte that is not UTF-8 text (or is NUL)."""
    buffered = len(decoder.getstate()[0])
    try:
        decoder.decode(chunk)
    except UnicodeDecodeError as error:
        at = error.start - buffered  # the error's object is the decoder's buffer plus the chunk
        line = lines + _line_breaks(chunk, 0, max(at, 0)) + 1
        raise IngestError(
            f"landing file {location} is not UTF-8 text: invalid byte at offset {offset + at} "
            f"(line {line})"
        ) from error
    nul = chunk.find(b"\0")
    if nul >= 0:
        line = lines + _line_breaks(chunk, 0, nul) + 1
        raise IngestError(
            f"landing file {location} is binary, not UTF-8 text: NUL byte at offset "
            f"{offset + nul} (line {line})"
        )


def count_lines(path: Path) -> int:
    """Lines as Spark's text reader splits them: ended by ``\\n``, ``\\r`` or ``\\r\\n``, plus a
    last line without an ending.

    Counted from the bytes in Python, so reconciliation does not trust the Spark read it checks.
    """
    return scan_file(path, None, str(path), digest=False).lines


# The delivery: folder, file, control file -------------------------------------------------------
@dataclass(frozen=True)
class Delivery:
    """A checked delivery: where it is, a local copy, what its bytes hold."""

    source: Source
    as_of_date: dt.date
    location: str
    path: Path
    scan: FileScan
    control_file: str | None = None

    @property
    def landing_rows(self) -> int:
        return self.scan.data_rows(self.source)

    @property
    def content_sha256(self) -> str:
        return self.scan.sha256


def control_file_name(source: Source) -> str:
    return source.file_name + CONTROL_SUFFIX


def check_delivery_folder(landing: Landing, source: Source, as_of_date: dt.date) -> None:
    """A delivery folder holds the file and, optionally, its control file: nothing else.

    Another file there (a second extract, a renamed copy, a partial upload) means the source
    system did something the job does not understand; loading the expected file and ignoring the
    rest would hide it.
    """
    expected = {source.file_name, control_file_name(source)}
    unexpected = sorted(set(landing.files(source.name, as_of_date)) - expected)
    if unexpected:
        folder = landing.location(source.name, as_of_date)
        raise IngestError(
            f"delivery folder {folder} holds unexpected files: {', '.join(unexpected)} "
            f"(expected only {source.file_name} and optionally {control_file_name(source)})"
        )


def read_control_file(path: Path, location: str) -> dict:
    try:
        control = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise IngestError(f"control file {location} is not readable JSON: {error}") from error
    fields = {"file": str, "rows": int, "sha256": str, "bytes": int}
    wrong = [
        name
        for name, kind in fields.items()
        if not isinstance(control, dict) or not isinstance(control.get(name), kind)
    ]
    if wrong:
        raise IngestError(
            f"control file {location} lacks or mistypes {', '.join(wrong)}; expected "
            '{"file": name, "rows": N, "sha256": hex, "bytes": n}'
        )
    return control


def check_control(control: dict, delivery: Delivery) -> None:
    """Fail naming every value on which the file and its control file disagree.

    The row count catches a file cut at a line boundary, which no other check can see; the
    checksum catches any other change between the source system and the job.
    """
    found = {
        "file": delivery.source.file_name,
        "rows": delivery.landing_rows,
        "bytes": delivery.scan.size,
        "sha256": delivery.scan.sha256,
    }
    differences = [
        f"{name}: control file says {control[name]}, file has {found[name]}"
        for name in ("file", "rows", "bytes", "sha256")
        if control[name] != found[name]
    ]
    if differences:
        raise IngestError(
            f"landing file {delivery.location} does not match its control file "
            f"{delivery.control_file}:\n  " + "\n  ".join(differences)
        )


def fetch_delivery(
    landing: Landing, source: Source, as_of_date: dt.date, settings: Settings
) -> Delivery:
    """Fetch and check a delivery; raise naming the file when it cannot be ingested as it is.

    Raises :class:`creditlake.landing.LandingError` when the file was not delivered (or a required
    control file is missing) and :class:`IngestError` for everything else wrong with it.
    """
    location = landing.location(source.name, as_of_date, source.file_name)
    path = landing.fetch(source.name, as_of_date, source.file_name)
    check_delivery_folder(landing, source, as_of_date)
    check_landing_file(path, source, location)
    scan = scan_file(path, source, location)
    marks = scan.line_marks()
    if len(marks) > MAX_MARKED_LINES:
        raise IngestError(
            f"landing file {location} has {len(marks)} lines that are cut or continue a quoted "
            f"field (more than {MAX_MARKED_LINES}): it is not one record per line"
        )
    if source.format == "csv" and marks.get(1) == TRUNCATED_LINE:
        raise IngestError(f"landing file {location} ends inside its header line: cut short?")
    ctl_name = control_file_name(source)
    control_location = landing.location(source.name, as_of_date, ctl_name)
    has_control = landing.exists(source.name, as_of_date, ctl_name)
    if settings.require_control_file and not has_control:
        raise IngestError(
            f"control file {control_location} is missing, and settings require one "
            "(CREDITLAKE_REQUIRE_CONTROL_FILE)"
        )
    delivery = Delivery(
        source, as_of_date, location, path, scan, control_location if has_control else None
    )
    control = None
    if has_control:
        control_path = landing.fetch(source.name, as_of_date, ctl_name)
        control = read_control_file(control_path, control_location)
        check_control(control, delivery)
    if delivery.landing_rows == 0 and control is None:
        raise IngestError(
            f"landing file {location} has no data rows; a day without records must come with "
            f'a control file ({ctl_name}) that says "rows": 0'
        )
    return delivery
