"""Unit tests of the ingestion transforms, a few inline lines per case table.

Each table runs through Spark once (a module fixture) and every case is checked on its own row,
so a table of twenty cases costs one Spark job, not twenty.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import hmac
import json
from decimal import Decimal
from pathlib import Path

import pytest
from pyspark.sql import functions as F
from spark_job_helpers import DAY, PII_KEY, customer, customer_line, national_id

from creditlake.pii import national_id_check_char, tokenise
from creditlake.sources import Column, Source, bronze_columns, get_source
from spark_jobs import parsing
from spark_jobs import transforms as tr
from spark_jobs.delivery import count_lines
from spark_jobs.ingest import read_lines

KEY = PII_KEY.encode()
TS = "2026-01-01 08:00:00"
PHONE = "13800000000"

#: A made-up source small enough to read, with one column for each kind of check.
WIDGETS = Source(
    name="widgets",
    domain="test",
    format="csv",
    key="widget_id",
    description="test source",
    columns=(
        Column("widget_id", "string", required=True),
        Column("owner_phone", "string", required=True, pii="C2"),
        Column("amount_cny", "decimal(12,2)", required=True, positive=True),
        Column("quantity", "int", non_negative=True),
        Column("made_at", "timestamp", required=True),
        Column("note", "string"),
    ),
)
WIDGETS_JSONL = dataclasses.replace(WIDGETS, format="jsonl")
WIDGETS_WITHOUT_PII = dataclasses.replace(
    WIDGETS, columns=tuple(dataclasses.replace(c, pii=None) for c in WIDGETS.columns)
)


def python_hmac(value: str) -> str:
    """The expected token, from Python's hmac module (independent of the Spark expression)."""
    return hmac.new(KEY, value.encode("utf-8"), hashlib.sha256).hexdigest()


def widget(key: str, phone=PHONE, amount="10.50", quantity="3", made_at=TS, note="ok") -> str:
    return ",".join([key, phone, amount, quantity, made_at, note])


def widget_json(key: str, **values: object) -> str:
    row = {"widget_id": key, "owner_phone": PHONE, "amount_cny": 10.5, "quantity": 3}
    row |= {"made_at": TS, "note": "北京"}
    row.update(values)
    return json.dumps({k: v for k, v in row.items() if v is not ...}, ensure_ascii=False)


def classify(spark, source: Source, lines: list[str], day: dt.date = DAY):
    """Lines as delivered (a CSV header is added) → the deduplicated frame of the job."""
    if source.format == "csv":
        lines = [",".join(source.column_names), *lines]
    numbered = spark.createDataFrame(
        [(number, line) for number, line in enumerate(lines, start=1)],
        "_line_number bigint, _raw_line string",
    )
    validated = tr.transform_validate(parsing.transform_parse(numbered, source), source, day, KEY)
    duplicates = tr.transform_find_duplicates(validated)
    return tr.transform_deduplicate(validated, duplicates, source)


def by_row(frame) -> dict[int, dict]:
    """Rows by data row number, timestamps as UTC text (independent of the test machine's zone)."""
    text_times = [
        F.date_format(name, "yyyy-MM-dd HH:mm:ss").alias(name)
        for name, kind in frame.dtypes
        if kind == "timestamp"
    ]
    other = [name for name, kind in frame.dtypes if kind != "timestamp"]
    return {row["_row_number"]: row.asDict() for row in frame.select(*other, *text_times).collect()}


# Line numbering ----------------------------------------------------------------------------------
def test_number_lines_counts_earlier_splits_and_the_place_within_a_split(spark):
    # Three splits read by partitions 0, 3 and 1: positions carry the partition in their top bits.
    rows = [
        (100, (1 << 33) + 0, "f"),
        (0, 1, "b"),
        (50, (3 << 33) + 1, "e"),
        (0, 0, "a"),
        (50, (3 << 33) + 0, "d"),
        (0, 2, "c"),
    ]
    lines = spark.createDataFrame(rows, "_block_start bigint, _position bigint, _raw_line string")
    numbered = {
        r["_raw_line"]: r["_line_number"] for r in parsing.transform_number_lines(lines).collect()
    }
    assert numbered == {"a": 1, "b": 2, "c": 3, "d": 4, "e": 5, "f": 6}


