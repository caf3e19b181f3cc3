"""Each role in a browser: what it sees of real runs and models in the stack, what it may not do.

Headless Chromium (``browser_checks``) logs into the stack of ``conftest.stack`` as each user,
against data made in that stack by ``stack_facts``: a DAG run executed by the stack's own
scheduler and LocalExecutor, a model version registered in its MLflow by the ML engineer with
the ``champion`` alias, and the governance report and Data Docs built from that run. The fixture
returns only the facts to look for, so a fixture that runs the whole demo can replace it.

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
import requests
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

from creditlake.settings import PROJECT_ROOT

pytestmark = [pytest.mark.slow, pytest.mark.stack]

ROLES = ("admin", "data_engineer", "ml_engineer", "governance_reviewer")
#: The cheapest DAG that does real work: one source, Spark, the quality gate, the publish.
RUN_DAG = "ingest__credit_bureau"
#: Triggered from the UI, and left paused: a run it gets stays queued and executes nothing.
TRIGGER_DAG = "transform__warehouse"
MODEL = "credit_pd"
#: The dag-processor's first parse, then Spark's start and the gate on two busy cores.
PARSE_TIMEOUT_SECONDS = 300
RUN_TIMEOUT_SECONDS = 900


def _api(stack, username: str) -> requests.Session:
    token = requests.post(
        f"{stack.airflow}/auth/token",
        json={"username": username, "password": stack.password(username)},
        timeout=60,
    )
    assert token.status_code == 201, token.text
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token.json()['access_token']}"
    return session


def _until(what: str, found, timeout: float, stack, pause: float = 3):
    deadline = time.monotonic() + timeout
    while (value := found()) is None:
        assert time.monotonic() < deadline, f"{what} after {timeout} s\n{stack.logs()}"
        time.sleep(pause)
    return value


def _creditlake(stack, *args: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "orchestration.cli", *args],
        env=stack.env,
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, f"creditlake {' '.join(args)}:\n{result.stdout}{result.stderr}"


def _scheduled_run(stack, admin: requests.Session) -> dict:
    """Unpause the DAG; the scheduler then creates the run of the latest tick (catchup is off)."""

    def dag_known():
        got = admin.get(f"{stack.airflow}/api/v2/dags/{RUN_DAG}", timeout=60)
        return True if got.status_code == 200 else None

    _until(f"{RUN_DAG} never parsed", dag_known, PARSE_TIMEOUT_SECONDS, stack)
    unpaused = admin.patch(
        f"{stack.airflow}/api/v2/dags/{RUN_DAG}", json={"is_paused": False}, timeout=60
    )
    assert unpaused.status_code == 200, unpaused.text

    def scheduled():
        runs = admin.get(f"{stack.airflow}/api/v2/dags/{RUN_DAG}/dagRuns", timeout=60).json()
        return next((r for r in runs["dag_runs"] if r["run_type"] == "scheduled"), None)

    return _until("no scheduled run", scheduled, PARSE_TIMEOUT_SECONDS, stack)


def _register_champion(stack) -> str:
    """A tiny real sklearn model, logged and registered by the ML engineer, then made champion."""
    import mlflow
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MLFLOW_TRACKING_USERNAME", "ml_engineer")
        patch.setenv("MLFLOW_TRACKING_PASSWORD", stack.password("ml_engineer"))
        patch.setenv("MLFLOW_TRACKING_URI", stack.mlflow)
        mlflow.set_tracking_uri(stack.mlflow)
        mlflow.set_experiment("browser-checks")
        features = np.array([[0.0], [1.0], [2.0], [3.0]])
        with mlflow.start_run():
            model = LogisticRegression().fit(features, np.array([0, 0, 1, 1]))
            logged = mlflow.sklearn.log_model(
                model, name="model", registered_model_name=MODEL, input_example=features[:1]
            )
        version = str(logged.registered_model_version)
        client = mlflow.MlflowClient(tracking_uri=stack.mlflow)
        client.set_registered_model_alias(MODEL, "champion", version)
        assert client.get_model_version_by_alias(MODEL, "champion").version == version
        mlflow.set_tracking_uri(None)
    return version


@pytest.fixture(scope="module")
def stack_facts(stack) -> StackFacts:
    """Real work in the stack: one scheduled ingest run, one champion, the reports built."""
    _creditlake(stack, "init-secrets")  # the PII key the ingest tokenises with
    admin = _api(stack, "admin")
    run = _scheduled_run(stack, admin)
    as_of_date = dt.date.fromisoformat(run["data_interval_start"][:10])
    # The run's landing file, written after the run exists: its sensor finds it at a later poke.
    _creditlake(
        stack, "generate", "--customers", "200", "--behaviour-events", "5000", "--days", "0",
        "--defect-rate", "0", "--late-source", "", "--extract-date", as_of_date.isoformat(),
    )  # fmt: skip
    version = _register_champion(stack)
    url = f"{stack.airflow}/api/v2/dags/{RUN_DAG}/dagRuns/{run['dag_run_id']}"

    def finished():
        state = admin.get(url, timeout=60).json()["state"]
        return state if state in ("success", "failed") else None

    state = _until("the run did not finish", finished, RUN_TIMEOUT_SECONDS, stack, pause=10)
    assert state == "success", stack.logs()
    # Paused again: no further scheduled run while the browser looks.
    admin.patch(f"{stack.airflow}/api/v2/dags/{RUN_DAG}", json={"is_paused": True}, timeout=60)
    _creditlake(stack, "report")
    return StackFacts(
        dag_id=RUN_DAG,
        run_ids=(run["dag_run_id"],),
        model_name=MODEL,
        champion_version=version,
        report_date=as_of_date.isoformat(),
        data_docs_suite="bronze_bureau_reports",
    )


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
    admin = _api(stack, "admin")
    return admin.get(f"{stack.airflow}/api/v2/dags/{dag_id}/dagRuns", timeout=60).json()["dag_runs"]


def _is_paused(stack, dag_id: str) -> bool:
    admin = _api(stack, "admin")
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
    """The UI's trigger dialog also unpauses the DAG (its "unpause on trigger" default): pause it
    again and remove the runs it made, so the warehouse DAG never executes on an empty lake."""
    admin = _api(stack, "admin")
    dag = f"{stack.airflow}/api/v2/dags/{TRIGGER_DAG}"
    assert admin.patch(dag, json={"is_paused": True}, timeout=60).status_code == 200
    for run in _runs(stack, TRIGGER_DAG):
        if run["dag_run_id"] in before:
            continue
        url = f"{dag}/dagRuns/{run['dag_run_id']}"
        if run["state"] != "queued":  # a running run must stop before it can be deleted
            admin.patch(url, json={"state": "failed"}, timeout=60)
        removed = admin.delete(url, timeout=60)
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
