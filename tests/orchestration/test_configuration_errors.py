"""A configuration mistake gets one line and exit status 2 from the CLI and from the Spark job,
never a traceback, and fails an Airflow task's own check with the same line and no retry: a wrong
type for every numeric setting, and each mistake a new user makes (a missing key, a home that
cannot be written, S3 without credentials or bucket, a catalog that cannot be opened).

The Airflow side here is the ingest task's ``pre_execute`` taken from the parsed DAG (cheap, so it
runs for every setting); ``tests/dags/test_configuration_errors_in_airflow.py`` shows the same
check failing whole ``airflow dags test`` runs, state failed after one try."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import pytest

from creditlake.settings import NUMBERS, PROJECT_ROOT
from orchestration import cli
from orchestration.common import ConfigurationExit
from orchestration.runtime import DAGS_FOLDER
from spark_jobs import ingest
from tests.aws_env import NO_AWS

JOB = [sys.executable, "-m", "spark_jobs.ingest", "--source", "bureau_reports"]
JOB_ARGS = ["--source", "bureau_reports", "--as-of-date", "2026-01-01"]


@pytest.fixture(scope="module")
def airflow_task() -> Any:
    """The bureau ingest's first task as Airflow parses it, with the default configuration."""
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(DAGS_FOLDER / "ingest__credit_bureau.py"))
    return bag.dags["ingest__credit_bureau"].get_task("bureau_reports.wait_for_landing")


def run_task_check(task: Any) -> str:
    """What the task's configuration check (its ``pre_execute`` hook, which Airflow's task runner
    calls before ``execute``) fails it with: :class:`ConfigurationExit`, so no retry and no
    traceback."""
    with pytest.raises(ConfigurationExit) as failed:
        task._pre_execute_hook({})
    return str(failed.value.code)


def run_cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    with pytest.raises(SystemExit) as exited:
        cli.main(argv)
    return exited.value.code, capsys.readouterr().err


