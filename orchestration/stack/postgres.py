"""The stack's PostgreSQL: one cluster under the stack folder, on 127.0.0.1 only.

Debian's server programs (package ``postgresql``, installed by ``make check-postgres``) rather
than a PyPI-packaged server: they are the maintained, security-patched build, the same the tests
already use (``tests/postgres_server.py``). ``initdb`` refuses to run as root, so as root the
cluster belongs to Debian's ``postgres`` user, and its folder must be reachable by that user.

The cluster holds one database per service, each owned by its own login role with its own
password: ``airflow`` (Airflow's metadata), ``mlflow`` (the tracking and registry store) and
``mlflow_auth`` (MLflow's users and permissions). Only the ``creditlake`` superuser's password
can create them; every password authenticates with SCRAM.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import time
from pathlib import Path

from creditlake.settings import SettingsError

#: Where Debian puts each major version's server programs (they are not on PATH).
DEBIAN_BINARIES = Path("/usr/lib/postgresql")
HOST = "127.0.0.1"
SUPERUSER = "creditlake"
#: database → owning login role.
DATABASES = {"airflow": "airflow", "mlflow": "mlflow", "mlflow_auth": "mlflow"}


def server_binaries() -> Path:
    """The folder with ``initdb`` and ``pg_ctl``: on PATH, or Debian's newest major version."""
    on_path = shutil.which("pg_ctl")
    if on_path:
        return Path(on_path).parent
    found = sorted(
        DEBIAN_BINARIES.glob("*/bin/pg_ctl"), key=lambda p: int(p.parent.parent.name), reverse=True
    )
    if not found:
        raise SettingsError(
            "PostgreSQL's server programs (initdb, pg_ctl) were not found on PATH or under "
            f"{DEBIAN_BINARIES}: run `make check-postgres` (installs Debian's postgresql package)"
        )
    return found[0].parent


class Cluster:
    """``start()`` (initialising on first use), ``ensure_databases()``, ``stop()``, ``ready()``;
    ``password`` is the ``creditlake`` superuser's."""

    def __init__(self, folder: Path, port: int, env: dict[str, str], password: str) -> None:
        self.folder = folder
        self.password = password
        self.data = folder / "data"
        self.port = port
        self.env = env
        self._as_postgres = os.geteuid() == 0

    def uri(self, user: str, password: str, database: str, driver: str = "psycopg2") -> str:
        return f"postgresql+{driver}://{user}:{password}@{HOST}:{self.port}/{database}"

    def _run(self, *args: str) -> None:
        command = [str(server_binaries() / args[0]), *args[1:]]
        if self._as_postgres:
            command = ["runuser", "-u", "postgres", "--", *command]
        result = subprocess.run(
            command, capture_output=True, text=True, timeout=120, env=self.env, cwd="/"
        )
        if result.returncode != 0:
            raise RuntimeError(f"{args[0]} failed ({result.returncode}): {result.stderr.strip()}")

    def _initialise(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        password_file = self.folder / "initdb-password"
        fd = os.open(password_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(self.password)
        try:
            if self._as_postgres:
                owner = pwd.getpwnam("postgres")
                for path in (self.folder, password_file):
                    os.chown(path, owner.pw_uid, owner.pw_gid)
                self._check_reachable()
            self._run(
                "initdb", "-D", str(self.data), "-U", SUPERUSER, "--auth=scram-sha-256",
                f"--pwfile={password_file}", "--encoding=UTF8", "--no-locale",
            )  # fmt: skip
        finally:
            password_file.unlink(missing_ok=True)

    def _check_reachable(self) -> None:
        """As root, the ``postgres`` user must be able to walk down to the cluster's folder."""
        probe = subprocess.run(
            ["runuser", "-u", "postgres", "--", "test", "-w", str(self.folder)], check=False
        )
        if probe.returncode != 0:
            blocked = next(
                (p for p in reversed(self.folder.parents) if not os.stat(p).st_mode & 0o001),
                self.folder,
            )
            raise SettingsError(
                f"PostgreSQL runs as the postgres user when creditlake runs as root, and it "
                f"cannot reach {self.folder}: {blocked} is closed to other users. Run "
                f"`chmod o+x {blocked}` or set CREDITLAKE_HOME to a folder below an open one."
            )

    def running(self) -> bool:
        return (self.data / "postmaster.pid").is_file() and self.ready()

    def start(self) -> None:
        if not (self.data / "PG_VERSION").is_file():
            self._initialise()
        if self.running():
            return
        options = f"-c listen_addresses={HOST} -p {self.port} -k {self.folder}"
        self._run(
            "pg_ctl", "-D", str(self.data), "-l", str(self.folder / "server.log"),
            "-o", options, "-w", "-t", "60", "start",
        )  # fmt: skip

    def stop(self) -> None:
        if (self.data / "postmaster.pid").is_file():
            self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "-t", "60", "stop")

    def ready(self) -> bool:
        """Whether the server accepts the superuser's connections."""
        import psycopg2

        try:
            psycopg2.connect(
                host=HOST, port=self.port, user=SUPERUSER, password=self.password,
                dbname="postgres", connect_timeout=3,
            ).close()  # fmt: skip
        except psycopg2.OperationalError:
            return False
        return True

    def ensure_databases(self, role_passwords: dict[str, str]) -> None:
        """Create each service's login role and database, and (re)set the roles' passwords, so
        that a secret rotated by deleting its file takes effect at the next ``up``."""
        import psycopg2
        from psycopg2 import sql

        connection = psycopg2.connect(
            host=HOST, port=self.port, user=SUPERUSER, password=self.password,
            dbname="postgres", connect_timeout=10,
        )  # fmt: skip
        connection.autocommit = True
        try:
            with connection.cursor() as cursor:
                for role, password in role_passwords.items():
                    cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,))
                    verb = "ALTER" if cursor.fetchone() else "CREATE"
                    cursor.execute(
                        sql.SQL(verb + " ROLE {} LOGIN PASSWORD %s").format(sql.Identifier(role)),
                        (password,),
                    )
                for database, owner in DATABASES.items():
                    cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", (database,))
                    if cursor.fetchone() is None:
                        cursor.execute(
                            sql.SQL("CREATE DATABASE {} OWNER {}").format(
                                sql.Identifier(database), sql.Identifier(owner)
                            )
                        )
        finally:
            connection.close()

    def wait_ready(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while not self.ready():
            if time.monotonic() > deadline:
                raise RuntimeError(f"PostgreSQL on {HOST}:{self.port} did not accept connections")
            time.sleep(0.5)
