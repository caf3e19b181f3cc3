"""The marts follow the as-of date: each row is owned by one date, whatever order the dates run in.

With the whole scenario published, the session's warehouse was built date by date in order. A
second warehouse over the same lake is built in reverse order, then every date is re-run: every
mart must hold exactly the same content (``creditlake.checksum``) with no duplicated key. A
backfill rewrites its own date's slice and no other, and no slice reads a delivery made after its
date.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass

import duckdb
import pytest
from dbt_fixture_lake import AS_OF_DATE, BUILD_DATES, EXTRACT_DATE, fresh_settings, write_scenario

from creditlake.checksum import content_checksum
from creditlake.settings import Settings

pytestmark = pytest.mark.slow

#: Every mart and the key it holds once per slice (snapshot) or once overall (event).
MART_KEYS = {
    "dim_customers": ["as_of_date", "customer_id"],
    "fct_loans": ["as_of_date", "loan_id"],
    "fct_installments": ["installment_id"],
    "fct_application_features": ["application_id"],
    "fct_application_training_set": ["application_id"],
    "fct_fraud_training_set": ["application_id"],
    "fct_collections_training_set": ["installment_id"],
    "fct_collection_entries": ["installment_id"],
    "fct_collection_outcomes": ["installment_id"],
    "fct_b_card_snapshots": ["loan_month_id"],
    "fct_b_card_training_set": ["loan_month_id"],
    "fct_loan_month_ends": ["loan_month_id"],
    "fct_vintage_curves": ["as_of_date", "vintage_cell_id"],
    "fct_roll_rates": ["as_of_date", "transition_id"],
}


def checksums(settings: Settings) -> dict[str, tuple[int, str]]:
    """``(rows, checksum)`` of every mart."""
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        return {name: content_checksum(f"marts.{name}", con) for name in MART_KEYS}


def slice_checksums(settings: Settings) -> dict[tuple[str, dt.date], tuple[int, str]]:
    """``(rows, checksum)`` of every mart's slice of every as-of date it holds."""
    result = {}
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        for name in MART_KEYS:
            dates = con.execute(f"select distinct as_of_date from marts.{name}").fetchall()
            for (day,) in dates:
                relation = f"(select * from marts.{name} where as_of_date = '{day}')"
                result[(name, day)] = content_checksum(relation, con)
    return result


def duplicated_keys(settings: Settings) -> dict[str, int]:
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        return {
            name: con.execute(
                f"select count(*) from (select {', '.join(key)} from marts.{name} "
                f"group by all having count(*) > 1)"
            ).fetchone()[0]
            for name, key in MART_KEYS.items()
        }


@dataclass(frozen=True)
class OtherOrders:
    """Checksums of a second warehouse on the same lake, after each step of its history."""

    settings: Settings
    reverse: dict[str, tuple[int, str]]
    rerun: dict[str, tuple[int, str]]


@pytest.fixture(scope="module")
def other_orders(built_warehouse, tmp_path_factory) -> Iterator[OtherOrders]:
    """The same dates built in reverse order on a fresh warehouse, then each re-run in order."""
    from orchestration.dbt import run_dbt

    settings = fresh_settings(tmp_path_factory.mktemp("orders") / "creditlake")
    write_scenario(settings)
    for as_of_date in reversed(BUILD_DATES):
        run_dbt(["build"], settings, as_of_date=as_of_date)
    reverse = checksums(settings)
    for as_of_date in BUILD_DATES:
        run_dbt(["run"], settings, as_of_date=as_of_date)
    yield OtherOrders(settings, reverse, checksums(settings))


def test_in_order_reverse_order_and_rerun_give_the_same_marts(
    built_warehouse, other_orders
) -> None:
    in_order = checksums(built_warehouse.settings)
    assert all(rows for rows, _ in in_order.values()), in_order  # the fixture fills every mart
    assert other_orders.reverse == in_order
    assert other_orders.rerun == in_order
    assert duplicated_keys(built_warehouse.settings) == dict.fromkeys(MART_KEYS, 0)
    assert duplicated_keys(other_orders.settings) == dict.fromkeys(MART_KEYS, 0)


def test_every_parent_a_mart_row_names_is_in_the_marts_once_all_dates_ran(
    built_warehouse,
) -> None:
    """Foreign keys across slices join once every date up to the child's has been built."""
    orphans = built_warehouse.query(
        """
        select 'loans', count(*) from marts.fct_loans
        where application_id not in (select application_id from marts.fct_application_features)
        union all
        select 'training', count(*) from marts.fct_application_training_set
        where application_id not in (select application_id from marts.fct_application_features)
        union all
        select 'instalments', count(*) from marts.fct_installments i
        where not exists (
            select 1 from marts.fct_loans l
            where l.loan_id = i.loan_id and l.as_of_date = i.as_of_date
        )
        """
    )
    assert dict(orphans) == {"loans": 0, "training": 0, "instalments": 0}


def test_a_backfill_rewrites_its_own_slice_and_no_other(other_orders) -> None:
    from orchestration.dbt import run_dbt

    settings = other_orders.settings
    day = dt.date(2026, 1, 2)
    before = slice_checksums(settings)
    # damage the date's snapshot slices, so the backfill has something to put right
    with duckdb.connect(str(settings.warehouse_path)) as con:
        con.execute(
            "update marts.dim_customers set monthly_income_cny = 1 where as_of_date = ?", [day]
        )
        con.execute("delete from marts.fct_loans where as_of_date = ?", [day])
    run_dbt(["build"], settings, as_of_date=day)
    after = slice_checksums(settings)
    assert after == before
    assert ("dim_customers", day) in after and ("fct_loans", day) in after


def test_a_full_refresh_gives_the_date_the_same_slice(other_orders) -> None:
    """``--full-refresh`` rebuilds a mart from its date alone: that date's slice is unchanged."""
    from orchestration.dbt import run_dbt

    settings = other_orders.settings
    before = slice_checksums(settings)
    run_dbt(["run", "--full-refresh"], settings, as_of_date=AS_OF_DATE)
    after = slice_checksums(settings)
    assert after == {key: value for key, value in before.items() if key[1] == AS_OF_DATE}


def test_no_slice_reads_a_delivery_made_after_its_date(built_warehouse) -> None:
    """C3 is re-delivered on 01-02 (income 9000) and on 01-05 (99999), C4 and A6 arrive on 01-05,
    and L3's third instalment is paid on 01-05: no slice up to 01-04 sees any of it."""
    income = {
        day: float(row["monthly_income_cny"])
        for day, row in (
            (day, built_warehouse.rows_by_key("marts.dim_customers", "customer_id", day)["C3"])
            for day in BUILD_DATES
        )
    }
    assert income == {day: 8000.0 if day == EXTRACT_DATE else 9000.0 for day in BUILD_DATES}
    everyone = built_warehouse.query("select distinct customer_id from marts.dim_customers")
    assert {customer for (customer,) in everyone} == {"C1", "C2", "C3"}
    applications = built_warehouse.query(
        "select application_id from marts.fct_application_features"
    )
    assert "A6" not in {application for (application,) in applications}
    # A4 (C3's application) was known on the extract date: its row keeps the income known then
    features = built_warehouse.rows_by_key("marts.fct_application_features", "application_id")
    assert float(features["A4"]["monthly_income_cny"]) == 8000.0
    repaid = built_warehouse.query(
        "select as_of_date, paid_off_installments_count from marts.fct_loans "
        "where loan_id = 'L3' order by as_of_date"
    )
    assert [count for _, count in repaid] == [1] * len(BUILD_DATES)  # instalment 1 only
