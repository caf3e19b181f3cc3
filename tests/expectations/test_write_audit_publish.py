"""Write-audit-publish through the ingest DAG's own tasks: only what a gate passed is published.

A clean delivery is staged, audited and published; then a poisoned re-delivery of the same date
(raw values where keyed tokens belong, as a source that skipped its own masking would send)
is staged and fails its gate. The published snapshot must not move, the publish task must
refuse, and the warehouse and model DAGs' readiness checks must report the date as not ready,
naming why.
"""

from __future__ import annotations

from typing import Any

import pendulum
import pytest
from airflow.sdk.exceptions import AirflowFailException
from quality_fixtures import DAY, valid_row, write_bronze

from creditlake import ledger
from creditlake.lake import Lake, LakeError, bronze_table
from creditlake.settings import Settings
from expectations.names import bronze_suite_name
from orchestration.ingest import build_ingest_dag

CONTEXT: dict[str, Any] = {
    "data_interval_start": pendulum.datetime(DAY.year, DAY.month, DAY.day, tz="UTC")
}


def _run(task_id: str) -> Any:
    task = build_ingest_dag("loan_origination", None).get_task(task_id)
    return task.python_callable(**CONTEXT)


def test_a_poisoned_batch_fails_its_gate_and_nothing_moves(settings: Settings) -> None:
    from orchestration.ml import _warehouse_validated
    from orchestration.warehouse import _bronze_ready

    lake = Lake.from_settings(settings)
    write_bronze(settings, "customers", [valid_row("customers", n) for n in range(3)])
    _run("customers.validate_bronze")
    published = _run("customers.publish_bronze")
    assert published["status"] == ledger.PUBLISHED
    snapshot = lake.snapshot_id(bronze_table("customers"))
    assert snapshot == published["bronze_snapshot_id"]
    assert lake.read(bronze_table("customers"), DAY).num_rows == 3
    assert _bronze_ready(CONTEXT) == (
        f"published bronze delivery of applications for {DAY} (ledger: nothing recorded)"
    )

    # The same date delivered again, poisoned: staged, then refused by its gate.
    poisoned = [valid_row("customers", n, name_token=f"name {n}") for n in range(5)]
    write_bronze(settings, "customers", poisoned)
    with pytest.raises(AirflowFailException, match="quality gate bronze_customers failed"):
        _run("customers.validate_bronze")
    assert ledger.latest_delivery(lake, "customers", DAY).status == ledger.REJECTED
    with pytest.raises(AirflowFailException, match="rejected, not staged"):
        _run("customers.publish_bronze")
    assert lake.snapshot_id(bronze_table("customers")) == snapshot
    assert lake.read(bronze_table("customers"), DAY).num_rows == 3

    # Downstream: the warehouse waits for the date, naming why, and so do the model DAGs.
    assert _bronze_ready(CONTEXT) == (
        f"published bronze delivery of customers for {DAY} (ledger: rejected)"
    )
    assert _warehouse_validated(CONTEXT).startswith("passed warehouse gate")


def test_publish_requires_the_gate_to_have_passed_the_staged_snapshot(settings) -> None:
    lake = Lake.from_settings(settings)
    write_bronze(settings, "loans", [valid_row("loans", 1)])
    with pytest.raises(LakeError, match="gate bronze_loans has not passed staged snapshot"):
        ledger.publish_delivery(lake, "loans", DAY, bronze_suite_name("loans"))
    _run("loans.validate_bronze")
    # A new stage after the audit: the verdict was for another snapshot, so nothing publishes.
    write_bronze(settings, "loans", [valid_row("loans", 2)])
    with pytest.raises(LakeError, match="has not passed staged snapshot"):
        ledger.publish_delivery(lake, "loans", DAY, bronze_suite_name("loans"))
    assert lake.read(bronze_table("loans"), DAY).num_rows == 0
