"""A tiny bronze lake, written in the exact bronze layout the Spark ingestion writes.

The rows are a handful of customers, applications, loans, schedules, repayments, app events,
transactions and bureau reports, each built to exercise one rule of the warehouse (a loan 35 days
late inside its first 6 months, an immature loan, an event after the application, a re-delivered
customer, a delivery after the as-of date, a staged delivery never published, ...). Arrow tables
with the types of ``creditlake.sources.bronze_columns`` go through the lake seam
(``creditlake.lake.Lake``) into the bronze Iceberg tables, as the ingestion commits them, so dbt
reads exactly what it will read in production. The tests compute what
the warehouse should hold from these same specifications.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from secret_files import put_pii_key

from creditlake.lake import Lake, Staged, bronze_table
from creditlake.settings import Settings
from creditlake.sources import bronze_columns, get_source

TEST_PII_KEY = "test-only-pii-key-0123456789abcdef0123456789abcdef"


def fresh_settings(home: Path) -> Settings:
    """Settings for a creditlake home of its own (lake and warehouse inside it)."""
    from creditlake.settings import get_settings

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CREDITLAKE_HOME", str(home))
        put_pii_key(home, TEST_PII_KEY)
        for name in ("CREDITLAKE_LAKE_DIR", "CREDITLAKE_WAREHOUSE_PATH"):
            patch.delenv(name, raising=False)
        return get_settings()


AS_OF_DATE = dt.date(2026, 1, 4)
EXTRACT_DATE = dt.date(2026, 1, 1)
#: The daily builds of the session's warehouse: the extract date up to AS_OF_DATE. The scenario
#: also holds deliveries of the day after, which no build up to AS_OF_DATE may read.
BUILD_DATES = [
    EXTRACT_DATE + dt.timedelta(days=n) for n in range((AS_OF_DATE - EXTRACT_DATE).days + 1)
]
UTC = dt.UTC


def ts(value: str) -> dt.datetime:
    """A UTC instant from ``yyyy-mm-dd HH:MM:SS``."""
    return dt.datetime.fromisoformat(value).replace(tzinfo=UTC)


def d(value: str) -> dt.date:
    return dt.date.fromisoformat(value)


def arrow_type(spark_type: str) -> pa.DataType:
    """The Parquet (Arrow) type Spark writes for a registry type string."""
    decimal = re.fullmatch(r"decimal\((\d+),\s*(\d+)\)", spark_type)
    if decimal:
        return pa.decimal128(int(decimal.group(1)), int(decimal.group(2)))
    return {
        "string": pa.string(),
        "int": pa.int32(),
        "bigint": pa.int64(),
        "double": pa.float64(),
        "date": pa.date32(),
        "timestamp": pa.timestamp("us", tz="UTC"),
    }[spark_type]


def bronze_schema(source_name: str) -> pa.Schema:
    return pa.schema(
        [(c.name, arrow_type(c.type)) for c in bronze_columns(get_source(source_name))]
    )


def write_bronze(
    settings: Settings,
    source_name: str,
    ingest_date: dt.date,
    rows: list[dict[str, Any]],
    publish: bool = True,
) -> Staged:
    """Write rows as one bronze partition through the lake seam, adding the lineage columns
    bronze carries, and publish it (or leave it staged on its audit branch)."""
    from decimal import Decimal

    schema = bronze_schema(source_name)
    ingested_at = dt.datetime.combine(ingest_date, dt.time(23, 0), tzinfo=UTC)
    full_rows = []
    for number, row in enumerate(rows, start=1):
        unknown = set(row) - set(schema.names)
        assert not unknown, f"{source_name}: fixture columns {unknown} are not bronze columns"
        record = {name: row.get(name) for name in schema.names}
        for field in schema:
            if pa.types.is_decimal(field.type) and record[field.name] is not None:
                record[field.name] = Decimal(str(record[field.name]))
        record.update(
            _source_file=f"landing/{source_name}/{ingest_date}/{source_name}.csv",
            _row_number=number,
            _batch_id=f"{source_name}/{ingest_date}/fixture",
            _ingested_at=ingested_at,
        )
        full_rows.append(record)
    lake = Lake.from_settings(settings)
    table = pa.Table.from_pylist(full_rows, schema=schema)
    staged = lake.stage_partition(bronze_table(source_name), ingest_date, [table], schema, {})
    if publish:
        lake.publish(staged)
    return staged


# The scenario ------------------------------------------------------------------------------------
# Customers. C3 is re-delivered (income 8000 -> 9000), and again after the as-of date (99999);
# C4 is only delivered after the as-of date.
CUSTOMER_DEFAULTS = {
    "name_token": "tok-name",
    "national_id_token": "tok-id",
    "mobile_token": "tok-mobile",
    "bank_card_number_token": "tok-card",
    "province": "广东",
    "city": "深圳",
    "residence_type": "urban",
    "is_new_citizen": 0,
    "education": "bachelor",
    "occupation": "engineer",
    "registered_at": ts("2024-08-01 08:00:00"),
    "sex": "M",
}


def customer(customer_id: str, birth_date: str, income: float, **extra: Any) -> dict[str, Any]:
    return {
        **CUSTOMER_DEFAULTS,
        "customer_id": customer_id,
        "name_token": f"tok-name-{customer_id}",
        "national_id_token": f"tok-id-{customer_id}",
        "birth_date": d(birth_date),
        "monthly_income_cny": income,
        **extra,
    }


def application(
    application_id: str,
    customer_id: str,
    applied_at: str,
    amount: float,
    term: int,
    decision: str = "approved",
    apr: float | None = 0.18,
) -> dict[str, Any]:
    approved = decision == "approved"
    return {
        "application_id": application_id,
        "customer_id": customer_id,
        "applied_at": ts(applied_at),
        "channel": "app",
        "product": "cash_loan",
        "requested_amount_cny": amount,
        "term_months": term,
        "purpose": "consumption",
        "device_id_token": f"tok-device-{application_id}",
        "ip_address_token": f"tok-ip-{application_id}",
        "decision": decision,
        "decided_at": ts(applied_at) + dt.timedelta(minutes=5),
        "approved_amount_cny": amount if approved else None,
        "apr": apr if approved else None,
    }


def add_months(day: dt.date, months: int) -> dt.date:
    month = day.month - 1 + months
    return dt.date(day.year + month // 12, month % 12 + 1, day.day)


@dataclass(frozen=True)
class LoanSpec:
    loan_id: str
    application_id: str
    customer_id: str
    disbursed_at: str
    principal: float
    term: int
    interest_per_installment: float
    apr: float = 0.18

    @property
    def disbursed_date(self) -> dt.date:
        return ts(self.disbursed_at).date()

    def due_date(self, number: int) -> dt.date:
        return add_months(self.disbursed_date, number)

    @property
    def total_due(self) -> float:
        return self.principal / self.term + self.interest_per_installment


LOANS = [
    # 35 days late on instalment 2 (inside the first 6 months): bad.
    LoanSpec("L1", "A1", "C1", "2025-03-11 09:00:00", 12000.0, 6, 100.0),
    # 20 days late on instalment 1: delinquent but not bad.
    LoanSpec("L2", "A2", "C2", "2025-04-02 09:00:00", 6000.0, 6, 50.0, apr=0.12),
    # Disbursed 2025-10-02: fewer than 6 months on book by the as-of date, so immature.
    LoanSpec("L3", "A3", "C1", "2025-10-02 09:00:00", 3000.0, 3, 30.0, apr=0.15),
]
#: What collections did about L2's missed first instalment (due 2025-05-02, paid 20 days late):
#: an SMS the next day, an unanswered call, then a promise to pay that was kept.
COLLECTION_ACTIONS = [
    {
        "action_id": "CA1",
        "loan_id": "L2",
        "installment_number": 1,
        "action_at": ts("2025-05-03 02:00:00"),
        "channel": "sms",
        "outcome": "delivered",
        "contact_phone_token": "b" * 64,
    },
    {
        "action_id": "CA2",
        "loan_id": "L2",
        "installment_number": 1,
        "action_at": ts("2025-05-05 03:00:00"),
        "channel": "call",
        "outcome": "no_answer",
        "contact_phone_token": "b" * 64,
        "collector_id": "COL007",
    },
    {
        "action_id": "CA3",
        "loan_id": "L2",
        "installment_number": 1,
        "action_at": ts("2025-05-08 03:00:00"),
        "channel": "call",
        "outcome": "promise_to_pay",
        "contact_phone_token": "b" * 64,
        "collector_id": "COL007",
        "promised_date": d("2025-05-25"),
        "promised_amount_cny": 1050.0,
    },
]
#: (loan_id, instalment number) -> (paid_at, ingest date) for payments that are not on time;
#: None means never paid. Every other instalment due by the as-of date is paid on its due date.
IRREGULAR_PAYMENTS: dict[tuple[str, int], tuple[str, dt.date] | None] = {
    ("L1", 2): ("2025-06-15 10:00:00", EXTRACT_DATE),  # due 2025-05-11: 35 days late
    ("L2", 1): ("2025-05-22 10:00:00", EXTRACT_DATE),  # due 2025-05-02: 20 days late
    ("L3", 2): None,  # due 2025-12-02: unpaid, 33 days past due on 2026-01-04
    # due 2026-01-02, paid 2026-01-05 and delivered then: after the as-of date, so not yet paid
    ("L3", 3): ("2026-01-05 10:00:00", dt.date(2026, 1, 5)),
}


def schedule_and_repayments() -> tuple[list[dict], dict[dt.date, list[dict]]]:
    schedules, repayments = [], {}
    for loan in LOANS:
        for number in range(1, loan.term + 1):
            due = loan.due_date(number)
            schedules.append(
                {
                    "installment_id": f"{loan.loan_id}-{number}",
                    "loan_id": loan.loan_id,
                    "installment_number": number,
                    "due_date": due,
                    "principal_due_cny": loan.principal / loan.term,
                    "interest_due_cny": loan.interest_per_installment,
                    "total_due_cny": loan.total_due,
                }
            )
            key = (loan.loan_id, number)
            if key in IRREGULAR_PAYMENTS:
                payment = IRREGULAR_PAYMENTS[key]
                if payment is None:
                    continue
                paid_at, ingest = payment
            elif due <= AS_OF_DATE:
                paid_at, ingest = f"{due} 08:00:00", max(due, EXTRACT_DATE)
            else:
                continue
            repayments.setdefault(ingest, []).append(
                {
                    "repayment_id": f"P-{loan.loan_id}-{number}",
                    "loan_id": loan.loan_id,
                    "installment_number": number,
                    "paid_at": ts(paid_at),
                    "amount_cny": loan.total_due,
                    "payment_channel": "bank_transfer",
                }
            )
    return schedules, repayments


def app_event(
    event_id: str, customer_id: str, at: str, event_type: str, device: str, page: str | None = None
) -> dict[str, Any]:
    return {
        "event_id": event_id,
        "customer_id": customer_id,
        "event_at": ts(at),
        "event_type": event_type,
        "page": page,
        "device_id_token": device,
        "os": "android",
        "city": "深圳",
        "latitude": 22.543096,
        "longitude": 114.057865,
    }


APP_EVENTS = [
    # C1, before A1 (applied 2025-03-10 10:00 UTC). 18:30 UTC is 02:30 in China: night-time.
    app_event("E1", "C1", "2025-03-09 18:30:00", "login", "dev-a"),
    app_event("E2", "C1", "2025-03-01 02:00:00", "login", "dev-a"),  # 10:00 China time
    app_event("E3", "C1", "2025-03-05 08:00:00", "page_view", "dev-a", page="loan_apply"),
    app_event("E4", "C1", "2025-03-08 08:00:00", "device_change", "dev-b"),
    app_event("E5", "C1", "2025-01-20 17:00:00", "login", "dev-a"),  # 01:00 China time, 90d only
    # 30 minutes AFTER A1 was submitted: must not count for A1 (but is history for A3).
    app_event("E6", "C1", "2025-03-10 10:30:00", "page_view", "dev-c", page="loan_apply"),
]


def transaction(
    transaction_id: str, customer_id: str, at: str, amount: float, category: str
) -> dict[str, Any]:
    return {
        "transaction_id": transaction_id,
        "customer_id": customer_id,
        "transacted_at": ts(at),
        "amount_cny": amount,
        "category": category,
        "merchant_id": f"M-{category}",
        "merchant_name": f"{category} shop",
    }


TRANSACTIONS = [
    transaction("T1", "C1", "2025-03-01 12:00:00", 100.0, "online_gaming"),
    transaction("T2", "C1", "2025-03-05 12:00:00", 300.0, "groceries"),
    # An hour after A1: not part of A1's spend.
    transaction("T3", "C1", "2025-03-10 11:00:00", 600.0, "luxury"),
]


def bureau_report(
    report_id: str, customer_id: str, at: str, score: int, outstanding: float
) -> dict[str, Any]:
    return {
        "report_id": report_id,
        "customer_id": customer_id,
        "reported_at": ts(at),
        "bureau_score": score,
        "credit_accounts_count": 3,
        "open_loans_count": 1,
        "outstanding_balance_cny": outstanding,
        "max_days_past_due_24m": 0,
        "inquiries_6m_count": 2,
        "months_since_first_credit": 48,
    }


BUREAU_REPORTS = [
    bureau_report("R1", "C1", "2025-01-15 08:00:00", 650, 24000.0),
    # Issued at the very second A1 was submitted: not visible to A1, visible to A3.
    bureau_report("R2", "C1", "2025-03-10 10:00:00", 700, 30000.0),
]


def write_scenario(settings: Settings) -> None:
    """Write every bronze table of the scenario into the lake of ``settings``."""
    jan = {n: dt.date(2026, 1, n) for n in (1, 2, 3, 4, 5)}
    write_bronze(
        settings,
        "customers",
        jan[1],
        [
            customer("C1", "1990-06-15", 10000.0, is_new_citizen=1),
            customer("C2", "2000-04-01", 5000.0, residence_type="rural", sex="F", city="郑州"),
            customer("C3", "1985-12-31", 8000.0),
        ],
    )
    write_bronze(settings, "customers", jan[2], [customer("C3", "1985-12-31", 9000.0)])
    write_bronze(
        settings,
        "customers",
        jan[5],
        [customer("C3", "1985-12-31", 99999.0), customer("C4", "1970-01-01", 1000.0)],
    )
    # A delivery staged on its audit branch whose gate has not passed: never read.
    write_bronze(settings, "customers", jan[4], [customer("C9", "1999-09-09", 1.0)], publish=False)

    write_bronze(
        settings,
        "applications",
        jan[1],
        [
            application("A1", "C1", "2025-03-10 10:00:00", 12000.0, 6),
            application("A2", "C2", "2025-04-01 00:30:00", 6000.0, 6, apr=0.12),
            application("A3", "C1", "2025-10-01 09:00:00", 3000.0, 3, apr=0.15),
            application("A4", "C3", "2025-12-01 09:00:00", 20000.0, 12, decision="rejected"),
        ],
    )
    write_bronze(
        settings, "applications", jan[3], [application("A5", "C2", "2026-01-03 09:00:00", 800.0, 3)]
    )
    write_bronze(
        settings, "applications", jan[5], [application("A6", "C4", "2026-01-05 09:00:00", 500.0, 3)]
    )
    write_bronze(
        settings,
        "loans",
        jan[1],
        [
            {
                "loan_id": loan.loan_id,
                "application_id": loan.application_id,
                "customer_id": loan.customer_id,
                "disbursed_at": ts(loan.disbursed_at),
                "principal_cny": loan.principal,
                "apr": loan.apr,
                "term_months": loan.term,
                "first_due_date": loan.due_date(1),
            }
            for loan in LOANS
        ],
    )
    schedules, repayments = schedule_and_repayments()
    write_bronze(settings, "repayment_schedules", jan[1], schedules)
    for ingest_date, rows in sorted(repayments.items()):
        write_bronze(settings, "repayments", ingest_date, rows)
    write_bronze(settings, "app_events", jan[1], APP_EVENTS)
    write_bronze(settings, "transactions", jan[1], TRANSACTIONS)
    write_bronze(settings, "bureau_reports", jan[1], BUREAU_REPORTS)
    write_bronze(settings, "collection_actions", jan[1], COLLECTION_ACTIONS)
