"""Malformed and hostile deliveries end loudly: quarantined with a reason, or an IngestError that
names the file; and where a file is accepted, every landing row is still accounted for.

The job runs a few times on files that each hold several cases; the refusals before Spark cost
nothing, so they are one case each. Every case runs on the DuckDB engine; a case decided after the
transform (by the gate, the ledger or the lake) whose transform part another case already runs on
Spark is marked ``ingest_engines("duckdb")`` (``conftest.py``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from pathlib import Path

import pytest
from spark_job_helpers import (
    DAY,
    customer,
    customer_line,
    deliver,
    json_line,
    staged_rows,
    transaction,
)

from creditlake import ledger
from creditlake.lake import Lake, bronze_table
from creditlake.settings import Settings
from creditlake.sources import get_source
from spark_jobs.delivery import IngestError
from spark_jobs.ingest import main

#: Every test runs on both ingest engines: what the job does must not depend on the engine.
pytestmark = pytest.mark.usefixtures("ingest_engine")

CUSTOMERS = get_source("customers")
MOBILE = "13912345678"
RESIDENT_ID = customer(999)["national_id"]  # a valid check character; no customer's own ID
CARD = "6222020200112345679"  # 19 digits, Luhn-valid


def nothing_staged(settings: Settings, source: str) -> bool:
    return ledger.latest_delivery(Lake.from_settings(settings), source, DAY) is None


def control(path: Path, rows: int) -> Path:
    """The control file a source system ships beside ``path``."""
    content = path.read_bytes()
    body = {"file": path.name, "rows": rows, "sha256": hashlib.sha256(content).hexdigest()}
    target = path.with_name(path.name + ".ctl.json")
    target.write_text(json.dumps(body | {"bytes": len(content)}), encoding="utf-8")
    return target


def loan_line(n: int, principal: str = "15000.00", apr: str = "0.1460") -> str:
    return f"L{n:06d},A{n:06d},C{n:06d},2025-12-31 10:00:00,{principal},{apr},12,2026-01-31"


# One accepted customers delivery with many row-level cases --------------------------------------
GOOD = 170  # enough clean rows that the cases stay under the 5 % quarantine threshold
CASES = {
    # data row -> (line, expected reason)
    GOOD + 1: (customer_line(901, occupation=MOBILE), "occupation"),
    GOOD + 2: (customer_line(902, city=f"北京{RESIDENT_ID}"), "city"),
    GOOD + 3: (customer_line(903, education=CARD), "education"),
    GOOD + 4: (customer_line(904, monthly_income_cny="北京市"), "wrong_type:monthly_income_cny"),
    GOOD + 5: (customer_line(905, monthly_income_cny="1200000.00"), "out_of_range"),
    # a key column holding a mobile number as its whole value (a code with digits is normal)
    GOOD + 6: (customer_line(906, customer_id=MOBILE), "customer_id"),
}
#: A key that merely contains a mobile-shaped run of digits is a code, not a phone: loaded.
CODE_WITH_DIGITS = "C13800138000"
# a record whose quoted occupation holds a line break: two physical lines, one record (row 126)
MULTILINE = customer_line(908, occupation='"engineer\nsenior"')
# the last line, cut inside its timestamp: "2024-07-02" still parses, to the wrong time (row 127)
CUT = customer_line(909)[: -len(" 09:15:00")]


@pytest.fixture(scope="module")
def accepted(spark, module_settings: Settings):
    lines = [customer_line(n) for n in range(1, GOOD + 1)]
    lines += [line for line, _ in CASES.values()]
    lines += [customer_line(907, customer_id=CODE_WITH_DIGITS), MULTILINE]
    path = deliver(module_settings, "customers", lines)
    with path.open("ab") as handle:
        handle.write(CUT.encode())
    return path, main("customers", DAY, settings=module_settings, spark=spark)


def test_accepted_file_reconciles_counting_a_multiline_record_once(accepted):
    _, result = accepted
    assert result.landing_rows == GOOD + len(CASES) + 3
    assert result.bronze_rows == GOOD + 1
    assert result.quarantined_rows == len(CASES) + 2
    assert result.duplicates_dropped == 0


def test_cut_multiline_and_personal_data_rows_are_quarantined_with_reasons(
    accepted, module_settings
):
    rows = {r["row_number"]: r for r in staged_rows(module_settings, "quarantine", "customers")}
    assert {n: r["reason"] for n, r in rows.items()} == {
        GOOD + 1: "personal_data_in_unprotected_column:occupation",
        GOOD + 2: "personal_data_in_unprotected_column:city",
        GOOD + 3: "personal_data_in_unprotected_column:education",
        GOOD + 4: "wrong_type:monthly_income_cny",
        GOOD + 5: "out_of_range:monthly_income_cny",
        GOOD + 6: "personal_data_in_unprotected_column:customer_id",
        GOOD + 8: "embedded_newline",
        GOOD + 10: "truncated_line",  # the line after it is the multi-line record's second line
    }
    assert rows[GOOD + 5]["reason_detail"] == (
        "monthly_income_cny 1200000.00 is above the plausible maximum 500000; a unit change?"
    )
    assert json.loads(rows[GOOD + 1]["record_json"])["occupation"].startswith("<redacted")
    assert json.loads(rows[GOOD + 4]["record_json"])["monthly_income_cny"] == "北京市"


def test_no_misplaced_identifier_reaches_bronze_quarantine_or_the_result(accepted, module_settings):
    _, result = accepted
    texts = [json.dumps(result.to_dict(), ensure_ascii=False)]
    for layer in ("bronze", "quarantine"):
        rows = staged_rows(module_settings, layer, "customers")
        texts += [json.dumps(r, default=str, ensure_ascii=False) for r in rows]
    everything = "\n".join(texts)
    assert [v for v in (MOBILE, RESIDENT_ID, CARD) if v in everything] == []
    bronze = staged_rows(module_settings, "bronze", "customers")
    assert {r["city"] for r in bronze} == {"北京市"}
    assert CODE_WITH_DIGITS in {r["customer_id"] for r in bronze}


def test_result_carries_the_content_hash(accepted):
    path, result = accepted
    assert result.content_sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert result.new_fields == []


# JSON Lines: additive drift loaded as new columns, identifiers withheld -------------------------
def test_json_extra_keys_become_columns_and_identifiers_are_withheld(spark, settings):
    lines = [json_line(transaction(n) | {"channel": "app"}) for n in range(1, 101)]
    lines.append(json_line(transaction(101, merchant_name=f"便利店 {MOBILE}")))
    lines.append(json_line(transaction(102) | {"note": f"call {MOBILE}"}))
    lines.append(json_line(transaction(103) | {"channel": {"kind": "mini program"}}))
    lines.append(json_line(transaction(104))[:-8])  # cut short: no closing brace, no line feed
    path = deliver(settings, "transactions", lines)
    path.write_bytes(path.read_bytes().rstrip(b"\n"))
    result = main("transactions", DAY, settings=settings, spark=spark)
    assert result.new_fields == ["channel", "note"]
    assert result.quarantined_by_reason == {
        "personal_data_in_unprotected_column:merchant_name": 1,
        "personal_data_in_undeclared_field": 1,
        "truncated_line": 1,
    }
    assert (result.landing_rows, result.bronze_rows) == (104, 101)
    bronze = {r["transaction_id"]: r for r in staged_rows(settings, "bronze", "transactions")}
    channels = {r["channel"] for r in bronze.values()}
    assert channels == {"app", '{"kind":"mini program"}'}  # a nested value is kept as JSON text
    assert {r["note"] for r in bronze.values()} == {None}  # the only note held a mobile number
    assert MOBILE not in json.dumps(list(bronze.values()), default=str, ensure_ascii=False)
    rows = {r["row_number"]: r for r in staged_rows(settings, "quarantine", "transactions")}
    assert rows[101]["raw_line"] is None  # holds a mobile number: withheld
    assert rows[102]["raw_line"] is None
    assert rows[104]["raw_line"] == lines[-1]  # a source without personal columns keeps it
    record = ledger.latest_delivery(Lake.from_settings(settings), "transactions", DAY)
    assert record.detail.endswith("loaded as new text columns of bronze: channel, note")


@pytest.mark.ingest_engines("duckdb")  # the lake adds the column; Spark's part is the test above
def test_a_later_delivery_without_the_new_field_loads_it_as_null(spark, settings):
    deliver(settings, "transactions", [json_line(transaction(1) | {"channel": "app"})])
    main("transactions", DAY, settings=settings, spark=spark)
    later = DAY + dt.timedelta(days=1)
    deliver(settings, "transactions", [json_line(transaction(2))], day=later)
    result = main("transactions", later, settings=settings, spark=spark)
    assert result.new_fields == []
    assert [r["channel"] for r in staged_rows(settings, "bronze", "transactions", later)] == [None]


#: Undeclared keys that cannot be columns: not a lower-case name, or a bronze or partition column.
UNFIT_KEYS = {
    "Channel Name": "<12 characters not shown>",  # not shown: a key could be personal data
    "Channel": "Channel",
    "_batch_id": "_batch_id",
    "ingest_date": "ingest_date",
}


def test_undeclared_keys_that_cannot_be_columns_fail_naming_each(spark, settings):
    """One delivery, one unfit key per record: each must be named, and the delivery refused."""
    lines = [json_line(transaction(n) | {key: "x"}) for n, key in enumerate(UNFIT_KEYS, start=1)]
    lines += [json_line(transaction(n)) for n in range(len(lines) + 1, 21)]
    deliver(settings, "transactions", lines)
    shown = ", ".join(sorted(UNFIT_KEYS.values()))
    with pytest.raises(IngestError, match=rf"cannot become bronze columns: {re.escape(shown)} \("):
        main("transactions", DAY, settings=settings, spark=spark)
    assert nothing_staged(settings, "transactions")


# CRLF line endings load the same values as LF ---------------------------------------------------
def test_crlf_file_loads_exactly_what_the_lf_file_loads(spark, settings):
    lines = [loan_line(1), loan_line(2, principal="800.50"), loan_line(3, apr="0.0730")]
    path = deliver(settings, "loans", lines)
    main("loans", DAY, settings=settings, spark=spark)
    lf = sorted(staged_rows(settings, "bronze", "loans"), key=lambda r: r["loan_id"])
    path.write_bytes(path.read_bytes().replace(b"\n", b"\r\n"))
    result = main("loans", DAY, settings=settings, spark=spark)
    crlf = sorted(staged_rows(settings, "bronze", "loans"), key=lambda r: r["loan_id"])
    lineage = ("_batch_id", "_ingested_at")
    assert [{k: v for k, v in r.items() if k not in lineage} for r in crlf] == [
        {k: v for k, v in r.items() if k not in lineage} for r in lf
    ]
    assert (result.landing_rows, result.bronze_rows) == (3, 3)
    assert not any(isinstance(v, str) and "\r" in v for r in crlf for v in r.values())


# Deliveries that look wrong as a whole fail before anything is written --------------------------
@pytest.mark.ingest_engines("duckdb")  # the gate judges; Spark's out_of_range: `accepted` above
def test_amounts_in_fen_fail_the_delivery(spark, settings):
    # Loans of 4,000 to 43,000 yuan, delivered in fen: 33 of them exceed the plausible maximum.
    lines = [loan_line(n, principal=f"{(3_000 + 1_000 * n) * 100}.00") for n in range(1, 41)]
    path = deliver(settings, "loans", lines)
    with pytest.raises(IngestError) as error:
        main("loans", DAY, settings=settings, spark=spark)
    assert str(error.value) == (
        f"landing file {path}: 33 of 40 rows quarantined (82.5 %) > 5 % threshold; "
        "the delivery looks wrong: top reasons: out_of_range:principal_cny 33"
    )
    assert nothing_staged(settings, "loans")


def test_renamed_json_key_fails_naming_it(spark, settings):
    lines = [json_line(transaction(n)) for n in range(1, 4)]
    lines = [line.replace('"amount_cny"', '"amount"') for line in lines]
    deliver(settings, "transactions", lines)
    with pytest.raises(IngestError, match=r"lacks registry keys .*: amount_cny \(3 of 3 records\)"):
        main("transactions", DAY, settings=settings, spark=spark)
    assert nothing_staged(settings, "transactions")


# Refused before Spark reads the file ------------------------------------------------------------
def test_invalid_utf8_beyond_the_first_64_kib_is_refused(settings):
    lines = [loan_line(n) for n in range(1, 2001)]  # about 130 KB
    path = deliver(settings, "loans", lines)
    content = path.read_bytes()
    offset = content.index(b"L001900")
    path.write_bytes(content[:offset] + b"\xff" + content[offset + 1 :])
    with pytest.raises(IngestError) as error:
        main("loans", DAY, settings=settings)
    assert str(error.value) == (
        f"landing file {path} is not UTF-8 text: invalid byte at offset {offset} (line 1901)"
    )


def test_byte_order_mark_on_json_lines_is_refused(settings):
    path = deliver(settings, "transactions", [json_line(transaction(1))])
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    with pytest.raises(
        IngestError, match=re.escape(f"landing file {path} starts with a UTF-8 byte")
    ):
        main("transactions", DAY, settings=settings)


def test_semicolon_delimited_csv_fails_on_the_header(settings):
    path = deliver(settings, "loans", [";".join(get_source("loans").column_names)], header=False)
    with pytest.raises(IngestError, match=re.escape(f"landing file {path} has the wrong header")):
        main("loans", DAY, settings=settings)


def test_a_file_cut_in_its_header_is_refused(settings):
    path = deliver(settings, "loans", [])
    path.write_bytes(path.read_bytes().rstrip(b"\n"))
    with pytest.raises(IngestError, match="ends inside its header line"):
        main("loans", DAY, settings=settings)


@pytest.mark.parametrize("source", ["loans", "transactions"])
def test_no_data_rows_need_a_control_file_saying_zero(settings, source):
    path = deliver(settings, source, [])  # a header-only CSV, an empty JSON Lines file
    with pytest.raises(IngestError, match=re.escape(f"landing file {path} has no data rows")):
        main(source, DAY, settings=settings)


@pytest.mark.ingest_engines("duckdb")  # an empty delivery on Spark: test_engine_parity.py
def test_header_only_file_with_a_zero_row_control_file_is_an_empty_day(spark, settings):
    control(deliver(settings, "loans", []), rows=0)
    result = main("loans", DAY, settings=settings, spark=spark)
    assert (result.landing_rows, result.bronze_rows, result.quarantined_rows) == (0, 0, 0)


def test_file_cut_at_a_line_boundary_is_caught_by_its_control_file(settings):
    path = deliver(settings, "loans", [loan_line(n) for n in range(1, 6)])
    control(path, rows=5)
    content = path.read_bytes()
    path.write_bytes(content[: content.rindex(b"L000005")])  # the last line is gone
    with pytest.raises(IngestError) as error:
        main("loans", DAY, settings=settings)
    message = str(error.value)
    assert message.startswith(f"landing file {path} does not match its control file {path}.ctl")
    assert "rows: control file says 5, file has 4" in message
    assert f"sha256: control file says {hashlib.sha256(content).hexdigest()}, file has " in message


def test_control_file_can_be_required(settings, monkeypatch):
    monkeypatch.setenv("CREDITLAKE_REQUIRE_CONTROL_FILE", "true")
    path = deliver(settings, "loans", [loan_line(1)])
    with pytest.raises(IngestError, match=re.escape(f"control file {path}.ctl.json is missing")):
        main("loans", DAY)


def test_unexpected_files_in_the_delivery_folder_are_refused(settings):
    path = deliver(settings, "loans", [loan_line(1)])
    (path.parent / "loans (1).csv").write_text("x")
    (path.parent / "old").mkdir()
    (path.parent / "old" / "loans.csv").write_text("x")
    with pytest.raises(IngestError) as error:
        main("loans", DAY, settings=settings)
    assert str(error.value) == (
        f"delivery folder {path.parent} holds unexpected files: loans (1).csv, old/loans.csv "
        "(expected only loans.csv and optionally loans.csv.ctl.json)"
    )


# The same file again under another date ---------------------------------------------------------
@pytest.mark.ingest_engines("duckdb")  # refused by the ledger, before any transform
def test_a_file_already_published_under_another_date_is_refused(spark, settings):
    """The ledger keys deliveries by content: the same bytes under a new date load nothing."""
    from expectations.names import bronze_suite_name

    lines = [json_line(transaction(n)) for n in range(1, 4)]
    deliver(settings, "transactions", lines)
    first = main("transactions", DAY, settings=settings, spark=spark)
    lake = Lake.from_settings(settings)
    suite = bronze_suite_name("transactions")
    gate = ledger.GateResult(
        suite, DAY, "bronze.transactions", first.bronze_snapshot_id, True, 1, 0, 0
    )
    ledger.record(lake, gate)
    ledger.publish_delivery(lake, "transactions", DAY, suite)

    later = DAY + dt.timedelta(days=1)
    path = deliver(settings, "transactions", lines, day=later)
    with pytest.raises(IngestError) as error:
        main("transactions", later, settings=settings, spark=spark)
    assert str(error.value).startswith(f"landing file {path} has the same content (sha256 ")
    assert f"already loaded for {DAY}: refused" in str(error.value)
    refused = ledger.latest_delivery(lake, "transactions", later)
    assert (refused.status, refused.bronze_rows) == (ledger.DUPLICATE, 0)
    assert lake.read(bronze_table("transactions")).num_rows == 3  # loaded once
    # A re-run of the date it was published under is not a duplicate.
    assert main("transactions", DAY, settings=settings, spark=spark).bronze_rows == 3
