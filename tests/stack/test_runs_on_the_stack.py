"""Real work on a test stack: a scheduler's DAG run equal to dag.test, and each role's view of it.

One stack for the module (``conftest.stack``), filled by ``stack_data.fill``: the credit bureau's
ingest run by the stack's scheduler and LocalExecutor, the same date run in a reference home with
``dag.test``, whose credit PD training registers the champion in the stack's MLflow through the
pipeline account, and the governance report built from the stack's home.

- The scheduler's run must equal the ``dag.test`` run: content checksums of the bronze and
  quarantine tables (which leave out when and from where a row was loaded) and the ledger's rows.
- Headless Chromium (``browser_checks``) logs in as each user and checks what that role sees of
  the run, the champion and the reports, and what it may not do.

Screenshots go to ``CREDITLAKE_SCREENSHOTS_DIR`` when set (``<dir>/<role>/<page>.png``), else to
pytest's temporary folder, so that a test run leaves the working tree clean.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from browser_checks import (
    Login,
    LoopbackBrowser,
    StackFacts,
    airflow_login,
    anonymous_status,
    check_airflow_dags,
    check_airflow_refuses_wrong_password,
    check_airflow_runs,
    check_mlflow_champion,
    check_report_pages,
    check_trigger_refused,
    loopback_browser,
    mlflow_create_from_page,
    trigger_from_ui,
)
from stack_data import EXTRACT, PARALLEL_DAG, SCHEDULED_DAG, StackData, fill
from stack_helpers import airflow_as

from creditlake import ledger
from creditlake.checksum import content_checksum
from creditlake.lake import Lake, bronze_table, quarantine_table
from creditlake.settings import PROJECT_ROOT
from tests.platform_tables import delivery_counts

pytestmark = [pytest.mark.slow, pytest.mark.stack]

ROLES = ("admin", "data_engineer", "ml_engineer", "governance_reviewer")
RUN_DAG = SCHEDULED_DAG
SOURCE = "bureau_reports"
#: The sources of ``PARALLEL_DAG``, ingested beside the bureau's.
PARALLEL_SOURCES = ("app_events", "transactions")
#: Triggered from the UI, and left paused: a run it gets stays queued and executes nothing.
TRIGGER_DAG = "transform__warehouse"


@pytest.fixture(scope="module")
def data(stack, tmp_path_factory: pytest.TempPathFactory) -> StackData:
    """The stack filled with real work, and the governance report built from its home."""
    filled = fill(stack, tmp_path_factory.mktemp("reference"))
    result = subprocess.run(
        [sys.executable, "-m", "orchestration.cli", "report", "--on-stack"],
        env=stack.env,
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, f"creditlake report:\n{result.stdout}{result.stderr}"
    return filled


@pytest.fixture(scope="module")
def stack_facts(data: StackData) -> StackFacts:
    return StackFacts(
        dag_id=data.dag_id,
        run_ids=(data.run_id,),
        model_name=data.model,
        champion_version=data.champion_version,
        report_date=EXTRACT.isoformat(),
        data_docs_suite=f"bronze_{SOURCE}",
    )


def _tables(settings, sources: tuple[str, ...] = (SOURCE,)) -> dict[str, tuple]:
    lake = Lake.from_settings(settings)
    return {
        table: content_checksum(lake.read(table))
        for source in sources
        for table in (bronze_table(source), quarantine_table(source))
    }


def _deliveries(settings) -> list[tuple]:
    """The ledger's rows of the delivery, in order (staged, then published), without times."""
    return [
        delivery_counts(r)
        for r in ledger.deliveries(Lake.from_settings(settings))
        if r.source == SOURCE and r.as_of_date == EXTRACT
    ]


def test_the_scheduler_ran_the_dag_in_task_processes_of_its_own(data: StackData, stack) -> None:
    assert data.run_state == "success"
    admin = airflow_as(stack, "governance_reviewer")
    tasks = admin.get(
        f"{stack.airflow}/api/v2/dags/{data.dag_id}/dagRuns/{data.run_id}/taskInstances",
        timeout=60,
    ).json()["task_instances"]
    assert tasks and {t["state"] for t in tasks} == {"success"}
    # the LocalExecutor ran each task in a process of its own, not the test's
    assert len({t["pid"] for t in tasks}) == len(tasks)
    assert os.getpid() not in {t["pid"] for t in tasks}


def _task_instances(stack, dag_id: str, run_id: str) -> list[dict]:
    reviewer = airflow_as(stack, "governance_reviewer")
    return reviewer.get(
        f"{stack.airflow}/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances", timeout=60
    ).json()["task_instances"]


