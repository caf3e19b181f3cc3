"""Test-session configuration shared by every test folder.

Airflow reads ``AIRFLOW_HOME`` once, when it is first imported, so each pytest process (each
parallel worker) gets one throw-away Airflow home (and creditlake home, and dbt target folder)
here, before any test module imports Airflow. Tests that need their own data folder use the
``creditlake_home`` fixture, which points creditlake's settings somewhere fresh without touching
Airflow's.
"""

from __future__ import annotations

import logging
import os
import socket
import tempfile
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from secret_files import TEST_PII_KEY, put_pii_key

#: Made-up AWS credentials for moto, given the way production gets them: boto3's chain (here the
#: environment), never creditlake's settings. Distinctive, so a test can look for leaks.
FAKE_AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "creditlake-test-access-key",
    "AWS_SECRET_ACCESS_KEY": "creditlake-test-secret-key-never-logged",
    "AWS_DEFAULT_REGION": "us-east-1",
}


#: This pytest process's folders. Set when this file is imported, before the conftest files below
#: it (which import creditlake.settings, and with it the dbt manifest path) and before
#: pytest_configure: each parallel worker inherits the controller's environment and must replace it
#: before anything reads it.
SESSION_HOME = Path(tempfile.mkdtemp(prefix="creditlake-test-"))
os.environ["CREDITLAKE_HOME"] = str(SESSION_HOME)
put_pii_key(SESSION_HOME, TEST_PII_KEY)
# dbt's own variables: every pytest process (each parallel worker, see the Makefile) writes its
# manifests and logs in its home, never in the project's target/ or another worker's.
os.environ["DBT_TARGET_PATH"] = str(SESSION_HOME / "dbt-target")
os.environ["DBT_LOG_PATH"] = str(SESSION_HOME / "dbt-logs")


def pytest_configure(config: pytest.Config) -> None:
    os.environ.setdefault("CREDITLAKE_SPARK_DRIVER_MEMORY", "1g")
    from creditlake.settings import get_settings
    from orchestration.runtime import apply_runtime_env

    apply_runtime_env(get_settings(), overwrite=True)
    # Settings derive the MLflow store from CREDITLAKE_HOME; a fixed URI defeats per-test homes.
    os.environ.pop("MLFLOW_TRACKING_URI", None)
    os.environ["AIRFLOW__LOGGING__LOGGING_LEVEL"] = "WARNING"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The longest modules first (``whole_platform``, then the local ``stack``, then the dbt build
    on Spark, then the ingest on a Spark cluster), the rest in their usual order.

    ``make test`` hands whole files to two workers in collection order (``--dist loadfile
    --no-loadscope-reorder``): starting on the long runs lets the shorter files fill in around
    them, instead of one worker starting a five-minute run when everything else is done.
    """
    items.sort(
        key=lambda item: (
            item.get_closest_marker("whole_platform") is None,
            item.get_closest_marker("stack") is None,
            item.get_closest_marker("spark_thrift_server") is None,
            item.get_closest_marker("spark_cluster") is None,
        )
    )


@pytest.fixture
def creditlake_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh CREDITLAKE_HOME for one test, holding the test PII key among its secrets."""
    home = tmp_path / "creditlake"
    monkeypatch.setenv("CREDITLAKE_HOME", str(home))
    put_pii_key(home, TEST_PII_KEY)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    return home


@pytest.fixture(scope="module")
def moto_endpoint() -> Iterator[str]:
    """A moto server (it serves S3 and Glue) on a free loopback port, one per test module, with
    made-up AWS credentials in the environment while it runs; yields its endpoint URL."""
    from moto.server import ThreadedMotoServer

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one log line per request otherwise
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port)
    server.start()
    # moto keeps its buckets and Glue databases in process-wide state, which outlives a server:
    # without a reset, a module would see what an earlier module of this worker left behind.
    reset = urllib.request.Request(f"http://127.0.0.1:{port}/moto-api/reset", method="POST")
    urllib.request.urlopen(reset, timeout=10).close()
    try:
        with pytest.MonkeyPatch.context() as patch:
            for name, value in FAKE_AWS_ENV.items():
                patch.setenv(name, value)
            yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[object]:
    """A PostgreSQL server on a free loopback port for the whole session (``postgres_server``)."""
    from postgres_server import PostgresServer

    server = PostgresServer.in_temporary_folder().start()
    try:
        yield server
    finally:
        server.stop()
