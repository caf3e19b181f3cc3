"""`dbt build` over the fixture lake: the warehouse holds what the rules say, as of the build date.

Expected values are computed here, in Python, from the fixture's own specification (dates,
payments, events), not copied from the warehouse.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from dbt_fixture_lake import (
    APP_EVENTS,
    AS_OF_DATE,
    BUREAU_REPORTS,
    EXTRACT_DATE,
    IRREGULAR_PAYMENTS,
    LOANS,
    TRANSACTIONS,
    LoanSpec,
    add_months,
    ts,
)

pytestmark = pytest.mark.slow

CHINA = ZoneInfo("Asia/Shanghai")
BIRTH_DATES = {"C1": dt.date(1990, 6, 15), "C2": dt.date(2000, 4, 1), "C3": dt.date(1985, 12, 31)}
APPLIED_AT = {
    "A1": ts("2025-03-10 10:00:00"),
    "A2": ts("2025-04-01 00:30:00"),
    "A3": ts("2025-10-01 09:00:00"),
    "A4": ts("2025-12-01 09:00:00"),
    "A5": ts("2026-01-03 09:00:00"),
}
APPLICANT = {"A1": "C1", "A2": "C2", "A3": "C1", "A4": "C3", "A5": "C2"}


def paid_off_date(loan: LoanSpec, number: int) -> dt.date | None:
    """When the fixture paid an instalment, as visible on the as-of date (None if not yet)."""
    key = (loan.loan_id, number)
    if key in IRREGULAR_PAYMENTS:
        payment = IRREGULAR_PAYMENTS[key]
        paid = None if payment is None else ts(payment[0]).date()
    else:
        paid = loan.due_date(number) if loan.due_date(number) <= AS_OF_DATE else None
    return paid if paid is not None and paid <= AS_OF_DATE else None


def expected_days_past_due(due: dt.date, paid: dt.date | None, until: dt.date) -> int:
    observed_until = min(paid or until, until)
    return max(0, (observed_until - due).days)


def expected_label(loan: LoanSpec) -> int | None:
    window_end = add_months(loan.disbursed_date, 6)
    if window_end > AS_OF_DATE:
        return None
    worst = max(
        expected_days_past_due(loan.due_date(n), paid_off_date(loan, n), window_end)
        for n in range(1, loan.term + 1)
        if loan.due_date(n) <= window_end
    )
    return int(worst >= 30)


def age_on(birth: dt.date, day: dt.date) -> int:
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def events_before(application_id: str, days: int) -> list[dict]:
    applied = APPLIED_AT[application_id]
    return [
        e
        for e in APP_EVENTS
        if e["customer_id"] == APPLICANT[application_id]
        and applied - dt.timedelta(days=days) <= e["event_at"] < applied
    ]


def test_every_unit_test_and_data_test_ran_and_passed(built_warehouse) -> None:
    statuses = {r["unique_id"]: r["status"] for r in built_warehouse.run_results["results"]}
    unit_tests = {uid for uid in statuses if uid.startswith("unit_test.")}
    assert len(unit_tests) >= 7
    assert {statuses[uid] for uid in unit_tests} == {"pass"}
    data_tests = [uid for uid in statuses if uid.startswith("test.")]
    assert data_tests and {statuses[uid] for uid in data_tests} <= {"pass"}


def test_schemas_are_exactly_the_three_layers(built_warehouse) -> None:
    """dbt's three layers, over the pinned bronze views and their snapshot record."""
    rows = built_warehouse.query(
        "select table_schema, table_name, table_type from information_schema.tables"
    )
    layers = {(schema, kind) for schema, _, kind in rows}
    assert layers == {
        ("bronze", "VIEW"),
        ("lake", "BASE TABLE"),
        ("staging", "BASE TABLE"),
        ("intermediate", "BASE TABLE"),
        ("marts", "BASE TABLE"),
    }
    marts = {name for schema, name, _ in rows if schema == "marts"}
    assert marts == {
        "dim_customers",
        "fct_loans",
        "fct_installments",
        "fct_application_features",
        "fct_application_training_set",
        "fct_fraud_training_set",
        "fct_collections_training_set",
        "fct_collection_entries",
        "fct_collection_outcomes",
        "fct_b_card_snapshots",
        "fct_b_card_training_set",
        "fct_loan_month_ends",
        "fct_vintage_curves",
        "fct_roll_rates",
    }


