"""Quality gates on the marts the models train on (tiny DuckDB warehouse, GX on pandas)."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

import pandas as pd
import pytest
from quality_fixtures import (
    AS_OF,
    FRAUD_TRAINING_SET_COLUMNS,
    fraud_training_row,
    loan_row,
    training_row,
    write_mart,
    write_marts,
)

from creditlake.settings import Settings
from expectations.validate import (
    MissingDataError,
    QualityGateError,
    data_docs_index,
    prepare_mart_frame,
    validate_warehouse,
)


def _summary(settings: Settings, suite: str, day: dt.date | str = AS_OF) -> dict:
    return json.loads((settings.reports_dir / "quality" / suite / f"{day}.json").read_text())


def _failures(summary: dict) -> dict[tuple[str, str | None], tuple[str, Any]]:
    return {
        (f["type"], f["column"]): (f["severity"], f["unexpected_count"] or f["observed_value"])
        for f in summary["failed_expectations"]
    }


def test_clean_marts_pass(settings: Settings) -> None:
    write_marts(settings)

    training, fraud, collections, b_card, loans = validate_warehouse(AS_OF, settings=settings)

    assert (training.suite, training.as_of_date, training.rows) == (
        "warehouse_training_set",
        "2026-01-04",
        4,
    )
    # row count, bad rate, age, 5 dates, build date, apr cap (see test_suites)
    assert (training.evaluated, training.passed, training.skipped_expectations) == (10, 10, [])
    # snapshot exists, completeness, schedule = principal, build date, apr cap, principal cap
    assert (loans.suite, loans.evaluated, loans.passed) == ("warehouse_loans", 6, 6)
    # row count, FPD rate, age, 4 dates (applied_at/_date, application_month, first_due_date), build
    assert (fraud.suite, fraud.evaluated, fraud.passed, fraud.skipped_expectations) == (
        "warehouse_fraud_training_set",
        8,
        8,
        [],
    )
    # row count, not-cured rate, age, 5 dates (application's 3, due_date, entry_month), build
    assert (collections.suite, collections.evaluated, collections.passed) == (
        "warehouse_collections_training_set",
        9,
        9,
    )
    # row count, bad rate, age, 5 dates (application's 3, month_end, snapshot_month), build
    assert (b_card.suite, b_card.evaluated, b_card.passed) == (
        "warehouse_b_card_training_set",
        9,
        9,
    )
    assert _summary(settings, "warehouse_training_set") == training.to_dict()
    assert _summary(settings, "warehouse_loans") == loans.to_dict()
    assert data_docs_index(settings).is_file()


def test_the_gate_reads_the_dates_rows_and_fails_without_the_dates_loans_snapshot(
    settings: Settings,
) -> None:
    """fct_loans keeps one snapshot per date: the gate reads the date's, and there is none here."""
    write_marts(settings)

    with pytest.raises(QualityGateError, match="warehouse_loans failed for 2026-01-05"):
        validate_warehouse(AS_OF + dt.timedelta(days=1), settings=settings)

    training = _summary(settings, "warehouse_training_set", AS_OF + dt.timedelta(days=1))
    assert (training["success"], training["rows"]) == (True, 4)  # rows owned up to the date


def test_a_failed_fraud_gate_holds_the_fraud_model_and_not_the_application_model(
    settings: Settings,
) -> None:
    """Each model waits for the gate of its own training table (and the loans mart's)."""
    import pendulum

    from orchestration.ml import _warehouse_validated

    write_marts(settings)
    write_mart(
        settings,
        "marts.fct_fraud_training_set",
        FRAUD_TRAINING_SET_COLUMNS,
        [fraud_training_row(n, is_first_payment_default=0) for n in range(4)],
    )
    with pytest.raises(QualityGateError, match="warehouse_fraud_training_set failed"):
        validate_warehouse(AS_OF, settings=settings)
    context = {"data_interval_start": pendulum.datetime(AS_OF.year, AS_OF.month, AS_OF.day)}
    assert _warehouse_validated(context, "credit_pd") is None
    missing = _warehouse_validated(context, "fraud")
    assert missing.startswith("passed warehouse gate warehouse_fraud_training_set for 2026-01-04")


