"""The local stack behind its logins: who gets in, who may do what, and that ``down`` stops all.

One stack for the module (``conftest.stack``): its Airflow api-server, MLflow server and report
server are asked over HTTP as an anonymous client, with wrong passwords, and as each role. The
DAG triggered is the credit bureau ingest: new DAGs are paused, so its run stays queued and
nothing executes.
"""

from __future__ import annotations

import json
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from stack_helpers import airflow_as, airflow_token

from creditlake.secrets import LocalSecrets
from creditlake.settings import PROJECT_ROOT
from orchestration.stack.processes import marked_processes

pytestmark = [pytest.mark.slow, pytest.mark.stack]

DAG_ID = "ingest__credit_bureau"
ROLES = ("admin", "data_engineer", "ml_engineer", "governance_reviewer")
#: The dag-processor parses every DAG file after it starts; a few busy cores take a while.
DAG_PARSE_TIMEOUT_SECONDS = 300


def mlflow_as(stack, username: str) -> requests.Session:
    session = requests.Session()
    session.auth = (username, stack.password(username))
    return session


def trigger(session: requests.Session, stack) -> requests.Response:
    return session.post(
        f"{stack.airflow}/api/v2/dags/{DAG_ID}/dagRuns", json={"logical_date": None}, timeout=30
    )


@pytest.fixture(scope="module")
def dag_parsed(stack) -> None:
    """Wait until the dag-processor has written the DAG to the metadata database."""
    session = airflow_as(stack, "governance_reviewer")
    deadline = time.monotonic() + DAG_PARSE_TIMEOUT_SECONDS
    while True:
        response = session.get(f"{stack.airflow}/api/v2/dags/{DAG_ID}", timeout=30)
        if response.status_code == 200:
            return
        assert time.monotonic() < deadline, f"{DAG_ID} never parsed:\n{stack.logs()}"
        time.sleep(3)


def test_up_reports_every_service_healthy_and_prints_the_urls(stack) -> None:
    for url in (stack.airflow, stack.mlflow, f"{stack.reports}/governance/"):
        assert url in stack.up_output
    assert str(stack.home / "secrets" / "users") in stack.up_output
    status = stack.cli("status", timeout=120)
    assert status.returncode == 0, status.stdout + status.stderr
    states = dict(line.split(None, 1) for line in status.stdout.splitlines() if "http" not in line)
    assert states == {
        "postgres": "running",
        "airflow-scheduler": "healthy",
        "airflow-dag-processor": "healthy",
        "airflow-triggerer": "healthy",
        "airflow-api-server": "healthy",
        "mlflow": "healthy",
        "reports": "healthy",
    }


def test_passwords_are_generated_per_user_and_readable_only_by_their_owner(stack) -> None:
    users = stack.home / "secrets" / "users"
    assert stat.S_IMODE((stack.home / "secrets").stat().st_mode) == 0o700
    passwords = {}
    for role in ROLES:
        assert stat.S_IMODE((users / role).stat().st_mode) == 0o600
        passwords[role] = stack.password(role)
    assert len(set(passwords.values())) == len(ROLES)
    assert all(len(p) >= 16 and p not in ("admin", role) for role, p in passwords.items())


def test_anonymous_requests_get_401_where_the_open_health_checks_answer(stack) -> None:
    # The health routes answer without a login: the 401s below come from live servers.
    assert requests.get(f"{stack.airflow}/api/v2/monitor/health", timeout=30).status_code == 200
    assert requests.get(f"{stack.mlflow}/health", timeout=30).status_code == 200
    assert requests.get(f"{stack.reports}/healthz", timeout=30).status_code == 200
    anonymous = {
        f"{stack.airflow}/api/v2/dags": 401,
        f"{stack.airflow}/api/v2/dags/{DAG_ID}/dagRuns": 401,
        f"{stack.mlflow}/api/2.0/mlflow/experiments/search?max_results=5": 401,
        f"{stack.mlflow}/api/2.0/mlflow/registered-models/search": 401,
        f"{stack.reports}/": 401,
        f"{stack.reports}/governance/": 401,
    }
    got = {url: requests.get(url, timeout=30).status_code for url in anonymous}
    assert got == anonymous
    response = requests.post(
        f"{stack.airflow}/api/v2/dags/{DAG_ID}/dagRuns", json={"logical_date": None}, timeout=30
    )
    assert response.status_code == 401


@pytest.mark.parametrize("username", ["admin", "data_engineer", "governance_reviewer"])
def test_wrong_passwords_are_refused_by_every_service(stack, username: str) -> None:
    wrong = stack.password(username) + "0"  # a near miss: the right password and one more
    assert airflow_token(stack, username, wrong).status_code == 401
    assert airflow_token(stack, username).status_code == 201
    url = f"{stack.mlflow}/api/2.0/mlflow/experiments/search?max_results=5"
    assert requests.get(url, auth=(username, wrong), timeout=30).status_code == 401
    assert requests.get(url, auth=(username, stack.password(username)), timeout=30).ok
    assert requests.get(f"{stack.reports}/", auth=(username, wrong), timeout=30).status_code == 401
    page = requests.get(f"{stack.reports}/", auth=(username, stack.password(username)), timeout=30)
    assert page.status_code == 200 and "Governance report" in page.text