def test_a_loan_35_days_late_within_six_months_is_bad_and_immature_loans_are_excluded(
    built_warehouse,
) -> None:
    training = built_warehouse.rows_by_key("marts.fct_application_training_set", "loan_id")
    expected = {loan.loan_id: expected_label(loan) for loan in LOANS}
    assert expected == {"L1": 1, "L2": 0, "L3": None}  # the fixture is what it claims to be
    assert {loan_id: row["is_bad"] for loan_id, row in training.items()} == {
        loan_id: label for loan_id, label in expected.items() if label is not None
    }
    loans = built_warehouse.rows_by_key("marts.fct_loans", "loan_id", AS_OF_DATE)
    assert loans["L3"]["is_mature"] is False
    assert loans["L3"]["is_bad"] is None
    assert training["L1"]["application_id"] == "A1"
    assert training["L1"]["application_month"] == dt.date(2025, 3, 1)
    assert float(training["L2"]["apr"]) == pytest.approx(0.12)


def test_installment_days_past_due_as_of_the_build_date(built_warehouse) -> None:
    rows = built_warehouse.rows_by_key("intermediate.int_installments_repaid", "installment_id")
    expected_paid, expected_worst = {}, {}
    for loan in LOANS:
        for number in range(1, loan.term + 1):
            paid = paid_off_date(loan, number)
            expected_paid[f"{loan.loan_id}-{number}"] = paid
            days = expected_days_past_due(loan.due_date(number), paid, AS_OF_DATE)
            expected_worst[loan.loan_id] = max(expected_worst.get(loan.loan_id, 0), days)
    assert {key: row["paid_off_date"] for key, row in rows.items()} == expected_paid
    # A payment made after the as-of date is not seen: L3-3 is not paid off, L3 is 33 days late.
    assert rows["L3-3"]["is_paid_off"] is False
    loans = built_warehouse.rows_by_key("marts.fct_loans", "loan_id", AS_OF_DATE)
    assert {key: row["max_days_past_due"] for key, row in loans.items()} == expected_worst
    assert expected_worst["L3"] == 33


def test_instalments_are_the_schedules_as_delivered(built_warehouse) -> None:
    rows = built_warehouse.rows_by_key("marts.fct_installments", "installment_id")
    expected = {
        f"{loan.loan_id}-{number}": loan.due_date(number)
        for loan in LOANS
        for number in range(1, loan.term + 1)
    }
    assert {key: row["due_date"] for key, row in rows.items()} == expected
    # the schedules came with the extract, when their loans were known too
    assert {row["as_of_date"] for row in rows.values()} == {EXTRACT_DATE}


def test_loans_carry_schedule_sums(built_warehouse) -> None:
    loans = built_warehouse.rows_by_key("marts.fct_loans", "loan_id", AS_OF_DATE)
    for loan in LOANS:
        row = loans[loan.loan_id]
        assert float(row["scheduled_principal_cny"]) == pytest.approx(loan.principal)
        assert float(row["scheduled_total_cny"]) == pytest.approx(loan.total_due * loan.term)
        assert row["installments_count"] == loan.term


