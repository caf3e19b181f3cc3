"""A throw-away Spark Thrift Server for tests: the ``HiveThriftServer2`` the pyspark wheel carries.

It is the server dbt-spark's ``thrift`` method talks to in a deployment (EMR runs the same
class), started from the project's own virtual environment: ``local[2]``, no UI, listening on a
free loopback port only, with its warehouse folder and Derby metastore in a temporary folder so
nothing lands in the working directory. Spark and Hive options are passed the way Spark's
``sbin/start-thriftserver.sh`` passes them (through ``spark-submit``; the server class itself
rejects ``--master``). ``stop()`` ends the JVM by its process group, which the launcher script
shares with it.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import pyspark

#: A cold JVM with the Hive classes takes 15-25 s here; a busy shared machine can double that.
START_TIMEOUT_S = 180.0
SERVER_CLASS = "org.apache.spark.sql.hive.thriftserver.HiveThriftServer2"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class SparkThriftServer:
    """``launch()`` a server whose files live under ``folder``, ``wait_until_ready()``, then
    ``stop()``; ``host`` and ``port`` are what a dbt-spark ``thrift`` profile needs."""

    host = "127.0.0.1"

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.port = _free_port()
        self.log_path = folder / "thrift-server.log"
        self._process: subprocess.Popen | None = None

    def launch(self) -> SparkThriftServer:
        """Start the JVM without waiting for it: its 20-70 s start can overlap other set-up."""
        self.folder.mkdir(parents=True, exist_ok=True)
        spark_home = Path(pyspark.__file__).parent
        derby = self.folder / "derby"
        # Spark options before the primary resource (spark-internal), Hive options after it.
        command = [
            str(spark_home / "bin" / "spark-submit"),
            "--class",
            SERVER_CLASS,
            "--master",
            "local[2]",
            "--name",
            "creditlake-test-thrift",
            "--driver-memory",
            "2g",
            "--conf",
            f"spark.sql.warehouse.dir={self.folder / 'warehouse'}",
            "--conf",
            f"spark.driver.extraJavaOptions=-Dderby.system.home={derby}",
            "--conf",
            "spark.ui.enabled=false",
            # Bronze timestamps are UTC instants; the DuckDB target pins its zone the same way.
            "--conf",
            "spark.sql.session.timeZone=UTC",
            "--conf",
            "spark.sql.shuffle.partitions=1",
            # A test build is a few hundred tiny queries: compiling each one's whole-stage code
            # and re-planning it adaptively costs more than running it.
            "--conf",
            "spark.sql.codegen.wholeStage=false",
            "--conf",
            "spark.sql.adaptive.enabled=false",
            "spark-internal",
            "--hiveconf",
            f"hive.server2.thrift.bind.host={self.host}",
            "--hiveconf",
            f"hive.server2.thrift.port={self.port}",
            # The Derby metastore lives beside the warehouse, not in the working directory.
            "--hiveconf",
            f"hive.server2.logging.operation.log.location={self.folder / 'operation-logs'}",
            "--hiveconf",
            f"hive.exec.local.scratchdir={self.folder / 'scratch'}",
            "--hiveconf",
            f"javax.jdo.option.ConnectionURL=jdbc:derby:;databaseName={derby / 'metastore_db'}"
            ";create=true",
        ]
        env = {
            **os.environ,
            "SPARK_HOME": str(spark_home),
            "SPARK_LOCAL_IP": self.host,
            "SPARK_LOG_DIR": str(self.folder),
        }
        with self.log_path.open("wb") as log:
            self._process = subprocess.Popen(
                command,
                cwd=self.folder,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        return self

    def wait_until_ready(self) -> SparkThriftServer:
        """Until a ``select 1`` through PyHive answers (the port opens before sessions work);
        a server that exits or never answers is stopped and its log's tail raised."""
        try:
            self._wait_until_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_until_ready(self) -> None:
        from pyhive import hive

        deadline = time.monotonic() + START_TIMEOUT_S
        last_error: Exception | None = None
        while time.monotonic() < deadline:
            if self._process is not None and self._process.poll() is not None:
                raise RuntimeError(
                    f"Spark Thrift Server exited with {self._process.returncode}; "
                    f"see {self.log_path}:\n{self._log_tail()}"
                )
            try:
                with socket.create_connection((self.host, self.port), timeout=1):
                    pass
                connection = hive.connect(host=self.host, port=self.port, username="creditlake")
                try:
                    cursor = connection.cursor()
                    cursor.execute("select 1")
                    if cursor.fetchall() == [(1,)]:
                        return
                finally:
                    connection.close()
            except Exception as error:  # any failure means "not ready yet"
                last_error = error
            time.sleep(1.0)
        raise TimeoutError(
            f"Spark Thrift Server on {self.host}:{self.port} not ready after {START_TIMEOUT_S:.0f}"
            f" s ({last_error}); see {self.log_path}:\n{self._log_tail()}"
        )

    def _log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def query(self, sql: str) -> tuple[list[str], list[tuple]]:
        """Column names and rows of one statement, through a fresh PyHive connection."""
        from pyhive import hive

        connection = hive.connect(host=self.host, port=self.port, username="creditlake")
        try:
            cursor = connection.cursor()
            cursor.execute(sql)
            names = [column[0].split(".")[-1] for column in cursor.description or []]
            return names, [tuple(row) for row in cursor.fetchall()]
        finally:
            connection.close()

    def stop(self) -> None:
        """Terminate the server's process group, then kill it if it has not gone in 30 s."""
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        group = os.getpgid(process.pid)
        os.killpg(group, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(group, signal.SIGKILL)
            process.wait(timeout=30)
