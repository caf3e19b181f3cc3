"""``stack up``, ``stack down`` and ``stack status``: the services in order, with health checks.

``up`` is idempotent: it reads (or generates) the secrets, starts what is not running, brings
the databases, users and roles in line with the secret files, and waits until every service
answers its health check, then prints the URLs. MLflow and the report server start first, so
that they boot while Airflow migrates its database. ``down`` stops the services in reverse,
then sweeps for any process still marked with this stack (a task process that left its group).
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from creditlake.settings import PROJECT_ROOT, Settings
from orchestration.runtime import runtime_env
from orchestration.stack import airflow, mlflow, reports
from orchestration.stack.accounts import PEOPLE, StackSecrets
from orchestration.stack.postgres import HOST, Cluster
from orchestration.stack.processes import MARKER, Service, kill_marked, stop_all

#: How long ``up`` waits for every service to be healthy.
UP_TIMEOUT_SECONDS = 300


@dataclass(frozen=True)
class Layout:
    """The stack's folders and its long-running services (PostgreSQL runs under pg_ctl)."""

    settings: Settings

    @property
    def root(self) -> Path:
        return self.settings.stack_dir

    def service(self, name: str) -> Service:
        return Service(name, self.root / "run", self.root / "logs")

    @property
    def services(self) -> list[Service]:
        names = [f"airflow-{c}" for c in airflow.COMPONENTS] + ["mlflow", "reports"]
        return [self.service(name) for name in names]

    def cluster(self, env: dict[str, str], password: str = "") -> Cluster:
        return Cluster(self.root / "postgres", self.settings.stack_postgres_port, env, password)


def _base_env(settings: Settings) -> dict[str, str]:
    env = {**os.environ, **runtime_env(settings), MARKER: str(settings.stack_dir)}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PROJECT_ROOT), env.get("PYTHONPATH")]))
    return env


def airflow_process_env(settings: Settings) -> dict[str, str]:
    """The environment of every Airflow process of the stack (its CLI too)."""
    return {**_base_env(settings), **airflow.airflow_env(settings)}