def test_line_numbers_match_the_file_when_it_is_read_in_many_splits(spark, tmp_path: Path):
    path = tmp_path / "lines.txt"
    endings = ("\n", "\r\n", "\n", "\r")
    with path.open("w", encoding="utf-8", newline="") as handle:
        for number in range(1, 20_001):
            handle.write(f"line {number} {'x' * (number % 37)}{endings[number % 4]}")
    previous = spark.conf.get("spark.sql.files.maxPartitionBytes")
    spark.conf.set("spark.sql.files.maxPartitionBytes", "64k")
    try:
        lines = read_lines(spark, path)
        splits = lines.select("_block_start").distinct().count()
        numbered = parsing.transform_number_lines(lines).collect()
    finally:
        spark.conf.set("spark.sql.files.maxPartitionBytes", previous)
    assert splits >= 5  # the file really was read in several splits
    true_numbers = {row["_raw_line"]: int(row["_raw_line"].split()[1]) for row in numbered}
    assert sorted(row["_line_number"] for row in numbered) == list(range(1, 20_001))
    assert all(row["_line_number"] == true_numbers[row["_raw_line"]] for row in numbered)
    assert count_lines(path) == 20_000


# Parsing and checks (CSV) ------------------------------------------------------------------------
CSV_CASES = [
    # (case, line, outcome, reason)
    ("valid", widget("W01"), "bronze", None),
    ("optional fields empty", widget("W02", quantity="", note=""), "bronze", None),
    ("zero where non-negative", widget("W03", quantity="0"), "bronze", None),
    ("RFC 4180 quoting", widget("W04", note='"a, ""b"""'), "bronze", None),
    ("missing key", widget(""), "quarantine", "missing_required:widget_id"),
    ("spaces only", widget("W06", phone="   "), "quarantine", "missing_required:owner_phone"),
    ("missing timestamp", widget("W07", made_at=""), "quarantine", "missing_required:made_at"),
    ("not a number", widget("W08", amount="ten"), "quarantine", "wrong_type:amount_cny"),
    ("int with a fraction", widget("W09", quantity="1.5"), "quarantine", "wrong_type:quantity"),
    (
        "impossible time",
        widget("W10", made_at="2026-02-30 08:00:00"),
        "quarantine",
        "wrong_type:made_at",
    ),
    ("negative", widget("W11", amount="-5"), "quarantine", "negative_amount:amount_cny"),
    ("zero", widget("W12", amount="0.00"), "quarantine", "non_positive_amount:amount_cny"),
    ("negative count", widget("W13", quantity="-1"), "quarantine", "negative_amount:quantity"),
    (
        "missing beats wrong type",
        widget("", amount="x"),
        "quarantine",
        "missing_required:widget_id",
    ),
    (
        "missing beats an earlier negative",
        widget("W15", amount="-1", made_at=""),
        "quarantine",
        "missing_required:made_at",
    ),
    (
        "wrong type beats negative",
        widget("W16", amount="ten", quantity="-1"),
        "quarantine",
        "wrong_type:amount_cny",
    ),
    (
        "first column wins",
        widget("W17", amount="x", quantity="y"),
        "quarantine",
        "wrong_type:amount_cny",
    ),
    ("too few fields", "W18,13800000000,1.00", "quarantine", "malformed_row"),
    ("too many fields", widget("W19") + ",extra", "quarantine", "malformed_row"),
    ("unclosed quote", f'W20,"{PHONE},1.00,1,{TS},x', "quarantine", "malformed_row"),
    ("blank line", "", "quarantine", "malformed_row"),
    ("spaces line", "   ", "quarantine", "malformed_row"),
]


@pytest.fixture(scope="module")
def csv_rows(spark) -> dict[int, dict]:
    return by_row(classify(spark, WIDGETS, [line for _, line, _, _ in CSV_CASES]))


@pytest.mark.parametrize(
    ("row_number", "line", "outcome", "reason"),
    [(n, line, outcome, reason) for n, (_, line, outcome, reason) in enumerate(CSV_CASES, 1)],
    ids=[case for case, *_ in CSV_CASES],
)
def test_csv_row_checks(csv_rows, row_number, line, outcome, reason):
    row = csv_rows[row_number]
    assert (row["_outcome"], row["_reason"]) == (outcome, reason)


