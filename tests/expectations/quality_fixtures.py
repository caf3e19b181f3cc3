"""Tiny bronze partitions and warehouse marts for the quality-gate tests.

Rows are built from the source registry, so a valid row always has exactly
``bronze_columns(source)``; a test states only the values it breaks.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from creditlake import ledger
from creditlake.lake import Lake, bronze_table, quarantine_table
from creditlake.pii import tokenise
from creditlake.policy import PII_TOKEN
from creditlake.settings import Settings
from creditlake.sources import Column, Source, arrow_type, bronze_columns, get_source

if TYPE_CHECKING:
    import pyarrow as pa

DAY = dt.date(2026, 1, 2)
AS_OF = dt.date(2026, 1, 4)
TEST_TOKEN_KEY = b"a-test-key-for-tokens-of-at-least-32-bytes"

#: Values that must agree with each other or stay inside policy in a valid row.
VALID_VALUES: dict[str, Any] = {
    "apr": Decimal("0.1800"),
    "principal_due_cny": Decimal("90.00"),
    "interest_due_cny": Decimal("10.00"),
    "total_due_cny": Decimal("100.00"),
    "installment_number": 1,
    "term_months": 12,
    "residence_type": "urban",
    "is_new_citizen": 0,
    "sex": "F",
    "decision": "approved",
    "event_type": "login",
}


def _value(source: Source, column: Column, n: int) -> Any:
    if column.name in VALID_VALUES:
        return VALID_VALUES[column.name]
    if column.pii == PII_TOKEN:
        return tokenise(f"{column.name}-{n}", TEST_TOKEN_KEY)
    if column.name == source.key:
        return f"{source.key.upper()}-{n}"
    if column.type == "string":
        return f"{column.name}-{n}"
    if column.type in ("int", "bigint"):
        return n + 1
    if column.type == "double":
        return 31.25
    if column.type.startswith("decimal("):
        return Decimal("1000.00")
    if column.type == "date":
        return DAY
    if column.type == "timestamp":
        return dt.datetime(2026, 1, 2, 8, 30)
    raise AssertionError(f"no test value for {source.name}.{column.name} ({column.type})")


def valid_row(source_name: str, n: int, **overrides: Any) -> dict[str, Any]:
    """A bronze row of ``source_name`` that passes its suite, with ``overrides`` applied."""
    source = get_source(source_name)
    row = {c.name: _value(source, c, n) for c in bronze_columns(source)}
    unknown = set(overrides) - set(row)
    assert not unknown, f"{source_name} has no bronze columns {unknown}"
    return {**row, **overrides}


def bronze_arrow(
    source_name: str,
    rows: list[dict[str, Any]],
    drop: tuple[str, ...] = (),
    retype: dict[str, str] | None = None,
) -> pa.Table:
    """``rows`` typed as bronze stores them (the registry's Arrow types), without Spark; ``drop``
    and ``retype`` (column -> registry type) break the schema on purpose."""
    import pyarrow as pa

    retype = retype or {}
    columns = [c for c in bronze_columns(get_source(source_name)) if c.name not in drop]
    arrays = {}
    for column in columns:
        values = pa.array([r[column.name] for r in rows], arrow_type(column.type))
        if column.name in retype:
            values = values.cast(arrow_type(retype[column.name]))
        arrays[column.name] = values
    return pa.table(arrays)


def write_bronze(
    settings: Settings,
    source_name: str,
    rows: list[dict[str, Any]],
    as_of_date: dt.date = DAY,
    drop: tuple[str, ...] = (),
    retype: dict[str, str] | None = None,
) -> ledger.Delivery:
    """Stage ``rows`` as the ``as_of_date`` partition of the source's bronze table and record the
    staged delivery, as ingestion does; ``drop`` and ``retype`` (column -> registry type) break
    its schema on purpose."""
    from spark_jobs.duckdb_engine import quarantine_schema

    lake = Lake.from_settings(settings)
    rows_arrow = bronze_arrow(source_name, rows, drop, retype)
    staged = lake.stage_partition(
        bronze_table(source_name), as_of_date, [rows_arrow], rows_arrow.schema, {}
    )
    staged_quarantine = lake.stage_partition(
        quarantine_table(source_name), as_of_date, [], quarantine_schema(), {}
    )
    delivery = ledger.Delivery(
        source=source_name,
        as_of_date=as_of_date,
        status=ledger.STAGED,
        batch_id=f"{source_name}/{as_of_date}/test",
        landing_file="test",
        content_sha256="0" * 64,
        landing_rows=len(rows),
        bronze_rows=len(rows),
        quarantined_rows=0,
        duplicates_dropped=0,
        bronze_snapshot_id=staged.snapshot_id,
        quarantine_snapshot_id=staged_quarantine.snapshot_id,
    )
    ledger.record(lake, delivery)
    return delivery


# Warehouse marts ---------------------------------------------------------------------------------
TRAINING_SET_COLUMNS: dict[str, str] = {
    "application_id": "varchar",
    "loan_id": "varchar",
    "applied_at": "timestamp",
    "applied_date": "date",
    "application_month": "date",
    "disbursed_date": "date",
    "performance_window_end_date": "date",
    "age_at_application_years": "integer",
    "apr": "decimal(6,4)",
    "principal_cny": "decimal(12,2)",
    "is_bad": "integer",
    "as_of_date": "date",
}
FRAUD_TRAINING_SET_COLUMNS: dict[str, str] = {
    "application_id": "varchar",
    "loan_id": "varchar",
    "applied_at": "timestamp",
    "applied_date": "date",
    "application_month": "date",
    "first_due_date": "date",
    "age_at_application_years": "integer",
    "is_first_payment_default": "integer",
    "as_of_date": "date",
}
COLLECTIONS_TRAINING_SET_COLUMNS: dict[str, str] = {
    "installment_id": "varchar",
    "loan_id": "varchar",
    "due_date": "date",
    "entry_month": "date",
    "applied_at": "timestamp",
    "applied_date": "date",
    "application_month": "date",
    "age_at_application_years": "integer",
    "is_not_cured": "integer",
    "as_of_date": "date",
}
B_CARD_TRAINING_SET_COLUMNS: dict[str, str] = {
    "loan_month_id": "varchar",
    "loan_id": "varchar",
    "month_end": "date",
    "snapshot_month": "date",
    "applied_at": "timestamp",
    "applied_date": "date",
    "application_month": "date",
    "age_at_application_years": "integer",
    "is_bad_6m": "integer",
    "as_of_date": "date",
}
LOANS_COLUMNS: dict[str, str] = {
    "loan_id": "varchar",
    "principal_cny": "decimal(12,2)",
    "scheduled_principal_cny": "decimal(14,2)",
    "term_months": "integer",
    "installments_count": "integer",
    "apr": "decimal(6,4)",
    "as_of_date": "date",
}


def training_row(n: int, **overrides: Any) -> dict[str, Any]:
    applied = dt.date(2025, 3, 1) + dt.timedelta(days=n)
    row = {
        "application_id": f"APP-{n}",
        "loan_id": f"LOAN-{n}",
        "applied_at": dt.datetime.combine(applied, dt.time(10, 15)),
        "applied_date": applied,
        "application_month": applied.replace(day=1),
        "disbursed_date": applied + dt.timedelta(days=2),
        "performance_window_end_date": applied + dt.timedelta(days=186),
        "age_at_application_years": 30 + n,
        "apr": Decimal("0.1800"),
        "principal_cny": Decimal("5000.00"),
        "is_bad": 1 if n == 0 else 0,
        "as_of_date": AS_OF,
    }
    return {**row, **overrides}


def fraud_training_row(n: int, **overrides: Any) -> dict[str, Any]:
    applied = dt.date(2025, 3, 1) + dt.timedelta(days=n)
    row = {
        "application_id": f"APP-{n}",
        "loan_id": f"LOAN-{n}",
        "applied_at": dt.datetime.combine(applied, dt.time(10, 15)),
        "applied_date": applied,
        "application_month": applied.replace(day=1),
        "first_due_date": applied + dt.timedelta(days=33),
        "age_at_application_years": 30 + n,
        "is_first_payment_default": 1 if n == 0 else 0,
        "as_of_date": AS_OF,
    }
    return {**row, **overrides}


def collections_training_row(n: int, **overrides: Any) -> dict[str, Any]:
    applied = dt.date(2025, 3, 1) + dt.timedelta(days=n)
    due = applied + dt.timedelta(days=63)
    row = {
        "installment_id": f"LOAN-{n}-2",
        "loan_id": f"LOAN-{n}",
        "due_date": due,
        "entry_month": due.replace(day=1),
        "applied_at": dt.datetime.combine(applied, dt.time(10, 15)),
        "applied_date": applied,
        "application_month": applied.replace(day=1),
        "age_at_application_years": 30 + n,
        "is_not_cured": 1 if n == 0 else 0,
        "as_of_date": AS_OF,
    }
    return {**row, **overrides}


def b_card_training_row(n: int, **overrides: Any) -> dict[str, Any]:
    applied = dt.date(2025, 3, 1) + dt.timedelta(days=n)
    row = {
        "loan_month_id": f"LOAN-{n}:2025-04",
        "loan_id": f"LOAN-{n}",
        "month_end": dt.date(2025, 4, 30),
        "snapshot_month": dt.date(2025, 4, 1),
        "applied_at": dt.datetime.combine(applied, dt.time(10, 15)),
        "applied_date": applied,
        "application_month": applied.replace(day=1),
        "age_at_application_years": 30 + n,
        "is_bad_6m": 1 if n == 0 else 0,
        "as_of_date": AS_OF,
    }
    return {**row, **overrides}


def loan_row(n: int, **overrides: Any) -> dict[str, Any]:
    row = {
        "loan_id": f"LOAN-{n}",
        "principal_cny": Decimal("5000.00"),
        "scheduled_principal_cny": Decimal("5000.00"),
        "term_months": 12,
        "installments_count": 12,
        "apr": Decimal("0.1800"),
        "as_of_date": AS_OF,
    }
    return {**row, **overrides}


def write_mart(
    settings: Settings,
    table: str,
    columns: dict[str, str],
    rows: list[dict[str, Any]],
    drop: tuple[str, ...] = (),
) -> None:
    """Create ``table`` in the warehouse DuckDB file with typed columns, as dbt would."""
    import duckdb

    kept = {name: kind for name, kind in columns.items() if name not in drop}
    settings.warehouse_path.parent.mkdir(parents=True, exist_ok=True)
    schema = table.split(".", 1)[0]
    with duckdb.connect(str(settings.warehouse_path)) as con:
        con.execute(f"create schema if not exists {schema}")
        con.execute(f"drop table if exists {table}")
        con.execute(f"create table {table} ({', '.join(f'{n} {k}' for n, k in kept.items())})")
        placeholders = ", ".join("?" for _ in kept)
        con.executemany(
            f"insert into {table} values ({placeholders})",
            [[row[name] for name in kept] for row in rows],
        )


def write_marts(
    settings: Settings,
    training: list[dict[str, Any]] | None = None,
    loans: list[dict[str, Any]] | None = None,
    drop_training: tuple[str, ...] = (),
) -> None:
    """A warehouse whose validated marts hold ``training`` and ``loans`` (4 clean rows each) and
    clean anti-fraud, collections and B-card training sets."""
    training = training if training is not None else [training_row(n) for n in range(4)]
    loans = loans if loans is not None else [loan_row(n) for n in range(4)]
    write_mart(
        settings,
        "marts.fct_application_training_set",
        TRAINING_SET_COLUMNS,
        training,
        drop_training,
    )
    write_mart(settings, "marts.fct_loans", LOANS_COLUMNS, loans)
    write_mart(
        settings,
        "marts.fct_fraud_training_set",
        FRAUD_TRAINING_SET_COLUMNS,
        [fraud_training_row(n) for n in range(4)],
    )
    write_mart(
        settings,
        "marts.fct_collections_training_set",
        COLLECTIONS_TRAINING_SET_COLUMNS,
        [collections_training_row(n) for n in range(4)],
    )
    write_mart(
        settings,
        "marts.fct_b_card_training_set",
        B_CARD_TRAINING_SET_COLUMNS,
        [b_card_training_row(n) for n in range(4)],
    )
