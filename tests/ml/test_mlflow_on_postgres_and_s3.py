"""MLflow as production runs it: a tracking server with its store in PostgreSQL and its artifacts
in S3, with the training code unchanged.

A throw-away PostgreSQL (``postgres_server``) holds the tracking and registry store, a moto server
on loopback plays S3, and ``mlflow server --artifacts-destination s3://…`` sits in front of both,
as the Terraform deployment does with RDS and an S3 bucket. :func:`ml.train.main` then trains and
registers ``credit_pd`` against it with only ``MLFLOW_TRACKING_URI`` changed. The test reads the
results where they must have landed (rows in PostgreSQL's MLflow tables, objects in the bucket)
rather than through MLflow alone, and loads the champion back by its alias through the server.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from creditlake.settings import get_settings
from tests.ml.conftest import (
    FIXTURE_COLUMN_META,
    make_features_table,
    make_training_set,
    record_gated_build,
    settings_for,
    write_dbt_manifest,
    write_warehouse,
)

pytestmark = pytest.mark.slow

BUCKET = "mlflow-artifacts"
PREFIX = "tracking"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_healthy(url: str, server: subprocess.Popen, log: Path, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"mlflow server exited: {log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=5) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(1)
    raise RuntimeError(f"mlflow server not healthy in {timeout:.0f} s: {log.read_text()[-3000:]}")


@pytest.fixture(scope="module")
def tracking_server(
    postgres_server: Any, moto_endpoint: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, str]]:
    """``mlflow server`` on a free loopback port, store in PostgreSQL, artifacts in moto's S3.

    The database password reaches the server through a libpq password file, as on the stack,
    never its command line.
    """
    import boto3

    boto3.client("s3", endpoint_url=moto_endpoint).create_bucket(Bucket=BUCKET)
    store = postgres_server.create_database("mlflow_s3")
    folder = tmp_path_factory.mktemp("mlflow-server")
    passfile = folder / "pgpass"
    passfile.write_text(f"127.0.0.1:{postgres_server.port}:*:*:{postgres_server.password}\n")
    passfile.chmod(0o600)
    port = _free_port()
    log = folder / "server.log"
    env = {**os.environ, "MLFLOW_S3_ENDPOINT_URL": moto_endpoint, "PGPASSFILE": str(passfile)}
    command = [
        str(Path(sys.executable).parent / "mlflow"), "server",
        "--backend-store-uri", store.replace(f":{postgres_server.password}@", "@"),
        "--artifacts-destination", f"s3://{BUCKET}/{PREFIX}",
        "--host", "127.0.0.1", "--port", str(port), "--workers", "1",
    ]  # fmt: skip
    with log.open("wb") as out:
        server = subprocess.Popen(
            command,
            env=env,
            cwd=folder,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(url, server, log)
        yield {"url": url, "store": store, "endpoint": moto_endpoint}
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(timeout=10)


@pytest.fixture(scope="module")
def trained(tracking_server: dict[str, str], tmp_path_factory: pytest.TempPathFactory):
    """One real ``credit_pd`` training run against the server; its result and settings."""
    import mlflow

    from ml import train

    previous = mlflow.get_tracking_uri(), mlflow.get_registry_uri()
    home = tmp_path_factory.mktemp("ml_on_server") / "creditlake"
    with pytest.MonkeyPatch.context() as patch:
        settings_for(home, patch)
        patch.setenv("MLFLOW_TRACKING_URI", tracking_server["url"])
        settings = get_settings()
    training = make_training_set()
    write_warehouse(settings.warehouse_path, training, make_features_table(training))
    record_gated_build(settings, [dt.date(2026, 1, 1)])
    manifest = write_dbt_manifest(home / "target" / "manifest.json", FIXTURE_COLUMN_META)
    try:
        yield train.main("2026-01-01", settings, manifest_path=manifest), settings
    finally:
        mlflow.set_tracking_uri(previous[0])
        mlflow.set_registry_uri(previous[1])


def _query(store: str, sql: str, **params: Any) -> list[tuple]:
    import sqlalchemy

    engine = sqlalchemy.create_engine(store)
    try:
        with engine.connect() as connection:
            return [tuple(row) for row in connection.execute(sqlalchemy.text(sql), params)]
    finally:
        engine.dispose()


def test_runs_versions_and_the_alias_are_rows_in_postgresql(trained, tracking_server) -> None:
    result, _ = trained
    store = tracking_server["store"]
    versions = _query(
        store,
        "select version, run_id from model_versions where name = :name order by version",
        name="credit_pd",
    )
    expected = sorted((int(outcome.version), outcome.run_id) for outcome in result.models.values())
    assert versions == expected
    aliases = _query(
        store, "select alias, version from registered_model_aliases where name = :name",
        name="credit_pd",
    )  # fmt: skip
    assert aliases == [("champion", int(result.champion_version))]
    run_ids = {run_id for (run_id,) in _query(store, "select run_uuid from runs")}
    assert {run_id for _, run_id in expected} <= run_ids


def test_model_files_are_objects_in_the_bucket_and_nothing_is_local(trained, tracking_server):
    import boto3

    result, settings = trained
    s3 = boto3.client("s3", endpoint_url=tracking_server["endpoint"])
    keys = [
        item["Key"]
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=PREFIX)
        for item in page.get("Contents", [])
    ]
    models = [key for key in keys if key.endswith("/MLmodel")]
    assert len(models) >= len(result.models), keys[:20]
    assert all(key.startswith(f"{PREFIX}/") for key in keys)
    # the client sent every file through the server: no artifact folder in the home
    assert not (settings.home / "mlflow").exists()
    assert not list(settings.home.rglob("MLmodel"))


def test_the_champion_loads_by_alias_through_the_server(trained) -> None:
    import mlflow

    from ml.serving import conform_to_schema
    from ml.tracking import configure_mlflow

    result, settings = trained
    configure_mlflow(settings)
    model = mlflow.pyfunc.load_model("models:/credit_pd@champion")
    champion = next(o for o in result.models.values() if o.version == result.champion_version)
    assert model.metadata.run_id == champion.run_id
    sample = conform_to_schema(make_training_set().head(20), model.metadata.get_input_schema())
    scores = model.predict(sample)["pd"]
    assert len(scores) == 20 and scores.between(0, 1).all() and scores.nunique() > 1