def test_csv_values_are_typed_and_quoting_is_rfc_4180(csv_rows):
    first = csv_rows[1]
    assert first["amount_cny"] == Decimal("10.50")
    assert first["quantity"] == 3
    assert first["made_at"] == TS
    assert first["note"] == "ok"
    assert (csv_rows[2]["quantity"], csv_rows[2]["note"]) == (None, None)
    assert csv_rows[4]["note"] == 'a, "b"'


def test_quarantine_details_say_what_was_wrong(csv_rows):
    assert csv_rows[8]["_reason_detail"] == "amount_cny 'ten' is not a decimal(12,2)"
    assert csv_rows[11]["_reason_detail"] == "amount_cny -5.00 is below 0"
    assert csv_rows[12]["_reason_detail"] == "amount_cny is 0 but must be positive"
    assert csv_rows[7]["_reason_detail"] == "required column made_at is empty"
    assert csv_rows[18]["_reason_detail"] == (
        "expected 6 comma-separated fields (RFC 4180), found 3"
    )
    assert csv_rows[19]["_reason_detail"].endswith("found 7")
    assert csv_rows[21]["_reason_detail"] == "blank line"
    assert csv_rows[22]["_reason_detail"] == "blank line"  # spaces only
    assert csv_rows[1]["_reason_detail"] is None


def test_tokens_equal_python_hmac_of_the_raw_value(csv_rows):
    assert csv_rows[1]["owner_phone_token"] == python_hmac(PHONE)
    assert python_hmac(PHONE) == tokenise(PHONE, KEY)  # the shared reference agrees
    assert "owner_phone" not in csv_rows[1]


def test_record_json_holds_the_text_with_pii_tokenised(csv_rows):
    record = json.loads(csv_rows[8]["_record_json"])
    assert record == {
        "widget_id": "W08",
        "owner_phone_token": python_hmac(PHONE),
        "amount_cny": "ten",
        "quantity": "3",
        "made_at": TS,
        "note": "ok",
    }
    assert csv_rows[18]["_record_json"] is None  # a malformed line has no fields to show
    assert csv_rows[1]["_record_json"] is None  # only quarantined rows carry it
    # The source has a tokenised column, so no raw line is kept anywhere.
    assert all(row["_raw_line"] is None for row in csv_rows.values())


def test_raw_line_is_kept_for_quarantined_rows_of_sources_without_pii(spark):
    # Not phone-shaped: a phone number in a column not declared personal is quarantined
    # (personal_data_in_unprotected_column) and its raw line withheld.
    lines = [widget("W1", phone="desk 42"), widget("W2", phone="desk 43", amount="-3")]
    rows = by_row(classify(spark, WIDGETS_WITHOUT_PII, lines))
    assert rows[1]["_raw_line"] is None
    assert rows[2]["_raw_line"] == lines[1]


# Parsing and checks (JSON Lines) -----------------------------------------------------------------
JSON_CASES = [
    ("valid object", widget_json("J01"), "bronze", None),
    ("numbers as text", widget_json("J02", amount_cny="10.50", quantity="3"), "bronze", None),
    ("key absent", widget_json("J03", made_at=...), "quarantine", "missing_required:made_at"),
    (
        "explicit null",
        widget_json("J04", amount_cny=None),
        "quarantine",
        "missing_required:amount_cny",
    ),
    (
        "empty string",
        widget_json("J05", owner_phone=""),
        "quarantine",
        "missing_required:owner_phone",
    ),
    ("wrong type", widget_json("J06", amount_cny="abc"), "quarantine", "wrong_type:amount_cny"),
    ("negative", widget_json("J07", amount_cny=-1), "quarantine", "negative_amount:amount_cny"),
    ("array", "[1, 2]", "quarantine", "malformed_json"),
    ("number", "42", "quarantine", "malformed_json"),
    ("null literal", "null", "quarantine", "malformed_json"),
    ("truncated", '{"widget_id": "J11", "amount', "quarantine", "malformed_json"),
    ("blank line", "", "quarantine", "malformed_json"),
    ("string", '"J13"', "quarantine", "malformed_json"),
    ("cut short like row 11", '{"widget_id": "J11", "amount', "quarantine", "malformed_json"),
    (
        "a key given twice",
        widget_json("J15")[:-1] + ', "amount_cny": 99}',
        "quarantine",
        "malformed_json",
    ),
    (
        "an undeclared key given twice",
        widget_json("J16")[:-1] + ', "colour": "red", "colour": "blue"}',
        "quarantine",
        "malformed_json",
    ),
    ("an undeclared field", widget_json("J17")[:-1] + ', "colour": "red"}', "bronze", None),
    (
        "an identifier in an undeclared field",
        widget_json("J18")[:-1] + ', "contact": "tel 13912345678"}',
        "quarantine",
        "personal_data_in_undeclared_field",
    ),
]


