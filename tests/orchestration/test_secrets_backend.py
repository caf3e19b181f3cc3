"""Airflow resolves connections, variables and ``*_secret`` options through creditlake's backend.

Each case runs Airflow in a fresh process (Airflow reads its configuration once, at import) with
nothing but the backend's name and the ``_SECRET`` options in its environment, and asks Airflow's
own ``conf``, ``Connection`` and ``Variable``: what a scheduler or a task would ask.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from creditlake.secrets import put_secret
from creditlake.settings import PROJECT_ROOT, get_settings

BACKEND = "orchestration.secrets_backend.CreditlakeSecretsBackend"

PROBE = """
import json
from airflow.configuration import conf
from airflow.exceptions import AirflowNotFoundException
from airflow.models import Connection, Variable

found = {
    "fernet_key": conf.get("core", "fernet_key"),
    "sql_alchemy_conn": conf.get("database", "sql_alchemy_conn"),
    "jwt_secret": conf.get("api_auth", "jwt_secret"),
}
json_conn = Connection.get_connection_from_secrets("warehouse")
uri_conn = Connection.get_connection_from_secrets("bureau_api")
found["json_conn"] = [json_conn.conn_type, json_conn.host, json_conn.login, json_conn.password]
found["uri_conn"] = [uri_conn.conn_type, uri_conn.host, uri_conn.port, uri_conn.password]
found["variable"] = Variable.get("psi_threshold")
try:
    Connection.get_connection_from_secrets("nowhere")
    found["missing"] = "found"
except AirflowNotFoundException:
    found["missing"] = "not found"
print("RESULT " + json.dumps(found))
"""


@pytest.fixture(params=["local", "aws"])
def backend_env(request: pytest.FixtureRequest, creditlake_home: Path, monkeypatch) -> dict:
    """creditlake's settings on one backend, as the environment of an Airflow process."""
    if request.param == "aws":
        monkeypatch.setenv("AWS_ENDPOINT_URL", request.getfixturevalue("moto_endpoint"))
        monkeypatch.setenv("CREDITLAKE_SECRETS_BACKEND", "aws")
        monkeypatch.setenv("CREDITLAKE_SECRETS_PREFIX", f"test-{creditlake_home.parent.name}")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW__DATABASE__")}
    env["AIRFLOW_HOME"] = str(creditlake_home / "airflow")
    env["PYTHONPATH"] = str(PROJECT_ROOT)
    return env


def test_airflow_reads_its_config_connections_and_variables_from_the_backend(
    backend_env: dict, creditlake_home: Path
) -> None:
    settings = get_settings()
    fernet_key = Fernet.generate_key().decode()
    database = f"sqlite:///{creditlake_home / 'airflow.db'}"
    put_secret(settings, "airflow/fernet_key", fernet_key)
    put_secret(settings, "airflow/sql_alchemy_conn", database)
    put_secret(settings, "airflow/jwt_secret", "jwt-from-the-backend-0123456789")
    put_secret(
        settings,
        "airflow/connections/warehouse",
        json.dumps({"conn_type": "postgres", "host": "db.internal", "login": "etl",
                    "password": "pw-json-0123456789"}),
    )  # fmt: skip
    put_secret(
        settings, "airflow/connections/bureau_api", "https://:pw-uri-0123456789@bureau.example:8443"
    )
    put_secret(settings, "airflow/variables/psi_threshold", "0.25")
    env = {
        **backend_env,
        "AIRFLOW__SECRETS__BACKEND": BACKEND,
        "AIRFLOW__CORE__FERNET_KEY_SECRET": "fernet_key",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_SECRET": "sql_alchemy_conn",
        "AIRFLOW__API_AUTH__JWT_SECRET_SECRET": "jwt_secret",
    }
    result = subprocess.run(
        [sys.executable, "-c", PROBE],
        env=env,
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    lines = [line for line in result.stdout.splitlines() if line.startswith("RESULT ")]
    assert result.returncode == 0 and lines, result.stdout + result.stderr
    assert json.loads(lines[-1].removeprefix("RESULT ")) == {
        "fernet_key": fernet_key,
        "sql_alchemy_conn": database,
        "jwt_secret": "jwt-from-the-backend-0123456789",
        "json_conn": ["postgres", "db.internal", "etl", "pw-json-0123456789"],
        "uri_conn": ["https", "bureau.example", 8443, "pw-uri-0123456789"],
        "variable": "0.25",
        "missing": "not found",
    }