def test_default_credentials_get_nowhere(stack) -> None:
    assert airflow_token(stack, "admin", "admin").status_code == 401
    assert airflow_token(stack, "airflow", "airflow").status_code == 401
    url = f"{stack.mlflow}/api/2.0/mlflow/experiments/search?max_results=5"
    for user, password in (("admin", "password1234"), ("admin", "admin")):
        assert requests.get(url, auth=(user, password), timeout=30).status_code == 401


def test_the_reviewer_and_the_ml_engineer_cannot_trigger_and_the_data_engineer_can(
    stack, dag_parsed
) -> None:
    for username in ("governance_reviewer", "ml_engineer"):
        session = airflow_as(stack, username)
        assert session.get(f"{stack.airflow}/api/v2/dags/{DAG_ID}", timeout=30).status_code == 200
        assert trigger(session, stack).status_code == 403, username
    engineer = airflow_as(stack, "data_engineer")
    response = trigger(engineer, stack)
    assert response.status_code == 200, response.text
    run_id = response.json()["dag_run_id"]
    runs = engineer.get(f"{stack.airflow}/api/v2/dags/{DAG_ID}/dagRuns", timeout=30).json()
    assert [run["dag_run_id"] for run in runs["dag_runs"]] == [run_id]
    # The reviewer sees the run it could not have started.
    reviewer = airflow_as(stack, "governance_reviewer")
    seen = reviewer.get(f"{stack.airflow}/api/v2/dags/{DAG_ID}/dagRuns/{run_id}", timeout=30)
    assert seen.status_code == 200 and seen.json()["run_type"] == "manual"


def test_the_ml_engineer_registers_a_model_version_and_the_reviewer_gets_403(stack) -> None:
    api = f"{stack.mlflow}/api/2.0/mlflow"
    engineer = mlflow_as(stack, "ml_engineer")
    experiment = engineer.post(f"{api}/experiments/create", json={"name": "stack-test"}, timeout=30)
    assert experiment.status_code == 200, experiment.text
    run = engineer.post(
        f"{api}/runs/create",
        json={"experiment_id": experiment.json()["experiment_id"], "start_time": 0},
        timeout=30,
    ).json()["run"]["info"]
    created = engineer.post(
        f"{api}/registered-models/create", json={"name": "credit_pd"}, timeout=30
    )
    assert created.status_code == 200, created.text
    version = {
        "name": "credit_pd",
        "source": f"{run['artifact_uri']}/model",
        "run_id": run["run_id"],
    }
    first = engineer.post(f"{api}/model-versions/create", json=version, timeout=30)
    assert first.status_code == 200, first.text

    reviewer = mlflow_as(stack, "governance_reviewer")
    refused = reviewer.post(f"{api}/model-versions/create", json=version, timeout=30)
    assert refused.status_code == 403, refused.text
    alias = reviewer.post(
        f"{api}/registered-models/alias",
        json={"name": "credit_pd", "alias": "champion", "version": "1"},
        timeout=30,
    )
    assert alias.status_code == 403, alias.text
    # Nor can the reviewer create an experiment or a registered model of its own.
    for path, name in (("experiments/create", "by-reviewer"), ("registered-models/create", "mine")):
        created = reviewer.post(f"{api}/{path}", json={"name": name}, timeout=30)
        assert created.status_code == 403, (path, created.text)
    # Read-only is still read: the reviewer sees the one version the engineer registered.
    versions = reviewer.get(
        f"{api}/model-versions/search", params={"filter": "name='credit_pd'"}, timeout=30
    )
    assert versions.status_code == 200
    assert [v["version"] for v in versions.json()["model_versions"]] == ["1"]


def test_the_ml_engineer_writes_on_models_someone_else_registered(stack) -> None:
    """The role's grants cover every model, such as those the pipeline registers later."""
    api = f"{stack.mlflow}/api/2.0/mlflow"
    admin = mlflow_as(stack, "admin")
    assert admin.post(f"{api}/registered-models/create", json={"name": "fraud"}).ok
    engineer = mlflow_as(stack, "ml_engineer")
    described = engineer.patch(
        f"{api}/registered-models/update",
        json={"name": "fraud", "description": "anti-fraud, first-payment default"},
        timeout=30,
    )
    assert described.status_code == 200, described.text
    data_engineer = mlflow_as(stack, "data_engineer")
    read = data_engineer.get(f"{api}/registered-models/get", params={"name": "fraud"}, timeout=30)
    assert read.json()["registered_model"]["description"] == "anti-fraud, first-payment default"
    refused = data_engineer.patch(
        f"{api}/registered-models/update", json={"name": "fraud", "description": "x"}, timeout=30
    )
    assert refused.status_code == 403


