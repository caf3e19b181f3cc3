"""Unit tests of duplicate handling and of the national-ID checks, a few inline lines per case
table (one Spark job per table)."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from spark_job_helpers import DAY, customer, customer_line, national_id
from widgets import KEY, PHONE, WIDGETS, by_row, classify, python_hmac, widget

from creditlake.pii import national_id_check_char
from creditlake.sources import get_source
from spark_jobs import parsing
from spark_jobs import transforms as tr

#: Every test runs on both ingest engines: what the job does must not depend on the engine.
pytestmark = pytest.mark.usefixtures("ingest_engine")

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