@pytest.fixture(scope="module")
def json_rows(spark) -> dict[int, dict]:
    return by_row(classify(spark, WIDGETS_JSONL, [line for _, line, _, _ in JSON_CASES]))


@pytest.mark.parametrize(
    ("row_number", "outcome", "reason"),
    [(n, outcome, reason) for n, (_, _, outcome, reason) in enumerate(JSON_CASES, 1)],
    ids=[case for case, *_ in JSON_CASES],
)
def test_json_row_checks(json_rows, row_number, outcome, reason):
    row = json_rows[row_number]
    assert (row["_outcome"], row["_reason"]) == (outcome, reason)


def test_json_values_are_typed(json_rows):
    assert json_rows[1]["amount_cny"] == Decimal("10.50")
    assert json_rows[2]["amount_cny"] == Decimal("10.50")
    assert json_rows[1]["note"] == "北京"
    assert json_rows[1]["owner_phone_token"] == python_hmac(PHONE)
    assert json_rows[8]["_reason_detail"] == "line is not a JSON object"
    assert json_rows[17]["_extra_fields"] == {"colour": "red"}
    assert json_rows[1]["_extra_fields"] is None


# Duplicates --------------------------------------------------------------------------------------
DUPLICATE_LINES = [
    widget("A", note="x"),  # 1 kept
    widget("A", note="x"),  # 2 exact copy of 1: dropped
    widget("A", note="y"),  # 3 same key, other content: duplicate_key
    widget("A", note="y"),  # 4 exact copy of 3: dropped
    widget("B", amount="-1"),  # 5 negative
    widget("B"),  # 6 first valid B: kept, though an invalid B came first
    "",  # 7 blank
    "",  # 8 blank again: reported, not dropped
    "x,y",  # 9 malformed
    "x,y",  # 10 the same malformed text again: reported too, it is not a re-sent record
    widget("B", amount="-1"),  # 11 exact copy of 5: dropped
    widget("C", note="1"),  # 12 kept
    widget("C", note="2"),  # 13 duplicate_key of 12
    widget("C", note="3"),  # 14 duplicate_key of 12
]
EXPECTED_DUPLICATES = {
    1: ("bronze", None),
    2: ("duplicate", None),
    3: ("quarantine", "duplicate_key"),
    4: ("duplicate", None),
    5: ("quarantine", "negative_amount:amount_cny"),
    6: ("bronze", None),
    7: ("quarantine", "malformed_row"),
    8: ("quarantine", "malformed_row"),
    9: ("quarantine", "malformed_row"),
    10: ("quarantine", "malformed_row"),
    11: ("duplicate", None),
    12: ("bronze", None),
    13: ("quarantine", "duplicate_key"),
    14: ("quarantine", "duplicate_key"),
}


@pytest.fixture(scope="module")
def duplicate_rows(spark) -> dict[int, dict]:
    return by_row(classify(spark, WIDGETS, DUPLICATE_LINES))


def test_copies_are_dropped_and_key_clashes_quarantined(duplicate_rows):
    outcomes = {n: (row["_outcome"], row["_reason"]) for n, row in duplicate_rows.items()}
    assert outcomes == EXPECTED_DUPLICATES


