"""File-level delivery checks and the delivery gate, without Spark (spark_jobs.delivery, _gate).

Expected values are written out from the bytes of each case, or computed with ``hashlib``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
from pathlib import Path

import pytest

from creditlake.settings import get_settings
from creditlake.sources import get_source
from spark_jobs import delivery
from spark_jobs.delivery import (
    CONTINUATION,
    EMBEDDED_NEWLINE,
    TRUNCATED_LINE,
    Delivery,
    FileScan,
    IngestError,
    scan_file,
)
from spark_jobs.delivery_gate import Census, gate_delivery

LOANS = get_source("loans")
TRANSACTIONS = get_source("transactions")


def scan(tmp_path: Path, content: bytes, source=LOANS) -> FileScan:
    path = tmp_path / "f"
    path.write_bytes(content)
    return scan_file(path, source, "landing/f")


@pytest.fixture(params=[1, 2, 3, 7, 8 * 1024 * 1024], ids=lambda size: f"chunk{size}")
def chunk_size(request, monkeypatch):
    """Every scan below is repeated with chunk boundaries everywhere (quotes, \\r\\n split)."""
    monkeypatch.setattr(delivery, "COUNT_CHUNK_BYTES", request.param)
    return request.param


@pytest.mark.parametrize(
    ("content", "lines", "ends_with_newline", "records"),
    [
        (b"h\na,b\n", 2, True, ()),
        (b"h\r\na,b\r\n", 2, True, ()),
        (b"h\na,0.07", 2, False, ()),
        (b'h\na,"x\ny",b\nc\n', 4, True, ((2, 3),)),  # one record on lines 2-3
        (b'h\r\na,"x\r\n\r\ny"\r\n', 4, True, ((2, 4),)),  # CRLF inside a quoted field
        (b'h\na,"say ""hi""\nthere"\n', 3, True, ((2, 3),)),  # escaped quotes inside
        (b'h\na,"x"",y"\nb\n', 3, True, ()),  # an escaped quote before the closing one
        (b'h\na,5"\nb,"c"\n', 3, True, ()),  # a quote inside a field opens nothing
    ],
)
def test_scan_counts_lines_and_finds_multiline_records(
    tmp_path, chunk_size, content, lines, ends_with_newline, records
):
    found = scan(tmp_path, content)
    assert (found.lines, found.ends_with_newline, found.multiline_records) == (
        lines,
        ends_with_newline,
        records,
    )
    assert found.sha256 == hashlib.sha256(content).hexdigest()
    assert found.size == len(content)


def test_data_rows_count_a_multiline_record_once_and_marks_say_how(tmp_path):
    found = scan(tmp_path, b'h\na,1\nb,"x\ny\nz"\nc,2\nd,0.0')
    assert found.multiline_records == ((3, 5),)
    assert found.data_rows(LOANS) == 4  # a, b (3 lines), c, d
    assert found.line_marks() == {
        3: EMBEDDED_NEWLINE,
        4: CONTINUATION,
        5: CONTINUATION,
        7: TRUNCATED_LINE,
    }


def test_a_quote_that_never_closes_fails_naming_its_line(tmp_path, chunk_size):
    with pytest.raises(IngestError, match=r"landing/f: the quoted field opened on line 3 never"):
        scan(tmp_path, b'h\na,1\nb,"x\ny\nz\n')


def test_a_quoted_field_over_many_lines_is_a_stray_quote(tmp_path):
    content = b'h\na,"x\n' + b"y\n" * delivery.MAX_RECORD_LINES + b'"\n'
    with pytest.raises(IngestError, match="opened on line 2 closes only on line 103"):
        scan(tmp_path, content)


def test_json_quotes_are_not_csv_quotes(tmp_path):
    found = scan(tmp_path, b'{"a": "x"}\n{"a": "y\n', source=TRANSACTIONS)
    assert (found.lines, found.multiline_records) == (2, ())


@pytest.mark.parametrize("chunk", [5, 64, 8 * 1024 * 1024])
def test_invalid_utf8_far_into_the_file_names_offset_and_line(tmp_path, monkeypatch, chunk):
    monkeypatch.setattr(delivery, "COUNT_CHUNK_BYTES", chunk)
    content = b"h\n" + "王五,1\n".encode() * 30_000 + b"\xe7\x8e,2\n"
    offset = len(content) - 5
    with pytest.raises(IngestError) as error:
        scan(tmp_path, content)
    assert str(error.value) == (
        f"landing file landing/f is not UTF-8 text: invalid byte at offset {offset} (line 30002)"
    )


def test_a_file_ending_inside_a_character_is_not_text(tmp_path):
    with pytest.raises(IngestError, match=r"ends inside a character \(byte offset 4, line 2\)"):
        scan(tmp_path, b"h\na,\xe7\x8e")


def test_nul_byte_after_the_first_64_kib_is_binary(tmp_path):
    content = b"h\n" + b"a,1\n" * 20_000 + b"\0"
    with pytest.raises(IngestError, match=f"NUL byte at offset {len(content) - 1} "):
        scan(tmp_path, content)


# The gate ---------------------------------------------------------------------------------------
def _delivery(source=TRANSACTIONS) -> Delivery:
    return Delivery(source, dt.date(2026, 1, 1), "landing/x", Path("x"), FileScan(1, "", 1, True))


def _census(bronze: int, quarantined: dict[str, int], **keys) -> Census:
    counts = [("bronze", "", bronze)]
    counts += [("quarantine", reason, n) for reason, n in quarantined.items()]
    counts += [(kind, name, n) for kind, names in keys.items() for name, n in names.items()]
    return Census.from_counts(counts)


@pytest.mark.parametrize(
    ("bronze", "quarantined", "fails"),
    [
        (195, {"out_of_range:amount_cny": 5}, False),  # 5 of 200: below the floor
        (94, {"out_of_range:amount_cny": 6}, True),  # 6 %
        (950, {"out_of_range:amount_cny": 50}, False),  # exactly 5 %
        (949, {"out_of_range:amount_cny": 51}, True),
        (0, {"missing_required:amount_cny": 6}, True),  # everything quarantined
        (3, {"malformed_json": 5}, False),  # 5 is not judged
    ],
)
def test_quarantine_rate_threshold(creditlake_home, bronze, quarantined, fails):
    census = _census(bronze, quarantined)
    if not fails:
        assert gate_delivery(census, _delivery(), get_settings()) == []
        return
    with pytest.raises(IngestError) as error:
        gate_delivery(census, _delivery(), get_settings())
    total = bronze + sum(quarantined.values())
    [(reason, count)] = quarantined.items()
    assert str(error.value).startswith(
        f"landing file landing/x: {count} of {total} rows quarantined "
        f"({100 * count / total:.1f} %) > 5 % threshold; the delivery looks wrong: "
        f"top reasons: {reason} {count}"
    )


def test_threshold_is_overridable_per_deployment_and_per_source(creditlake_home, monkeypatch):
    census = _census(80, {"wrong_type:amount_cny": 20})
    monkeypatch.setenv("CREDITLAKE_MAX_QUARANTINE_RATE", "0.25")
    assert gate_delivery(census, _delivery(), get_settings()) == []
    strict = dataclasses.replace(TRANSACTIONS, max_quarantine_rate=0.1)
    with pytest.raises(IngestError, match=r"> 10 % threshold"):
        gate_delivery(census, _delivery(strict), get_settings())


def test_a_key_absent_from_every_record_fails_naming_it(creditlake_home):
    census = _census(3, {}, absent_key={"amount_cny": 3}, extra_key={"amount": 3})
    with pytest.raises(IngestError) as error:
        gate_delivery(census, _delivery(), get_settings())
    assert str(error.value) == (
        "landing file landing/x lacks registry keys in its JSON records: "
        "amount_cny (3 of 3 records); renamed or dropped fields?"
    )


def test_extra_keys_become_new_columns_and_are_logged(creditlake_home, caplog):
    census = _census(100, {}, extra_key={"note": 3, "channel": 100}, absent_key={"city": 1})
    assert gate_delivery(census, _delivery(), get_settings()) == ["channel", "note"]
    assert "channel (100 records), note (3 records)" in caplog.text


def test_an_extra_key_that_cannot_be_a_column_fails_without_showing_it(creditlake_home, caplog):
    census = _census(100, {}, extra_key={"channel": 100, "13800138000": 1})
    with pytest.raises(IngestError) as raised:
        gate_delivery(census, _delivery(), get_settings())
    assert "cannot become bronze columns: <11 characters not shown> (" in str(raised.value)
    assert "13800138000" not in str(raised.value) + caplog.text