#: MLflow 3 takes the Flask key of its CSRF tokens only from its environment (and passes it to its
#: workers there): the one secret allowed in an environment, and only in MLflow's processes.
MLFLOW_ENVIRONMENT_ONLY = "mlflow/flask_secret_key"
#: Resolves a connection the way Airflow's CLI does, in the environment of the stack's Airflow.
CONNECTION_GET = """
import os, sys
from pathlib import Path
from creditlake.settings import get_settings
from orchestration.stack.stack import airflow_process_env
airflow = str(Path(sys.executable).parent / "airflow")
os.execve(airflow, [airflow, "connections", "get", sys.argv[1], "-o", "json"],
          airflow_process_env(get_settings()))
"""


def airflow_connection(stack, conn_id: str) -> dict:
    result = subprocess.run(
        [sys.executable, "-c", CONNECTION_GET, conn_id],
        env=stack.env, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    [found] = json.loads(result.stdout[result.stdout.index("[") :])
    return found


def test_airflow_resolves_connections_from_the_backend_and_decrypts_its_own(stack) -> None:
    secrets = LocalSecrets(stack.home / "secrets")
    secrets.put(
        "airflow/connections/bureau_probe",
        json.dumps({"conn_type": "http", "host": "bureau.example", "password": "pw-0123456789"}),
    )
    admin = airflow_as(stack, "admin")
    created = admin.post(
        f"{stack.airflow}/api/v2/connections",
        json={
            "connection_id": "metastore_probe", "conn_type": "http", "host": "api.example",
            "login": "probe", "password": "pw-stored-encrypted-0123",
        },
        timeout=30,
    )  # fmt: skip
    assert created.status_code == 201, created.text
    # The api-server encrypted it with the Fernet key from the backend; the CLI decrypts it
    # with the same key only if both read it from there.
    stored = airflow_connection(stack, "metastore_probe")
    assert (stored["host"], stored["login"], stored["password"]) == (
        "api.example", "probe", "pw-stored-encrypted-0123",
    )  # fmt: skip
    probe = airflow_connection(stack, "bureau_probe")
    assert (probe["conn_type"], probe["host"], probe["password"]) == (
        "http", "bureau.example", "pw-0123456789",
    )  # fmt: skip
    listed = admin.get(f"{stack.airflow}/api/v2/connections/metastore_probe", timeout=30)
    assert listed.status_code == 200 and listed.json()["host"] == "api.example"


def test_no_secret_is_in_any_process_environment_or_command_line(stack, dag_parsed) -> None:
    folder = stack.home / "secrets"
    values = {
        str(path.relative_to(folder)): path.read_text().strip()
        for path in folder.rglob("*")
        if path.is_file()
    }
    assert {"postgres/airflow", "airflow/fernet_key", "airflow/sql_alchemy_conn"} <= set(values)
    pids = marked_processes(stack.stack_dir)
    assert len(pids) >= 6, "four Airflow components, MLflow and the report server at least"
    leaks = []
    for pid in pids:
        try:
            environ = Path(f"/proc/{pid}/environ").read_bytes()
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except (FileNotFoundError, ProcessLookupError):
            continue  # a short-lived child ended meanwhile
        is_mlflow = b"\0PGPASSFILE=" in environ
        for name, value in values.items():
            if value.encode() in cmdline:
                leaks.append((pid, name, "cmdline", cmdline.replace(b"\0", b" ")[:120]))
            if value.encode() in environ and not (is_mlflow and name == MLFLOW_ENVIRONMENT_ONLY):
                leaks.append((pid, name, "environ", cmdline.replace(b"\0", b" ")[:120]))
    assert leaks == []


def test_down_stops_every_process_and_removes_the_pid_files(stack) -> None:
    run_dir = stack.stack_dir / "run"
    pids = [int(p.read_text().split()[0]) for p in run_dir.glob("*.pid")]
    assert len(pids) == 6  # four Airflow components, MLflow, the report server
    postgres_pid = int(
        (stack.stack_dir / "postgres" / "data" / "postmaster.pid").read_text().split()[0]
    )
    assert marked_processes(stack.stack_dir), "the services carry the stack's marker"

    result = stack.cli("down", timeout=180)
    assert result.returncode == 0, result.stdout + result.stderr
    assert list(run_dir.glob("*.pid")) == []
    assert not (stack.stack_dir / "postgres" / "data" / "postmaster.pid").exists()
    alive = [pid for pid in [*pids, postgres_pid] if _alive(pid)]
    assert alive == []
    assert marked_processes(stack.stack_dir) == []
    status = stack.cli("status", timeout=120)
    assert status.returncode == 1
    assert "healthy" not in status.stdout


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"