def test_key_clash_names_the_row_that_was_kept(duplicate_rows):
    assert duplicate_rows[3]["_reason_detail"] == "widget_id 'A' was first loaded from row 1"
    assert duplicate_rows[14]["_reason_detail"] == "widget_id 'C' was first loaded from row 12"
    record = json.loads(duplicate_rows[3]["_record_json"])
    assert record["note"] == "y"
    assert record["amount_cny"] == "10.50"
    assert record["owner_phone_token"] == python_hmac(PHONE)


def test_find_duplicates_returns_only_copies_and_clashes(spark):
    numbered = spark.createDataFrame(
        list(enumerate([",".join(WIDGETS.column_names), *DUPLICATE_LINES], start=1)),
        "_line_number bigint, _raw_line string",
    )
    validated = tr.transform_validate(parsing.transform_parse(numbered, WIDGETS), WIDGETS, DAY, KEY)
    found = {
        row["_row_number"]: (row["_is_copy"], row["_is_clash"])
        for row in tr.transform_find_duplicates(validated).collect()
    }
    copies = {n for n, (outcome, _) in EXPECTED_DUPLICATES.items() if outcome == "duplicate"}
    clashes = {n for n, (_, reason) in EXPECTED_DUPLICATES.items() if reason == "duplicate_key"}
    assert found == {n: (n in copies, n in clashes) for n in copies | clashes}


def test_deduplicate_without_duplicates_keeps_every_valid_row(spark):
    numbered = spark.createDataFrame(
        list(enumerate([",".join(WIDGETS.column_names), widget("A"), widget("B")], start=1)),
        "_line_number bigint, _raw_line string",
    )
    validated = tr.transform_validate(parsing.transform_parse(numbered, WIDGETS), WIDGETS, DAY, KEY)
    rows = tr.transform_deduplicate(validated, None, WIDGETS).collect()
    assert sorted((r["_row_number"], r["_outcome"]) for r in rows) == [(1, "bronze"), (2, "bronze")]


# National ID (customers) -------------------------------------------------------------------------
def _id_with_check_x() -> str:
    for sequence in range(1000):
        first17 = f"11010519800101{sequence:03d}"
        if national_id_check_char(first17) == "X":
            return first17 + "X"
    raise AssertionError("no ID with check character X in the range")


MALE = national_id("11010519900307123")  # digit 17 is 3: odd, male
FEMALE = national_id("44030619851224002")  # digit 17 is 2: even, female
WITH_X = _id_with_check_x()
WRONG_CHECK = MALE[:-1] + ("0" if MALE[-1] != "0" else "1")
ID_CASES = [
    ("male", MALE, "bronze", None),
    ("female", FEMALE, "bronze", None),
    ("check character X", WITH_X, "bronze", None),
    ("wrong check character", WRONG_CHECK, "quarantine", "invalid_national_id"),
    ("lower-case x", WITH_X[:-1] + "x", "quarantine", "invalid_national_id"),
    ("30 February", national_id("11010519900230123"), "quarantine", "invalid_national_id"),
    ("born after the date", national_id("11010520300101123"), "quarantine", "invalid_national_id"),
    ("born before 1900", national_id("11010518991231123"), "quarantine", "invalid_national_id"),
    ("too short", "11010519900307", "quarantine", "invalid_national_id"),
    ("letters", "110105199003ABCDEF", "quarantine", "invalid_national_id"),
    ("missing", "", "quarantine", "missing_required:national_id"),
]


@pytest.fixture(scope="module")
def id_rows(spark) -> dict[int, dict]:
    lines = [customer_line(n, national_id=value) for n, (_, value, _, _) in enumerate(ID_CASES, 1)]
    return by_row(classify(spark, get_source("customers"), lines))


@pytest.mark.parametrize(
    ("row_number", "value", "outcome", "reason"),
    [(n, value, outcome, reason) for n, (_, value, outcome, reason) in enumerate(ID_CASES, 1)],
    ids=[case for case, *_ in ID_CASES],
)
def test_national_id_check(id_rows, row_number, value, outcome, reason):
    row = id_rows[row_number]
    assert (row["_outcome"], row["_reason"]) == (outcome, reason)
    if outcome == "bronze":
        born = dt.date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
        assert row["birth_date"] == born
        assert row["sex"] == ("M" if int(value[16]) % 2 else "F")
        assert row["national_id_token"] == python_hmac(value)
    elif value:
        assert value not in (row["_reason_detail"] or "")
        assert value not in (row["_record_json"] or "")


