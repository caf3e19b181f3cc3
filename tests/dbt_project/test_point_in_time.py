"""Point in time: changing everything that happened after an application changes none of its
features, on the whole path from bronze to the marts (the unit tests check each model alone).

A second lake holds the same scenario except that every record dated after application A1 was
submitted is different: later app events and transactions have other types, pages, devices,
amounts and categories; the later bureau report another score and balance; every later
application was made from A1's device and IP address (which would make A1 look like a ring
member, were the future visible). A1's row in every mart that holds its features must be the same
in both warehouses; a later application's must not be (so the change did reach the marts).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import dbt_fixture_lake as fixture
import duckdb
import pandas as pd
import pytest
from dbt_fixture_lake import BUILD_DATES, fresh_settings, write_scenario

pytestmark = pytest.mark.slow

A1_APPLIED_AT = fixture.ts("2025-03-10 10:00:00")
#: The marts that hold application features, by the key of A1's row.
FEATURE_MARTS = {
    "fct_application_features": "application_id",
    "fct_application_training_set": "application_id",
    "fct_fraud_training_set": "application_id",
}


def _changed_event(row: dict[str, Any]) -> dict[str, Any]:
    if row["event_at"] <= A1_APPLIED_AT:
        return row
    return {
        **row,
        "event_type": "login",
        "page": "loan_apply",
        "device_id_token": "dev-future",
        "event_at": row["event_at"] - dt.timedelta(minutes=20),  # still after A1
    }


def _changed_transaction(row: dict[str, Any]) -> dict[str, Any]:
    if row["transacted_at"] <= A1_APPLIED_AT:
        return row
    return {**row, "amount_cny": 9_999.0, "category": "online_gaming"}


def _changed_report(row: dict[str, Any]) -> dict[str, Any]:
    if row["reported_at"] < A1_APPLIED_AT:
        return row
    return {**row, "bureau_score": 350, "outstanding_balance_cny": 500_000.0}


@pytest.fixture(scope="module")
def future_changed(tmp_path_factory) -> Iterator[Any]:
    """The scenario's warehouse built from a lake whose post-A1 records are all different."""
    from orchestration.dbt import run_dbt

    settings = fresh_settings(tmp_path_factory.mktemp("future") / "creditlake")
    original_application = fixture.application

    def application(*args: Any, **kwargs: Any) -> dict[str, Any]:
        row = original_application(*args, **kwargs)
        if row["applied_at"] > A1_APPLIED_AT:
            row["device_id_token"] = "tok-device-A1"
            row["ip_address_token"] = "tok-ip-A1"
        return row

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(fixture, "application", application)
        patch.setattr(fixture, "APP_EVENTS", [_changed_event(r) for r in fixture.APP_EVENTS])
        patch.setattr(
            fixture, "TRANSACTIONS", [_changed_transaction(r) for r in fixture.TRANSACTIONS]
        )
        patch.setattr(
            fixture, "BUREAU_REPORTS", [_changed_report(r) for r in fixture.BUREAU_REPORTS]
        )
        write_scenario(settings)
    for as_of_date in BUILD_DATES:
        run_dbt(["run"], settings, as_of_date=as_of_date)
    yield settings


def _rows(settings, mart: str, key: str) -> dict[str, dict[str, Any]]:
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        frame = con.execute(f"select * from marts.{mart}").df()
    return {row[key]: row for row in frame.to_dict(orient="records")}


def test_nothing_after_an_application_changes_its_features(built_warehouse, future_changed):
    for mart, key in FEATURE_MARTS.items():
        before = _rows(built_warehouse.settings, mart, key)
        after = _rows(future_changed, mart, key)
        assert before["A1"] == after["A1"], mart
    # The change reached the marts: A3 (C1's later application) sees the changed history.
    before = _rows(built_warehouse.settings, "fct_application_features", "application_id")
    after = _rows(future_changed, "fct_application_features", "application_id")
    assert before["A3"] != after["A3"]
    assert after["A2"]["device_linked_customers_count"] == 1  # A1 was earlier, same device
    assert after["A1"]["device_linked_customers_count"] == 0


MONTH_END = fixture.ts("2025-04-30 23:59:59")


@pytest.fixture(scope="module")
def after_month_end_changed(tmp_path_factory) -> Iterator[Any]:
    """The scenario's warehouse built from a lake whose records after 2025-04-30 are different:
    later transactions are cash withdrawals of other amounts, and L1 pays its second instalment
    (due 2025-05-11) on time instead of 35 days late."""
    from orchestration.dbt import run_dbt

    settings = fresh_settings(tmp_path_factory.mktemp("month_end") / "creditlake")

    def changed(row: dict[str, Any]) -> dict[str, Any]:
        if row["transacted_at"] <= MONTH_END:
            return row
        return {**row, "amount_cny": 4_321.0, "category": "cash_withdrawal"}

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(fixture, "TRANSACTIONS", [changed(r) for r in fixture.TRANSACTIONS])
        payments = dict(fixture.IRREGULAR_PAYMENTS)
        payments[("L1", 2)] = ("2025-05-11 08:00:00", fixture.EXTRACT_DATE)
        patch.setattr(fixture, "IRREGULAR_PAYMENTS", payments)
        write_scenario(settings)
    for as_of_date in BUILD_DATES:
        run_dbt(["run"], settings, as_of_date=as_of_date)
    yield settings


def test_nothing_after_a_month_end_changes_its_b_card_snapshot(
    built_warehouse, after_month_end_changed
):
    before = _rows(built_warehouse.settings, "fct_b_card_snapshots", "loan_month_id")
    after = _rows(after_month_end_changed, "fct_b_card_snapshots", "loan_month_id")
    at_month_end = [
        key
        for key, row in before.items()
        if pd.Timestamp(row["month_end"]).date() <= MONTH_END.date()
    ]
    assert sorted(at_month_end) == ["L1:2025-03", "L1:2025-04", "L2:2025-04"]
    for key in at_month_end:  # Series.equals: a missing share is equal to itself
        assert pd.Series(before[key]).equals(pd.Series(after[key])), key
    # The change reached the marts: L1 now stays current, and its April label is good.
    assert "L1:2025-05" in after and "L1:2025-05" not in before
    labels_before = _rows(built_warehouse.settings, "fct_b_card_training_set", "loan_month_id")
    labels_after = _rows(after_month_end_changed, "fct_b_card_training_set", "loan_month_id")
    assert (labels_before["L1:2025-04"]["is_bad_6m"], labels_after["L1:2025-04"]["is_bad_6m"]) == (
        1,
        0,
    )