def _training(**overrides_of_row_1: Any) -> list[dict[str, Any]]:
    return [training_row(n, **(overrides_of_row_1 if n == 1 else {})) for n in range(4)]


def test_training_set_critical_failures_stop_the_gate(settings: Settings) -> None:
    """Each row breaks one rule, so each rule must report exactly its own rows.

    Keys and label values are the training set's dbt contract, so they are not among these.
    """
    training = [
        training_row(0),
        training_row(1, age_at_application_years=17),
        training_row(2, applied_date=dt.date(2026, 1, 5), applied_at=dt.datetime(2026, 1, 5)),
        # the label's 6-month window had not ended by the as-of date: an immature loan
        training_row(3, performance_window_end_date=dt.date(2026, 2, 1)),
        # owned by a later date's build: not part of the training set as of the 4th
        training_row(4, as_of_date=dt.date(2026, 1, 5), age_at_application_years=16),
    ]
    write_marts(settings, training=training)

    with pytest.raises(QualityGateError) as raised:
        validate_warehouse(AS_OF, settings=settings)

    message = str(raised.value)
    assert "quality gate warehouse_training_set failed for 2026-01-04: 4 critical" in message
    assert "warehouse_loans" not in message
    between = "expect_column_values_to_be_between"
    assert _failures(_summary(settings, "warehouse_training_set")) == {
        (between, "age_at_application_years"): ("critical", 1),
        (between, "applied_date"): ("critical", 1),
        (between, "applied_at"): ("critical", 1),
        (between, "performance_window_end_date"): ("critical", 1),
    }
    assert _summary(settings, "warehouse_loans")["success"] is True  # both suites ran


@pytest.mark.parametrize(("bads", "bad_rate"), [(0, 0.0), (3, 0.75)])
def test_bad_rate_outside_one_to_fifty_percent_stops_the_gate(
    settings: Settings, bads: int, bad_rate: float
) -> None:
    write_marts(settings, training=[training_row(n, is_bad=int(n < bads)) for n in range(4)])

    with pytest.raises(QualityGateError, match="warehouse_training_set"):
        validate_warehouse(AS_OF, settings=settings)

    assert _failures(_summary(settings, "warehouse_training_set")) == {
        ("expect_column_mean_to_be_between", "is_bad"): ("critical", bad_rate)
    }


def test_policy_breaches_in_marts_are_warnings(settings: Settings) -> None:
    write_marts(
        settings,
        training=_training(apr=Decimal("0.3600")),
        loans=[
            loan_row(0, apr=Decimal("0.3600")),
            loan_row(1),
            loan_row(
                2,
                principal_cny=Decimal("250000.00"),
                scheduled_principal_cny=Decimal("250000.00"),
            ),
        ],
    )

    training, _, _, _, loans = validate_warehouse(AS_OF, settings=settings)

    assert training.success and loans.success
    assert _failures(training.to_dict()) == {
        ("expect_column_values_to_be_between", "apr"): ("warning", 1)
    }
    assert _failures(loans.to_dict()) == {
        ("expect_column_values_to_be_between", "apr"): ("warning", 1),
        ("expect_column_values_to_be_between", "principal_cny"): ("warning", 1),
    }
    assert loans.failed == {"critical": 0, "warning": 2, "info": 0}


def test_complete_schedule_must_repay_the_principal(settings: Settings) -> None:
    loans = [
        loan_row(0),
        loan_row(1, scheduled_principal_cny=Decimal("4999.99")),  # complete, yet short
        # an instalment was quarantined at bronze: incomplete, so short by design
        loan_row(2, scheduled_principal_cny=Decimal("4583.33"), installments_count=11),
    ]
    write_marts(settings, loans=loans)

    with pytest.raises(QualityGateError, match="quality gate warehouse_loans failed") as raised:
        validate_warehouse(AS_OF, settings=settings)

    assert "warehouse_training_set" not in str(raised.value)
    assert _failures(_summary(settings, "warehouse_loans")) == {
        ("expect_column_pair_values_to_be_equal", "scheduled_principal_cny,principal_cny"): (
            "critical",
            1,
        ),
        ("expect_column_pair_values_to_be_equal", "installments_count,term_months"): (
            "warning",
            1,
        ),
    }