def test_national_id_details_explain_without_showing_the_id(id_rows):
    assert id_rows[4]["_reason_detail"] == (
        "national_id check character does not match its first 17 digits"
    )
    assert id_rows[6]["_reason_detail"] == (
        f"national_id birth date (digits 7-14) is not a date between 1900-01-01 and {DAY}"
    )
    assert id_rows[9]["_reason_detail"] == "national_id is not 17 digits followed by a digit or X"


def test_every_customer_identifier_is_tokenised(id_rows):
    raw = customer(1, national_id=MALE)
    row = id_rows[1]
    for name in ("name", "national_id", "mobile", "bank_card_number"):
        assert row[f"{name}_token"] == python_hmac(raw[name])
        assert name not in row


# Policy breaches are valid records ---------------------------------------------------------------
def test_apr_above_the_policy_cap_is_loaded_not_quarantined(spark):
    source = get_source("applications")
    row = {
        "application_id": "A1",
        "customer_id": "C1",
        "applied_at": "2025-12-31 10:00:00",
        "channel": "app",
        "product": "cash_loan",
        "requested_amount_cny": "20000.00",
        "term_months": "12",
        "purpose": "consumption",
        "device_id": "device-1",
        "ip_address": "10.0.0.1",
        "decision": "approved",
        "decided_at": "2025-12-31 10:05:00",
        "approved_amount_cny": "15000.00",
        "apr": "0.3600",  # above the 24% cap: Great Expectations reports it, ingestion keeps it
    }
    [result] = classify(spark, source, [",".join(row[c] for c in source.column_names)]).collect()
    assert (result["_outcome"], result["apr"]) == ("bronze", Decimal("0.3600"))


# Output schemas ----------------------------------------------------------------------------------
@pytest.mark.parametrize("source_name", ["customers", "app_events", "repayment_schedules"])
def test_bronze_is_exactly_the_registry_schema(spark, source_name):
    source = get_source(source_name)
    batch = tr.Batch(
        "landing/x", f"{source_name}/2026-01-01/t", dt.datetime(2026, 1, 2, tzinfo=dt.UTC)
    )
    empty = spark.createDataFrame([], "_line_number bigint, _raw_line string")
    validated = tr.transform_validate(parsing.transform_parse(empty, source), source, DAY, KEY)
    bronze = tr.transform_bronze(tr.transform_deduplicate(validated, None, source), source, batch)
    expected = [(c.name, c.type) for c in bronze_columns(source)]
    if source.format == "jsonl":  # undeclared fields, which the lake seam makes columns of
        expected.append(("_extra_fields", "map<string,string>"))
    assert [(f.name, f.dataType.simpleString()) for f in bronze.schema.fields] == expected


def test_bronze_rows_carry_lineage_and_quarantine_has_its_contract_columns(spark):
    batch = tr.Batch(
        "landing/widgets.csv", "widgets/2026-01-01/t1", dt.datetime(2026, 1, 2, tzinfo=dt.UTC)
    )
    deduplicated = classify(spark, WIDGETS, [widget("W1"), widget("W2", amount="-1")])
    bronze = tr.transform_bronze(deduplicated, WIDGETS, batch).collect()
    assert [
        (r["widget_id"], r["_row_number"], r["_source_file"], r["_batch_id"]) for r in bronze
    ] == [("W1", 1, "landing/widgets.csv", "widgets/2026-01-01/t1")]
    quarantine = tr.transform_quarantine(deduplicated, WIDGETS, "landing/widgets.csv")
    assert [(f.name, f.dataType) for f in quarantine.schema.fields] == [
        (f.name, f.dataType) for f in tr.QUARANTINE_SCHEMA.fields
    ]
    [row] = quarantine.collect()
    assert (row["source"], row["source_file"], row["row_number"], row["reason"]) == (
        "widgets",
        "landing/widgets.csv",
        2,
        "negative_amount:amount_cny",
    )
