"""A throw-away PostgreSQL server for tests: Debian's server binaries, one cluster in a temporary
folder, listening on a free loopback port only, with a generated password.

Debian's packages rather than a PyPI-packaged server: they are the maintained, security-patched
build (the PyPI wheels that bundle a server lag by major versions), and ``make test`` installs
them when they are missing (``make check-postgres``). ``initdb`` refuses to run as root, so as
root the server runs as Debian's ``postgres`` user.
"""

from __future__ import annotations

import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

from orchestration.stack.postgres import server_binaries

USER = "creditlake"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class PostgresServer:
    """``start()`` a cluster under ``folder``, ``create_database(name)`` → SQLAlchemy URI,
    ``stop()``."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.data = folder / "data"
        self.port = _free_port()
        self.password = secrets.token_urlsafe(18)
        self.binaries = server_binaries()
        self._as_postgres = os.geteuid() == 0

    @classmethod
    def in_temporary_folder(cls) -> PostgresServer:
        """In a new folder directly under the temporary directory: the ``postgres`` user cannot
        enter pytest's own temporary folders (mode 700, owned by root)."""
        return cls(Path(tempfile.mkdtemp(prefix="creditlake-postgres-")))

    def _run(self, *args: str) -> subprocess.CompletedProcess:
        command = [str(self.binaries / args[0]), *args[1:]]
        if self._as_postgres:
            command = ["runuser", "-u", "postgres", "--", *command]
        result = subprocess.run(command, capture_output=True, text=True, timeout=120)
        if result.returncode != 0:
            raise RuntimeError(f"{args[0]} failed ({result.returncode}): {result.stderr.strip()}")
        return result

    def start(self) -> PostgresServer:
        self.folder.mkdir(parents=True, exist_ok=True)
        password_file = self.folder / "password"
        password_file.write_text(self.password)
        if self._as_postgres:
            owner = pwd.getpwnam("postgres")
            for path in (self.folder, password_file):
                os.chown(path, owner.pw_uid, owner.pw_gid)
        self._run(
            "initdb",
            "-D",
            str(self.data),
            "-U",
            USER,
            "--auth=scram-sha-256",
            f"--pwfile={password_file}",
            "--encoding=UTF8",
            "--no-locale",
        )
        password_file.unlink()
        options = f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.folder} -c fsync=off"
        self._run(
            "pg_ctl", "-D", str(self.data), "-l", str(self.folder / "server.log"),
            "-o", options, "-w", "start",
        )  # fmt: skip
        return self

    def uri(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg2://{USER}:{self.password}@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        """A new, empty database; its SQLAlchemy URI."""
        import sqlalchemy

        engine = sqlalchemy.create_engine(self.uri(), isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as connection:
                connection.execute(sqlalchemy.text(f'CREATE DATABASE "{name}"'))
        finally:
            engine.dispose()
        return self.uri(name)

    def stop(self) -> None:
        """Stop the server and remove its folder."""
        try:
            if (self.data / "postmaster.pid").exists():
                self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)