def _most_at_once(intervals: list[tuple[dt.datetime, dt.datetime]]) -> int:
    """The largest number of intervals that were open at one instant."""
    edges = sorted([(start, 1) for start, _ in intervals] + [(end, -1) for _, end in intervals])
    open_now = most = 0
    for _, step in edges:  # at equal times an end (-1) sorts first: touching is not overlapping
        open_now += step
        most = max(most, open_now)
    return most


def test_the_local_executor_ran_ingest_tasks_of_different_sources_at_the_same_time(
    data: StackData, stack
) -> None:
    """Two ingest DAG runs triggered together: the LocalExecutor ran their tasks in parallel
    processes (the stack's parallelism is 4), and both runs succeeded."""
    assert data.parallel_run_state == "success"
    tasks = [
        *_task_instances(stack, data.dag_id, data.run_id),
        *_task_instances(stack, PARALLEL_DAG, data.parallel_run_id),
    ]
    loads = {
        t["task_id"].split(".")[0]: (
            dt.datetime.fromisoformat(t["start_date"]),
            dt.datetime.fromisoformat(t["end_date"]),
        )
        for t in tasks
        if t["task_id"].endswith(".load_bronze")
    }
    assert set(loads) == {SOURCE, *PARALLEL_SOURCES}
    spans = [
        (dt.datetime.fromisoformat(t["start_date"]), dt.datetime.fromisoformat(t["end_date"]))
        for t in tasks
    ]
    assert _most_at_once(spans) >= 2, sorted((t["start_date"], t["task_id"]) for t in tasks)
    assert _most_at_once(list(loads.values())) >= 2, loads  # two sources loading at once


def test_the_parallel_runs_bronze_equals_the_dag_test_run(data: StackData) -> None:
    scheduled = _tables(data.scheduled, PARALLEL_SOURCES)
    assert all(rows > 0 for rows, *_ in (scheduled[bronze_table(s)] for s in PARALLEL_SOURCES))
    assert scheduled == _tables(data.reference, PARALLEL_SOURCES)


def test_bronze_and_quarantine_equal_the_dag_test_run(data: StackData) -> None:
    scheduled, reference = _tables(data.scheduled), _tables(data.reference)
    assert scheduled[bronze_table(SOURCE)][0] > 1_000  # rows
    assert scheduled[quarantine_table(SOURCE)][0] > 0  # the injected defects
    assert scheduled == reference


def test_the_ledgers_agree(data: StackData) -> None:
    scheduled = _deliveries(data.scheduled)
    assert [row[0] for row in scheduled] == [ledger.STAGED, ledger.PUBLISHED]
    assert scheduled == _deliveries(data.reference)


@pytest.fixture(scope="module")
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    chosen = os.environ.get("CREDITLAKE_SCREENSHOTS_DIR")
    return Path(chosen) if chosen else tmp_path_factory.mktemp("screenshots")


@pytest.fixture(scope="module")
def browser(screenshots: Path) -> Iterator[LoopbackBrowser]:
    with loopback_browser(screenshots) as session:
        yield session
        assert session.refused == [], "requests that would have left the machine"


def _login(stack, username: str) -> Login:
    return Login(username, stack.password(username))


@pytest.mark.parametrize("role", ROLES)
def test_each_role_sees_the_run_the_champion_and_the_reports(
    stack, stack_facts: StackFacts, browser: LoopbackBrowser, role: str
) -> None:
    page = airflow_login(browser, stack.airflow, _login(stack, role))
    check_airflow_dags(page, stack.airflow, role, browser, [RUN_DAG, TRIGGER_DAG])
    check_airflow_runs(page, stack.airflow, role, browser, stack_facts)
    page.context.close()
    check_mlflow_champion(browser, stack.mlflow, _login(stack, role), stack_facts).context.close()
    check_report_pages(
        browser,
        stack.reports,
        _login(stack, role),
        {
            "governance_report": ("/governance/", stack_facts.report_date),
            "data_docs": ("/data-docs/", stack_facts.data_docs_suite),
        },
    )
    assert browser.refused == []


def _runs(stack, dag_id: str) -> list[dict]:
    admin = airflow_as(stack, "admin")
    return admin.get(f"{stack.airflow}/api/v2/dags/{dag_id}/dagRuns", timeout=60).json()["dag_runs"]


