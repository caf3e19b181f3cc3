"""A DAG run under the stack's real scheduler writes the same tables as the same run under dag.test.

The stack's scheduler runs the credit bureau's ingest with the LocalExecutor, on PostgreSQL, each
task in its own process; the reference home runs it in the demo's process with ``dag.test``
(``stack_data``). Content checksums leave out when and from where a row was loaded, so the two
bronze and quarantine tables, and the ledger's counts, must be equal.
"""

from __future__ import annotations

import pytest
import requests
from stack_data import EXTRACT, StackData, fill

from creditlake import ledger
from creditlake.checksum import content_checksum
from creditlake.lake import Lake, bronze_table, quarantine_table

pytestmark = [pytest.mark.slow, pytest.mark.stack]

SOURCE = "bureau_reports"


@pytest.fixture(scope="module")
def data(stack, tmp_path_factory: pytest.TempPathFactory) -> StackData:
    return fill(stack, tmp_path_factory.mktemp("reference"))


def _tables(settings) -> dict[str, tuple]:
    lake = Lake.from_settings(settings)
    return {
        table: content_checksum(lake.read(table))
        for table in (bronze_table(SOURCE), quarantine_table(SOURCE))
    }


def _deliveries(settings) -> list[tuple]:
    """The ledger's rows of the delivery, in order (staged, then published), without times."""
    return [
        (
            r.status,
            r.landing_rows,
            r.bronze_rows,
            r.quarantined_rows,
            r.duplicates_dropped,
            r.quarantined_by_reason,
        )
        for r in ledger.deliveries(Lake.from_settings(settings))
        if r.source == SOURCE and r.as_of_date == EXTRACT
    ]


def test_the_scheduler_ran_the_dag_in_its_own_task_processes(data: StackData, stack) -> None:
    assert data.run_state == "success"
    session = requests.Session()
    token = requests.post(
        f"{stack.airflow}/auth/token",
        json={"username": "governance_reviewer", "password": stack.password("governance_reviewer")},
        timeout=30,
    ).json()["access_token"]
    session.headers["Authorization"] = f"Bearer {token}"
    tasks = session.get(
        f"{stack.airflow}/api/v2/dags/{data.dag_id}/dagRuns/{data.run_id}/taskInstances",
        timeout=30,
    ).json()["task_instances"]
    assert tasks and {t["state"] for t in tasks} == {"success"}
    # the LocalExecutor ran each task in a process of its own, not the test's
    assert {t["executor"] or "LocalExecutor" for t in tasks} == {"LocalExecutor"}
    assert len({t["pid"] for t in tasks}) == len(tasks)


def test_bronze_and_quarantine_equal_the_dag_test_run(data: StackData) -> None:
    scheduled, reference = _tables(data.scheduled), _tables(data.reference)
    assert scheduled[bronze_table(SOURCE)][0] > 1_000  # rows
    assert scheduled[quarantine_table(SOURCE)][0] > 0  # the injected defects
    assert scheduled == reference


def test_the_ledgers_agree(data: StackData) -> None:
    scheduled = _deliveries(data.scheduled)
    assert [row[0] for row in scheduled] == [ledger.STAGED, ledger.PUBLISHED]
    assert scheduled == _deliveries(data.reference)