def run_job(capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    status = ingest.cli(JOB_ARGS)
    return status, capsys.readouterr().err


@pytest.mark.parametrize("spec", NUMBERS, ids=lambda spec: spec.env)
def test_a_wrong_type_is_one_line_from_the_cli_the_spark_job_and_an_airflow_task(
    spec, airflow_task: Any, creditlake_home: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    monkeypatch.setenv(spec.env, "1.5x")
    monkeypatch.setenv("CREDITLAKE_INGEST_ENGINE", "spark")
    kind = "an integer" if isinstance(spec.default, int) else "a number"
    problem = f"configuration error: {spec.env}='1.5x' is not {kind}; set it to"
    status, err = run_cli(["env"], capsys)
    assert (status, err.startswith(f"creditlake: {problem}"), err.count("\n")) == (2, True, 1)
    status, err = run_job(capsys)
    assert status == 2
    assert err.startswith(f"python -m spark_jobs.ingest: {problem}") and err.count("\n") == 1
    line = run_task_check(airflow_task)
    assert line.startswith(problem) and "\n" not in line


def _unwritable_home(home: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    blocker = home.parent / "a-file"
    blocker.write_text("")
    monkeypatch.setenv("CREDITLAKE_HOME", str(blocker / "home"))
    return f"CREDITLAKE_HOME: the folder {blocker / 'home'} cannot be written (Not a directory)"


def _s3_without_credentials(home: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    for name, value in NO_AWS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("CREDITLAKE_LANDING_URI", "s3://a-bucket-that-does-not-exist")
    return (
        "CREDITLAKE_LANDING_URI=s3://a-bucket-that-does-not-exist is on S3 but no AWS "
        "credentials were found"
    )


def _catalog_that_cannot_be_opened(home: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("CREDITLAKE_CATALOG_URI", "postgresql+psycopg2://lake@127.0.0.1:9/lake")
    return "the lake catalog cannot be opened (CREDITLAKE_CATALOG_URI=postgresql"


#: Each mistake, and a CLI command that needs what it breaks.
MISTAKES: dict[str, tuple[Callable[[Path, pytest.MonkeyPatch], str], list[str]]] = {
    "unwritable home": (_unwritable_home, ["summary"]),
    "s3 without credentials": (_s3_without_credentials, ["generate", "--customers", "10"]),
    "catalog cannot be opened": (_catalog_that_cannot_be_opened, ["summary"]),
}


@pytest.mark.parametrize("mistake", sorted(MISTAKES))
def test_each_mistake_is_one_line_from_the_cli_the_spark_job_and_an_airflow_task(
    mistake: str, airflow_task: Any, creditlake_home: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    make, argv = MISTAKES[mistake]
    expected = make(creditlake_home, monkeypatch)
    status, err = run_cli(argv, capsys)
    assert status == 2 and err.count("\n") == 1
    assert err.startswith(f"creditlake: configuration error: {expected}")
    status, err = run_job(capsys)
    assert status == 2 and err.count("\n") == 1
    assert err.startswith(f"python -m spark_jobs.ingest: configuration error: {expected}")
    line = run_task_check(airflow_task)
    assert line.startswith(f"configuration error: {expected}") and "\n" not in line


def test_the_job_names_a_missing_pii_key_and_a_missing_bucket(
    creditlake_home: Path, moto_endpoint: str, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    monkeypatch.setenv("CREDITLAKE_SECRETS_DIR", str(creditlake_home / "elsewhere"))
    status, err = run_job(capsys)
    assert (status, err.count("\n")) == (2, 1)
    assert "the secret 'pii-key' is missing" in err and "creditlake init-secrets" in err
    monkeypatch.delenv("CREDITLAKE_SECRETS_DIR")
    monkeypatch.setenv("CREDITLAKE_S3_ENDPOINT_URL", moto_endpoint)
    boto3.client("s3", endpoint_url=moto_endpoint).create_bucket(Bucket="landing")
    monkeypatch.setenv("CREDITLAKE_LANDING_URI", "s3://a-bucket-that-does-not-exist")
    status, err = run_job(capsys)
    assert (status, err.count("\n")) == (2, 1)
    assert "the bucket 'a-bucket-that-does-not-exist' does not exist" in err


@pytest.mark.parametrize(
    ("command", "env", "expected"),
    [
        (["creditlake", "summary"], {"CREDITLAKE_HOME": "{blocked}/home"}, "CREDITLAKE_HOME: "),
        (
            [*JOB, "--as-of-date", "2026-01-01"],
            {**NO_AWS, "CREDITLAKE_LANDING_URI": "s3://a-bucket-that-does-not-exist"},
            "CREDITLAKE_LANDING_URI=s3://a-bucket-that-does-not-exist is on S3",
        ),
    ],
    ids=["cli", "spark job"],
)
def test_no_traceback_reaches_the_terminal(
    command: list[str], env: dict[str, str], expected: str, creditlake_home: Path
) -> None:
    """As a user runs them: a process of its own, its whole output read."""
    blocked = creditlake_home.parent / "a-file"
    blocked.write_text("")
    environ = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    environ |= {name: value.format(blocked=blocked) for name, value in env.items()}
    executable = [str(Path(sys.executable).parent / command[0]), *command[1:]]
    done = subprocess.run(
        executable if command[0] == "creditlake" else command,
        cwd=PROJECT_ROOT,
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 2
    assert "Traceback" not in done.stderr + done.stdout
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and f"configuration error: {expected}" in lines[0]


def test_java_missing_stops_the_demo_and_the_spark_job_in_one_line(
    creditlake_home: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    monkeypatch.setenv("PATH", str(creditlake_home / "no-java-here"))
    monkeypatch.setenv("CREDITLAKE_INGEST_ENGINE", "spark")
    expected = "configuration error: Java was not found (Spark needs Java 17 or later); install it"
    status, err = run_cli(["demo", "--customers", "10"], capsys)
    assert (status, err.count("\n")) == (2, 1) and err.startswith(f"creditlake: {expected}")
    status, err = run_job(capsys)
    assert (status, err.count("\n")) == (2, 1)
    assert err.startswith(f"python -m spark_jobs.ingest: {expected}")