def test_incomplete_schedule_is_a_warning(settings: Settings) -> None:
    loans = [
        loan_row(0),
        loan_row(1, scheduled_principal_cny=Decimal("4583.33"), installments_count=11),
    ]
    write_marts(settings, loans=loans)

    *_, result = validate_warehouse(AS_OF, settings=settings)

    assert result.success
    assert _failures(result.to_dict()) == {
        ("expect_column_pair_values_to_be_equal", "installments_count,term_months"): (
            "warning",
            1,
        )
    }


def test_missing_optional_columns_are_skipped_and_listed(settings: Settings) -> None:
    write_marts(settings, drop_training=("age_at_application_years", "apr"))

    training, *_ = validate_warehouse(AS_OF, settings=settings)

    assert training.success
    assert training.evaluated == 8
    assert training.skipped_expectations == [
        "borrower age at application skipped: column 'age_at_application_years' is not in the mart",
        "policy cap on apr skipped: column 'apr' is not in the mart",
    ]
    assert _summary(settings, "warehouse_training_set")["skipped_expectations"] == (
        training.skipped_expectations
    )


def test_missing_label_column_fails_instead_of_skipping(settings: Settings) -> None:
    write_marts(settings, drop_training=("is_bad",))

    with pytest.raises(QualityGateError, match=r"expect_column_mean_to_be_between\(is_bad\)"):
        validate_warehouse(AS_OF, settings=settings)


def test_boolean_label_is_read_as_zero_or_one(settings: Settings) -> None:
    columns = {"application_id": "varchar", "is_bad": "boolean"}
    rows = [{"application_id": f"APP-{n}", "is_bad": n == 0} for n in range(4)]
    write_marts(settings)
    write_mart(settings, "marts.fct_application_training_set", columns, rows)

    training, *_ = validate_warehouse(AS_OF, settings=settings)

    assert training.success


def test_missing_warehouse_names_the_setting(settings: Settings) -> None:
    with pytest.raises(MissingDataError, match="CREDITLAKE_WAREHOUSE_PATH"):
        validate_warehouse(AS_OF, settings=settings)


def test_missing_mart_names_the_table(settings: Settings) -> None:
    write_mart(settings, "marts.fct_loans", {"loan_id": "varchar"}, [{"loan_id": "L"}])

    with pytest.raises(LookupError, match=r"marts\.fct_application_training_set is not in"):
        validate_warehouse(AS_OF, settings=settings)


def test_prepare_mart_frame_normalises_types() -> None:
    frame = pd.DataFrame(
        {
            "is_bad": [True, False],
            "applied_at": pd.to_datetime(["2025-03-01 10:00", "2025-03-02 23:30"]).tz_localize(
                "Asia/Shanghai"
            ),
            "applied_date": [dt.date(2025, 3, 1), None],
            "principal_cny": [1000.004, 99.995000001],
            "loan_to_income_ratio": [0.123456, 1.0],
        }
    )

    prepared = prepare_mart_frame(frame)

    assert prepared["is_bad"].tolist() == [1, 0]
    assert prepared["applied_at"].tolist() == [
        pd.Timestamp("2025-03-01 02:00"),
        pd.Timestamp("2025-03-02 15:30"),
    ]
    assert prepared["applied_date"].iloc[0] == pd.Timestamp("2025-03-01")
    assert pd.isna(prepared["applied_date"].iloc[1])
    assert prepared["principal_cny"].tolist() == [1000.0, 100.0]
    assert prepared["loan_to_income_ratio"].tolist() == [0.123456, 1.0]
    assert frame["is_bad"].tolist() == [True, False]  # the input is left alone