def test_behaviour_features_use_only_history_strictly_before_the_application(
    built_warehouse,
) -> None:
    features = built_warehouse.rows_by_key("marts.fct_application_features", "application_id")
    a1 = features["A1"]
    window_30 = events_before("A1", 30)
    # E6, a loan_apply page view 30 minutes after A1 was submitted, does not count.
    assert a1["loan_apply_page_views_30d_count"] == 1
    assert a1["loan_apply_page_views_30d_count"] == sum(
        e["event_type"] == "page_view" and e["page"] == "loan_apply" for e in window_30
    )
    for days in (30, 90):
        logins = [e for e in events_before("A1", days) if e["event_type"] == "login"]
        night = [e for e in logins if e["event_at"].astimezone(CHINA).hour < 5]
        assert a1[f"logins_{days}d_count"] == len(logins)
        assert a1[f"night_logins_{days}d_share"] == pytest.approx(len(night) / len(logins))
        assert a1[f"distinct_devices_{days}d_count"] == len(
            {e["device_id_token"] for e in events_before("A1", days)}
        )
    assert a1["device_changes_30d_count"] == 1
    assert a1["days_since_last_app_event"] == 1
    # For the later application A3 the same event is history.
    assert (
        features["A3"]["days_since_last_app_event"]
        == (APPLIED_AT["A3"].date() - dt.date(2025, 3, 10)).days
    )
    spend = [
        t
        for t in TRANSACTIONS
        if APPLIED_AT["A1"] - dt.timedelta(days=30) <= t["transacted_at"] < APPLIED_AT["A1"]
    ]
    total = sum(t["amount_cny"] for t in spend)
    assert float(a1["spend_30d_cny"]) == pytest.approx(total)
    assert a1["online_gaming_spend_30d_share"] == pytest.approx(
        sum(t["amount_cny"] for t in spend if t["category"] == "online_gaming") / total
    )
    assert a1["luxury_spend_30d_share"] == 0.0  # the luxury purchase came after the application
    assert features["A2"]["night_logins_30d_share"] is None  # no logins: unknown, not 0


def test_bureau_report_is_the_latest_strictly_before_the_application(built_warehouse) -> None:
    features = built_warehouse.rows_by_key("marts.fct_application_features", "application_id")
    for application_id, applied in APPLIED_AT.items():
        earlier = [
            r
            for r in BUREAU_REPORTS
            if r["customer_id"] == APPLICANT[application_id] and r["reported_at"] < applied
        ]
        latest = max(earlier, key=lambda r: r["reported_at"], default=None)
        row = features[application_id]
        assert row["has_bureau_report"] is (latest is not None)
        assert row["bureau_report_id"] == (latest and latest["report_id"])
    assert features["A1"]["bureau_report_id"] == "R1"  # R2 was issued at A1's very second
    assert float(features["A1"]["debt_to_income_ratio"]) == pytest.approx(
        (12000 + 24000) / (12 * 10000)
    )


def test_age_is_computed_on_the_application_date(built_warehouse) -> None:
    features = built_warehouse.rows_by_key("marts.fct_application_features", "application_id")
    expected = {
        application_id: age_on(BIRTH_DATES[APPLICANT[application_id]], applied.date())
        for application_id, applied in APPLIED_AT.items()
    }
    assert {k: v["age_at_application_years"] for k, v in features.items()} == expected
    assert expected["A2"] == 25  # applied on the 25th birthday
    assert expected["A4"] == 39  # a month before the 40th


def test_the_build_sees_only_deliveries_up_to_the_as_of_date(built_warehouse) -> None:
    customers = built_warehouse.rows_by_key("marts.dim_customers", "customer_id", AS_OF_DATE)
    # C3 re-delivered on 01-02 (9000) and 01-05 (after the as-of date); C4 only on 01-05; C9 sits
    # in a delivery staged on its audit branch whose gate never passed (unpublished).
    assert set(customers) == {"C1", "C2", "C3"}
    assert float(customers["C3"]["monthly_income_cny"]) == 9000.0
    features = built_warehouse.rows_by_key("marts.fct_application_features", "application_id")
    assert set(features) == set(APPLIED_AT)
    # each application belongs to the date it was first known: A5 was delivered on 01-03
    owners = {key: row["as_of_date"] for key, row in features.items()}
    assert owners == {key: EXTRACT_DATE if key != "A5" else dt.date(2026, 1, 3) for key in owners}


def test_personal_data_is_generalised_downstream(built_warehouse) -> None:
    columns = built_warehouse.query(
        "select table_schema, table_name, column_name from information_schema.columns"
    )
    by_schema: dict[str, set[str]] = {}
    for schema, _, column in columns:
        by_schema.setdefault(schema, set()).add(column)
    # bronze (the lake's published snapshot, seen through views) keeps precise location
    built = {
        schema: names for schema, names in by_schema.items() if schema not in ("bronze", "lake")
    }
    everything = set().union(*built.values())
    assert not everything & {"latitude", "longitude", "national_id", "mobile", "name"}
    assert "birth_date" not in by_schema["marts"] | by_schema["intermediate"]
    customers = built_warehouse.rows_by_key("marts.dim_customers", "customer_id", AS_OF_DATE)
    assert customers["C1"]["birth_year"] == BIRTH_DATES["C1"].year
    assert customers["C1"]["national_id_token"] == "tok-id-C1"