def _port_taken(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex((HOST, port)) == 0


def _check_ports(layout: Layout) -> None:
    """A port held by something else would make a service die at start with an obscure log."""
    settings = layout.settings
    wanted = {
        "CREDITLAKE_STACK_AIRFLOW_PORT": (settings.stack_airflow_port, "airflow-api-server"),
        "CREDITLAKE_STACK_MLFLOW_PORT": (settings.stack_mlflow_port, "mlflow"),
        "CREDITLAKE_STACK_REPORTS_PORT": (settings.stack_reports_port, "reports"),
    }
    for variable, (port, name) in wanted.items():
        if layout.service(name).pid() is None and _port_taken(port):
            raise SystemExit(
                f"port {port} on {HOST} is in use by another program: stop it, or choose "
                f"another port with {variable}"
            )
    cluster = layout.cluster({})
    if not (cluster.data / "postmaster.pid").is_file() and _port_taken(cluster.port):
        raise SystemExit(
            f"port {cluster.port} on {HOST} is in use by another program: stop it, or choose "
            "another port with CREDITLAKE_STACK_POSTGRES_PORT"
        )


def urls(settings: Settings) -> dict[str, str]:
    reports_url = f"http://{HOST}:{settings.stack_reports_port}"
    return {
        "Airflow": airflow.base_url(settings),
        "MLflow": mlflow.base_url(settings),
        "Governance report": f"{reports_url}/governance/",
        "Data Docs": f"{reports_url}/data-docs/",
        "dbt docs": f"{reports_url}/dbt-docs/static_index.html",
    }


def reports_health(settings: Settings) -> str:
    import requests

    try:
        response = requests.get(
            f"http://{HOST}:{settings.stack_reports_port}{reports.HEALTH_PATH}", timeout=5
        )
    except requests.RequestException as error:
        return f"unreachable ({type(error).__name__})"
    return "healthy" if response.ok else f"HTTP {response.status_code}"


def _wait(what: str, healthy: Callable[[], bool], services: list[Service], deadline: float) -> None:
    while not healthy():
        for service in services:
            why = service.exited_early()
            if why is not None:
                raise SystemExit(
                    f"{service.name} stopped while starting; {service.log_file}:\n{why}"
                )
        if time.monotonic() > deadline:
            raise SystemExit(
                f"{what} was not healthy after {UP_TIMEOUT_SECONDS} s; see {services[0].log_dir}"
            )
        time.sleep(1)


def _say(line: str) -> None:
    print(line, flush=True)  # under make, or piped, each step shows when it starts


def up(settings: Settings, say: Callable[[str], None] = _say) -> None:
    started = time.monotonic()
    deadline = started + UP_TIMEOUT_SECONDS
    layout = Layout(settings)
    secrets = StackSecrets.load(settings)
    _check_ports(layout)
    env = _base_env(settings)

    cluster = layout.cluster(env, secrets.postgres_password)
    say(f"PostgreSQL on {HOST}:{cluster.port} ({cluster.folder})")
    cluster.start()
    cluster.wait_ready()
    cluster.ensure_databases(
        {"airflow": secrets.airflow_db_password, "mlflow": secrets.mlflow_db_password}
    )

    say("MLflow tracking server and report server: starting")
    mlflow_service = layout.service("mlflow")
    mlflow_service.start(
        mlflow.command(settings, cluster),
        {**env, **mlflow.mlflow_env(settings, secrets, cluster)},
        settings.stack_dir,
    )
    reports_service = layout.service("reports")
    reports_service.start(reports.command(settings), env, PROJECT_ROOT)

    airflow.store_database_uri(settings, secrets, cluster)
    airflow_env = airflow_process_env(settings)
    say("Airflow: migrating the metadata database, roles and users")
    airflow.migrate(airflow_env, PROJECT_ROOT)
    airflow.ensure_accounts(airflow_env, PROJECT_ROOT, secrets)
    airflow_services = [layout.service(f"airflow-{c}") for c in airflow.COMPONENTS]
    for component, service in zip(airflow.COMPONENTS, airflow_services, strict=True):
        service.start(airflow.command(component, settings), airflow_env, PROJECT_ROOT)
    say("Airflow: " + ", ".join(airflow.COMPONENTS) + " started")

    _wait("MLflow", lambda: mlflow.health(settings) == "healthy", [mlflow_service], deadline)
    mlflow.ensure_accounts(settings, secrets)
    _wait(
        "the report server",
        lambda: reports_health(settings) == "healthy",
        [reports_service],
        deadline,
    )
    _wait(
        "Airflow",
        lambda: all(v == "healthy" for v in airflow.health(settings).values()),
        airflow_services,
        deadline,
    )
    say(f"every service healthy after {time.monotonic() - started:.0f} s\n")
    for name, state in status(settings).items():
        say(f"  {name:<22} {state}")
    say("")
    for name, url in urls(settings).items():
        say(f"  {name:<18} {url}")
    say(
        f"\nusers: {', '.join(a.username for a in PEOPLE)}; each one's password is in "
        f"{settings.secrets_dir / 'users'}/<user>"
    )


def down(settings: Settings, say: Callable[[str], None] = _say) -> list[int]:
    """Stop everything; the pids of marked processes that had to be swept up afterwards."""
    layout = Layout(settings)
    env = _base_env(settings)
    running = [service.name for service in layout.services if service.pid() is not None]
    if running:
        say(f"stopping {', '.join(running)}")
    stop_all(layout.services)
    cluster = layout.cluster(env)
    if (cluster.data / "postmaster.pid").is_file():
        say("stopping PostgreSQL")
        cluster.stop()
    leftover = kill_marked(settings.stack_dir)
    if leftover:
        say(f"stopped {len(leftover)} more processes of this stack: {leftover}")
    return leftover


def status(settings: Settings) -> dict[str, str]:
    """Each service's state: its health check's answer, or why there is none."""
    layout = Layout(settings)
    cluster = layout.cluster({})
    found = {
        "postgres": "running"
        if (cluster.data / "postmaster.pid").is_file() and _port_taken(cluster.port)
        else "stopped"
    }
    checks = airflow.health(settings)
    for service in layout.services:
        if service.pid() is None:
            found[service.name] = "stopped"
        elif service.name == "mlflow":
            found[service.name] = mlflow.health(settings)
        elif service.name == "reports":
            found[service.name] = reports_health(settings)
        else:
            component = service.name.removeprefix("airflow-")
            found[service.name] = checks.get(component, "unknown")
    return found
