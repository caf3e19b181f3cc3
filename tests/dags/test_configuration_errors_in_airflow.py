"""Under Airflow a configuration mistake shows on the DAG and fails its task at once: the DAG
files still import (so the DAG is there, with the mistake written on it), and the first task
fails with the one-line message, state failed after one try, instead of "Dag could not be found"
or minutes of retries with back-off, and no traceback is printed."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from creditlake.settings import PROJECT_ROOT, SettingsError, get_settings
from orchestration.common import RETRY_POLICY, ConfigurationExit, fail_on
from orchestration.runtime import DAGS_FOLDER
from tests.aws_env import NO_AWS

DAG_ID = "ingest__credit_bureau"
FIRST_TASK = "bureau_reports.wait_for_landing"
#: The teardown that renders the run's Data Docs (``orchestration.common.quality_docs_task``).
DOCS_TASK = "publish_quality_docs"


@pytest.fixture(scope="module")
def airflow_db() -> Path:
    """This worker's Airflow metadata DB, migrated (``airflow dags test`` records runs there)."""
    subprocess.run(
        [sys.executable, "-m", "airflow", "db", "migrate"], check=True, capture_output=True
    )
    return get_settings().airflow_home / "airflow.db"


def _task_states(db: Path, dag_id: str) -> dict[str, tuple[str, int]]:
    with sqlite3.connect(db) as con:
        (run_id,) = con.execute(
            "select run_id from dag_run where dag_id = ? order by id desc limit 1", (dag_id,)
        ).fetchone()
        rows = con.execute(
            "select task_id, state, try_number from task_instance where dag_id = ? and run_id = ?",
            (dag_id, run_id),
        ).fetchall()
    return {task_id: (state, tries) for task_id, state, tries in rows}


def test_a_dag_file_imports_with_a_wrong_setting_and_shows_it(
    airflow_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from airflow.dag_processing.dagbag import DagBag

    monkeypatch.setenv("CREDITLAKE_APR_CAP", "abc")
    bag = DagBag(dag_folder=str(DAGS_FOLDER / f"{DAG_ID}.py"))
    assert bag.import_errors == {}
    doc = bag.get_dag(DAG_ID).doc_md
    assert doc.startswith("**Configuration errors: every task of this DAG fails until")
    assert "- CREDITLAKE_APR_CAP='abc' is not a number; set it to a number between 0 and 1" in doc


def test_a_settings_error_inside_a_task_fails_it_without_retries() -> None:
    def load() -> None:
        raise SettingsError("the secret 'pii-key' is missing", "run `creditlake init-secrets`")

    with pytest.raises(ConfigurationExit) as raised:
        fail_on(ValueError)(load)()
    assert raised.value.code == (
        "configuration error: the secret 'pii-key' is missing; run `creditlake init-secrets`"
    )
    decision = RETRY_POLICY.evaluate(raised.value, try_number=1, max_tries=3)
    assert decision.action.value == "fail"
    # Any other failure keeps the task's retries.
    assert RETRY_POLICY.evaluate(OSError("disk"), try_number=1, max_tries=3).action.value == (
        "default"
    )


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        (
            {"CREDITLAKE_APR_CAP": "abc"},
            "configuration error: CREDITLAKE_APR_CAP='abc' is not a number; set it to a number "
            "between 0 and 1, or unset it for the default 0.24",
        ),
        (
            {"CREDITLAKE_SECRETS_DIR": "{tmp}/no-secrets-here"},
            "configuration error: the secret 'pii-key' is missing: no file "
            "{tmp}/no-secrets-here/pii-key (CREDITLAKE_SECRETS_DIR); run `creditlake "
            "init-secrets` to create one",
        ),
        (
            {"CREDITLAKE_HOME": "{tmp}/a-file/home"},
            "configuration error: CREDITLAKE_HOME: the folder {tmp}/a-file/home cannot be "
            "written (Not a directory); point CREDITLAKE_HOME at a folder this user can write to",
        ),
        (
            {**NO_AWS, "CREDITLAKE_LANDING_URI": "s3://a-bucket-that-does-not-exist"},
            "configuration error: CREDITLAKE_LANDING_URI=s3://a-bucket-that-does-not-exist is on "
            "S3 but no AWS credentials were found",
        ),
    ],
    ids=["unparsable value", "missing pii key", "unwritable home", "s3 without credentials"],
)
def test_airflow_dags_test_fails_the_first_task_at_once(
    env: dict[str, str], expected: str, airflow_db: Path, tmp_path: Path
) -> None:
    (tmp_path / "a-file").write_text("")  # a file where a folder should be: cannot be written
    environ = {name: value for name, value in os.environ.items() if not name.startswith("AWS_")}
    environ |= {name: value.format(tmp=tmp_path) for name, value in env.items()}
    done = subprocess.run(
        [sys.executable, "-m", "airflow", "dags", "test", DAG_ID, "2026-01-01"],
        cwd=PROJECT_ROOT,
        env=environ,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 1
    assert "could not be found" not in output
    assert "Traceback" not in output
    assert expected.format(tmp=tmp_path) in output
    states = _task_states(airflow_db, DAG_ID)
    assert states[FIRST_TASK] == ("failed", 1)  # failed on its first try: no up_for_retry
    # the run's Data Docs teardown runs whatever its upstream did, and stops on the same check
    assert states.pop(DOCS_TASK) == ("failed", 1)
    assert {state for task, (state, _) in states.items() if task != FIRST_TASK} == {
        "upstream_failed"
    }