def test_marts_are_built_under_enforced_contracts(built_warehouse) -> None:
    marts = [
        node
        for node in built_warehouse.manifest["nodes"].values()
        if node["resource_type"] == "model" and node["schema"] == "marts"
    ]
    assert len(marts) == 14
    assert all(node["contract"]["enforced"] for node in marts)


def test_the_warehouse_file_is_released_after_the_build(built_warehouse) -> None:
    import duckdb

    # dbt-duckdb keeps its database open after dbt returns unless run_dbt releases it; a
    # read-write connection would then fail with a configuration conflict.
    with duckdb.connect(str(built_warehouse.settings.warehouse_path)) as con:
        assert con.execute(
            "select count(*) from marts.fct_loans where as_of_date = ?", [AS_OF_DATE]
        ).fetchone() == (len(LOANS),)


def test_the_fraud_training_set_labels_first_payment_defaults(built_warehouse) -> None:
    """Every fixture loan's first instalment is observed for 30 days by the as-of date: L2's was
    20 days late (not a first-payment default), the others were paid on time."""
    training = built_warehouse.rows_by_key("marts.fct_fraud_training_set", "loan_id")
    assert {
        loan_id: (row["first_payment_days_past_due"], row["is_first_payment_default"])
        for loan_id, row in training.items()
    } == {"L1": (0, 0), "L2": (20, 0), "L3": (0, 0)}
    # every fixture application has its own device and IP; every customer the same mobile token
    features = built_warehouse.rows_by_key("marts.fct_application_features", "application_id")
    for row in features.values():
        assert row["device_linked_customers_count"] == row["ip_linked_customers_count"] == 0
        assert row["linked_customers_count"] == row["mobile_linked_customers_count"]
    assert any(row["mobile_linked_customers_count"] > 0 for row in features.values())


def test_b_card_snapshots_are_current_loans_at_month_ends_labelled_six_months_on(
    built_warehouse,
) -> None:
    """L1 was 35 days late on its second instalment (due 2025-05-11): current at the March and
    April month ends and bad within 6 months of both; at the May month end it was past due. L2
    paid its first instalment 20 days late and is current from April to September (closed in
    October); only the month ends whose sixth month end has passed by the as-of date carry a
    label. L3 is current in October and November and past due in December."""
    snapshots = built_warehouse.rows_by_key("marts.fct_b_card_snapshots", "loan_month_id")
    assert sorted(snapshots) == [
        "L1:2025-03",
        "L1:2025-04",
        *(f"L2:2025-{m:02d}" for m in range(4, 10)),
        "L3:2025-10",
        "L3:2025-11",
    ]
    may = snapshots["L2:2025-05"]
    assert (may["late_installments_count"], may["max_days_past_due_to_date"]) == (1, 20)
    training = built_warehouse.rows_by_key("marts.fct_b_card_training_set", "loan_month_id")
    assert {key: row["is_bad_6m"] for key, row in training.items()} == {
        "L1:2025-03": 1,
        "L1:2025-04": 1,
        "L2:2025-04": 0,
        "L2:2025-05": 0,
        "L2:2025-06": 0,
    }


def test_collection_outcomes_show_what_was_done_and_whether_the_borrower_cured(
    built_warehouse,
) -> None:
    """L2's first instalment: an SMS, an unanswered call, then a promise to pay by 2025-05-25,
    kept (paid 2025-05-22): cured. L1's second: no action on file, 35 days late: not cured."""
    outcomes = built_warehouse.rows_by_key("marts.fct_collection_outcomes", "installment_id")
    l2 = outcomes["L2-1"]
    assert (l2["actions_count"], l2["calls_count"], l2["days_to_first_contact"]) == (3, 2, 6)
    assert (l2["is_contacted"], l2["is_promised"], l2["is_promise_kept"], l2["is_cured"]) == (
        True,
        True,
        1,
        1,
    )
    l1 = outcomes["L1-2"]
    assert (l1["actions_count"], l1["is_contacted"], l1["is_promise_kept"], l1["is_cured"]) == (
        0,
        False,
        None,
        0,
    )
