"""Helpers of the stack tests: free ports, the stack's environment, and a handle on it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import requests

from creditlake.settings import PROJECT_ROOT

#: ``stack up`` on two busy cores: PostgreSQL, Airflow's migration, six servers.
UP_TIMEOUT_SECONDS = 420


def free_ports(count: int) -> list[int]:
    """Ports free right now (held together while choosing, so they differ)."""
    probes = [socket.socket() for _ in range(count)]
    try:
        for probe in probes:
            probe.bind(("127.0.0.1", 0))
        return [probe.getsockname()[1] for probe in probes]
    finally:
        for probe in probes:
            probe.close()


@dataclass
class RunningStack:
    home: Path
    env: dict[str, str]
    up_output: str
    airflow: str
    mlflow: str
    reports: str

    @property
    def stack_dir(self) -> Path:
        return self.home / "stack"

    def password(self, username: str) -> str:
        return (self.home / "secrets" / "users" / username).read_text().strip()

    def cli(self, *args: str, timeout: float = UP_TIMEOUT_SECONDS) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "orchestration.cli", "stack", *args],
            env=self.env,
            cwd=PROJECT_ROOT,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def logs(self) -> str:
        """The end of every service's log, for the message of a failed assertion."""
        parts = []
        for log in sorted((self.stack_dir / "logs").glob("*.log")):
            tail = log.read_text(errors="replace").splitlines()[-25:]
            parts.append(f"--- {log.name}\n" + "\n".join(tail))
        return "\n".join(parts)


def stack_env(home: Path) -> tuple[dict[str, str], list[int]]:
    ports = free_ports(4)
    env = {**os.environ, "CREDITLAKE_HOME": str(home)}
    env.pop("MLFLOW_TRACKING_URI", None)
    env.pop("AIRFLOW_HOME", None)  # derived from CREDITLAKE_HOME by the stack
    for name, port in zip(("POSTGRES", "AIRFLOW", "MLFLOW", "REPORTS"), ports, strict=True):
        env[f"CREDITLAKE_STACK_{name}_PORT"] = str(port)
    return env, ports


def airflow_token(stack, username: str, password: str | None = None) -> requests.Response:
    return requests.post(
        f"{stack.airflow}/auth/token",
        json={"username": username, "password": password or stack.password(username)},
        timeout=60,
    )


def airflow_as(stack, username: str) -> requests.Session:
    response = airflow_token(stack, username)
    assert response.status_code == 201, response.text
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {response.json()['access_token']}"
    return session