def _is_paused(stack, dag_id: str) -> bool:
    admin = airflow_as(stack, "admin")
    return admin.get(f"{stack.airflow}/api/v2/dags/{dag_id}", timeout=60).json()["is_paused"]


def test_the_reviewer_is_shown_trigger_but_airflow_refuses_the_run(
    stack, stack_facts: StackFacts, browser: LoopbackBrowser
) -> None:
    before = _runs(stack, TRIGGER_DAG)
    page = airflow_login(browser, stack.airflow, _login(stack, "governance_reviewer"))
    status = check_trigger_refused(page, stack.airflow, "governance_reviewer", browser, TRIGGER_DAG)
    page.context.close()
    assert status == 403
    assert _runs(stack, TRIGGER_DAG) == before
    assert _is_paused(stack, TRIGGER_DAG)


def test_the_data_engineer_triggers_a_run_from_the_ui(
    stack, stack_facts: StackFacts, browser: LoopbackBrowser
) -> None:
    before = {r["dag_run_id"] for r in _runs(stack, TRIGGER_DAG)}
    assert _is_paused(stack, TRIGGER_DAG)
    page = airflow_login(browser, stack.airflow, _login(stack, "data_engineer"))
    try:
        status, run = trigger_from_ui(page, stack.airflow, TRIGGER_DAG)
        assert status == 200, run
        page.get_by_text("Dag Run Triggered").first.wait_for()
        browser.shot(page, "data_engineer", "airflow_triggered")
        found = {r["dag_run_id"]: r for r in _runs(stack, TRIGGER_DAG)}
        assert found[run["dag_run_id"]]["triggering_user_name"] == "data_engineer"
    finally:
        page.context.close()
        _undo_trigger(stack, before)


def _undo_trigger(stack, before: set[str]) -> None:
    """The UI's trigger dialog also unpauses the DAG (its "unpause on trigger" default): stop and
    remove the runs it made and pause the DAG again, so it never executes on an empty lake.

    A run must stop before it can be deleted. Marked failed, a run with a teardown task
    (``publish_quality_docs``) stays running until the scheduler has run the teardown, which it
    does only while the DAG is unpaused: so stop the runs first, then pause.
    """
    admin = airflow_as(stack, "admin")
    dag = f"{stack.airflow}/api/v2/dags/{TRIGGER_DAG}"
    made = [r["dag_run_id"] for r in _runs(stack, TRIGGER_DAG) if r["dag_run_id"] not in before]
    deadline = time.monotonic() + 300
    for run_id in made:
        url = f"{dag}/dagRuns/{run_id}"
        admin.patch(url, json={"state": "failed"}, timeout=60)
        while admin.get(url, timeout=60).json()["state"] in ("queued", "running"):
            assert time.monotonic() < deadline, f"{url} did not stop (its teardown never ran)"
            time.sleep(1)
    assert admin.patch(dag, json={"is_paused": True}, timeout=60).status_code == 200
    for run_id in made:
        removed = admin.delete(f"{dag}/dagRuns/{run_id}", timeout=60)
        assert removed.status_code == 204, removed.text


def test_a_wrong_password_is_refused_on_the_login_page(stack, browser: LoopbackBrowser) -> None:
    wrong = Login("data_engineer", stack.password("data_engineer") + "0")
    check_airflow_refuses_wrong_password(browser, stack.airflow, wrong)


def test_mlflow_is_read_only_for_the_reviewer_and_writable_for_the_ml_engineer(
    stack, stack_facts: StackFacts, browser: LoopbackBrowser
) -> None:
    found = {}
    for role in ("governance_reviewer", "ml_engineer"):
        context = browser.context(_login(stack, role), basic_auth=True)
        page = context.new_page()
        page.goto(f"{stack.mlflow}/", wait_until="load")
        found[role] = mlflow_create_from_page(page, stack.mlflow, f"made-by-{role}")
        context.close()
    assert found == {
        "governance_reviewer": {"experiments/create": 403, "registered-models/create": 403},
        "ml_engineer": {"experiments/create": 200, "registered-models/create": 200},
    }


def test_a_browser_without_credentials_gets_401(stack, browser: LoopbackBrowser) -> None:
    urls = [
        f"{stack.mlflow}/",
        f"{stack.mlflow}/ajax-api/2.0/mlflow/registered-models/search",
        f"{stack.reports}/governance/",
        f"{stack.reports}/data-docs/",
        f"{stack.airflow}/api/v2/dags",
    ]
    assert {url: anonymous_status(browser, url) for url in urls} == dict.fromkeys(urls, 401)
