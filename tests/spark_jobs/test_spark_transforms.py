"""Unit tests of the ingestion transforms, a few inline lines per case table.

Each table runs through Spark once (a module fixture) and every case is checked on its own row,
so a table of twenty cases costs one Spark job, not twenty.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import pytest
from spark_job_helpers import DAY
from widgets import (
    KEY,
    PHONE,
    TS,
    WIDGETS,
    WIDGETS_JSONL,
    WIDGETS_WITHOUT_PII,
    by_row,
    classify,
    python_hmac,
    widget,
    widget_json,
)

from creditlake.pii import tokenise
from creditlake.sources import bronze_columns, get_source
from spark_jobs import parsing
from spark_jobs import transforms as tr
from spark_jobs.delivery import count_lines
from spark_jobs.ingest import read_lines


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
