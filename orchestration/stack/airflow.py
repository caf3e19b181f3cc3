"""Airflow 3 in the stack: the api-server, scheduler, dag-processor and triggerer on PostgreSQL.

The components share one configuration, given as environment variables derived from settings
(nothing is written into ``airflow.cfg``): the LocalExecutor, the FAB auth manager (users and
roles in the metadata database, logins checked by Airflow itself), and, by the names of their
secrets only, the metadata database's URI, the Fernet key that encrypts connections and
variables, and the JWT secret with which the api-server signs the tokens that the scheduler's
workers and API clients present. Airflow reads those from creditlake's secrets backend
(``orchestration.secrets_backend``), so no secret is in any component's environment or command
line. The
execution API (how the LocalExecutor's task processes report back) is the api-server's, on
127.0.0.1.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from creditlake.secrets import put_secret, secrets_backend
from creditlake.settings import Settings
from orchestration.stack.accounts import StackSecrets
from orchestration.stack.mlflow import client_env as mlflow_client_env
from orchestration.stack.postgres import HOST, Cluster

SECRETS_BACKEND = "orchestration.secrets_backend.CreditlakeSecretsBackend"
FAB_AUTH_MANAGER = "airflow.providers.fab.auth_manager.fab_auth_manager.FabAuthManager"
#: The long-running components, in the order they start (the api-server last: its health
#: endpoint reports the others' heartbeats).
COMPONENTS = ("scheduler", "dag-processor", "triggerer", "api-server")
#: Task processes the LocalExecutor runs at once: Spark tasks take a core each on a laptop.
PARALLELISM = 4


def base_url(settings: Settings) -> str:
    return f"http://{HOST}:{settings.stack_airflow_port}"


#: Airflow's sensitive options, each read from the secret ``airflow/<name>`` through
#: ``orchestration.secrets_backend`` (option → secret name under the ``airflow/`` prefix).
SECRET_OPTIONS = {
    "AIRFLOW__CORE__FERNET_KEY_SECRET": "fernet_key",
    "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_SECRET": "sql_alchemy_conn",
    "AIRFLOW__API_AUTH__JWT_SECRET_SECRET": "jwt_secret",
    "AIRFLOW__API__SECRET_KEY_SECRET": "api_secret_key",
}


def store_database_uri(settings: Settings, secrets: StackSecrets, cluster: Cluster) -> None:
    """Keep the metadata database's URI (it holds the ``airflow`` role's password) among the
    secrets, rewritten at each ``up`` so that it follows the password and the port."""
    uri = cluster.uri("airflow", secrets.airflow_db_password, "airflow")
    if secrets_backend(settings).get("airflow/sql_alchemy_conn") != uri:
        put_secret(settings, "airflow/sql_alchemy_conn", uri)


def airflow_env(settings: Settings) -> dict[str, str]:
    """Airflow's configuration for every component of the stack (added to the runtime env).

    No secret value: the Fernet key, the database URI and the signing keys are names of secrets
    (``SECRET_OPTIONS``), which Airflow reads through its secrets backend, creditlake's.
    """
    url = base_url(settings)
    return {
        "AIRFLOW__SECRETS__BACKEND": SECRETS_BACKEND,
        **SECRET_OPTIONS,
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        "AIRFLOW__CORE__PARALLELISM": str(PARALLELISM),
        "AIRFLOW__CORE__AUTH_MANAGER": FAB_AUTH_MANAGER,
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "False",
        "AIRFLOW__API__HOST": HOST,
        "AIRFLOW__API__PORT": str(settings.stack_airflow_port),
        "AIRFLOW__API__WORKERS": "1",
        "AIRFLOW__API__BASE_URL": url,
        "AIRFLOW__API__EXPOSE_CONFIG": "False",
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{url}/execution/",
        # The tasks track to the stack's MLflow server as its pipeline account, and every DAG
        # runs when triggered (by the demo, or a data engineer), not on its timetable.
        **mlflow_client_env(settings),
        "CREDITLAKE_SCHEDULES": os.environ.get("CREDITLAKE_SCHEDULES", "false"),
    }


def _airflow() -> str:
    return str(Path(sys.executable).parent / "airflow")


def migrate(env: dict[str, str], cwd: Path) -> None:
    """Create or upgrade the metadata database (FAB's tables included: it is the auth manager)."""
    _run([_airflow(), "db", "migrate"], env, cwd, "airflow db migrate")


def ensure_accounts(env: dict[str, str], cwd: Path, secrets: StackSecrets) -> None:
    """Create the roles and users (``orchestration.stack.airflow_accounts``), passwords on stdin
    so that they appear in no command line and no environment."""
    _run(
        [sys.executable, "-m", "orchestration.stack.airflow_accounts"],
        env,
        cwd,
        "creating Airflow's roles and users",
        stdin=json.dumps(secrets.passwords),
    )


def _run(command: list[str], env: dict[str, str], cwd: Path, what: str, stdin: str = "") -> None:
    result = subprocess.run(
        command, env=env, cwd=cwd, input=stdin, capture_output=True, text=True, timeout=600
    )
    if result.returncode != 0:
        tail = "\n".join((result.stdout + result.stderr).strip().splitlines()[-20:])
        raise RuntimeError(f"{what} failed ({result.returncode}):\n{tail}")


def command(component: str, settings: Settings) -> list[str]:
    if component == "api-server":
        return [
            _airflow(), "api-server", "--host", HOST,
            "--port", str(settings.stack_airflow_port), "--workers", "1",
        ]  # fmt: skip
    if component in ("scheduler", "triggerer"):
        # Their log servers would listen on every interface (ports 8793 and 8794); the
        # api-server reads the task logs from the same folder anyway.
        return [_airflow(), component, "--skip-serve-logs"]
    return [_airflow(), component]


def health(settings: Settings) -> dict[str, str]:
    """Each component's status as the api-server reports it (``/api/v2/monitor/health``, the one
    endpoint open without a login): the database, and the scheduler's, triggerer's and
    dag-processor's latest heartbeats."""
    import requests

    try:
        response = requests.get(f"{base_url(settings)}/api/v2/monitor/health", timeout=5)
        report = response.json()
    except (requests.RequestException, ValueError) as error:
        return {"api-server": f"unreachable ({type(error).__name__})"}
    found = {"api-server": "healthy" if response.ok else f"HTTP {response.status_code}"}
    for name, key in (
        ("database", "metadatabase"),
        ("scheduler", "scheduler"),
        ("dag-processor", "dag_processor"),
        ("triggerer", "triggerer"),
    ):
        found[name] = (report.get(key) or {}).get("status") or "unknown"
    return found
