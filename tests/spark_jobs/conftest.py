"""Fixtures for the Spark job tests: one SparkSession for the whole run, a fresh lake per test.

Starting a JVM costs seconds, so every test shares one session (``getOrCreate`` hands the same
session to the jobs). Each test gets its own ``CREDITLAKE_HOME`` and a known PII key, so expected
tokens can be computed independently with Python's ``hmac``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from secret_files import put_pii_key
from spark_job_helpers import PII_KEY

from creditlake.settings import Settings, get_settings

#: The engines of the ingest transform; the job's tests run on each (``ingest_engine``).
ENGINES = ("duckdb", "spark")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Give ``ingest_engine`` its engines: every engine, or those an ``ingest_engines`` marker
    names.

    The DuckDB engine is the embedded default and runs every case. A Spark run costs seconds, so
    a case whose outcome is decided outside the transform (the gate, the ledger, the lake), with
    the Spark transform's part already exercised by another case of the module, is marked
    ``@pytest.mark.ingest_engines("duckdb")``; the module's Spark cases stay representative.
    """
    if "ingest_engine" not in metafunc.fixturenames:
        return
    marker = metafunc.definition.get_closest_marker("ingest_engines")
    engines = marker.args if marker else ENGINES
    unknown = sorted(set(engines) - set(ENGINES))
    if unknown:
        raise pytest.UsageError(f"{metafunc.definition.nodeid}: unknown ingest engines {unknown}")
    # module scope: a module fixture built on one engine serves all of that engine's tests
    metafunc.parametrize("ingest_engine", engines, indirect=True, scope="module")


@pytest.fixture(scope="module")
def ingest_engine(request: pytest.FixtureRequest) -> Iterator[str]:
    """Run a module's tests once per engine (``pytestmark = pytest.mark.usefixtures(...)``): the
    job must behave the same on both, so its behaviour tests are the parity tests too."""
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setenv("CREDITLAKE_INGEST_ENGINE", request.param)
        yield request.param


@pytest.fixture(scope="session")
def spark():
    from creditlake.spark import get_spark

    session = get_spark("creditlake-tests")
    # Tiny test data does not need four shuffle partitions; fewer tasks keep the tests fast.
    session.conf.set("spark.sql.shuffle.partitions", "2")
    return session


def configure(monkeypatch: pytest.MonkeyPatch, home: Path) -> Settings:
    monkeypatch.setenv("CREDITLAKE_HOME", str(home))
    put_pii_key(home, PII_KEY)
    for name in ("CREDITLAKE_LANDING_URI", "CREDITLAKE_LAKE_DIR"):
        monkeypatch.delenv(name, raising=False)
    return get_settings()


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Settings pointing at a fresh home under ``tmp_path``."""
    return configure(monkeypatch, tmp_path / "home")


@pytest.fixture(scope="module")
def module_settings(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    """Settings shared by the tests of one module (for data ingested once and checked often)."""
    with pytest.MonkeyPatch.context() as monkeypatch:
        yield configure(monkeypatch, tmp_path_factory.mktemp("home"))
