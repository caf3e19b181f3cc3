"""The scale-out path for real: every ingest job on a Spark standalone cluster gives the same lake
as on ``local[2]``.

A master and two workers (one core, 1 GB each) run on loopback from the pyspark wheel
(:mod:`spark_cluster`). The reference deliveries (``tests/reference_deliveries.py``) are ingested
by the job the DAGs' ``load_bronze`` tasks run (:func:`spark_jobs.ingest.main`, every source) on
the cluster, with ``CREDITLAKE_INGEST_ENGINE=spark`` and the cluster's ``spark://`` URL as
``CREDITLAKE_SPARK_MASTER`` (which :func:`creditlake.spark.get_spark` reads), and on the DuckDB
engine into a second creditlake home that differs only in those settings. Content checksums of
every bronze and quarantine table and the ledger's counts must agree (the snapshots each ingest
staged: auditing and publishing them is not Spark's work), and the cluster run must show completed
tasks on an executor of each worker, so that a session that silently stayed local cannot pass.

Why the DuckDB engine is the reference: ``tests/spark_jobs/test_engine_parity.py`` proves, on the
same deliveries with the same PII key, that it stages exactly what Spark on ``local[2]`` stages,
so equal to it here means equal to ``local[2]``, and a second Spark driver ingesting every source
(minutes on two cores) is not needed to show it.

The job writes its scratch Parquet under ``settings.staging_dir`` from the executors and reads it
back on the driver: here the workers share the driver's disk. A real cluster needs a staging
folder every node and the driver see (a shared mount).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from secret_files import put_pii_key
from spark_cluster import SparkStandaloneCluster

from creditlake import ledger
from creditlake.checksum import content_checksum
from creditlake.lake import Lake, bronze_table, quarantine_table
from creditlake.settings import PROJECT_ROOT, Settings, get_settings
from creditlake.sources import SOURCES
from tests.platform_tables import delivery_counts
from tests.reference_deliveries import EXTRACT, PII_KEY, generator_config

pytestmark = [pytest.mark.slow, pytest.mark.spark_cluster]

DATES = [EXTRACT.isoformat()]
DRIVER = Path(__file__).with_name("ingest_driver.py")
#: Settings a developer's shell may carry that would send either run somewhere else.
CLEARED = (
    "CREDITLAKE_LANDING_URI",
    "CREDITLAKE_LAKE_DIR",
    "CREDITLAKE_CATALOG_TYPE",
    "CREDITLAKE_CATALOG_URI",
    "CREDITLAKE_CATALOG_WAREHOUSE",
    "CREDITLAKE_S3_ENDPOINT_URL",
    "MLFLOW_TRACKING_URI",
)


def _generate(home: Path) -> Path:
    """The reference deliveries (with defects, so quarantine is not empty); the landing folder."""
    from generator import generate

    with pytest.MonkeyPatch.context() as patch:
        for name in CLEARED:
            patch.delenv(name, raising=False)
        patch.setenv("CREDITLAKE_HOME", str(home))
        settings = get_settings()
        generate(generator_config(), settings, progress=lambda line: None)
        return Path(settings.landing_uri)


def staged_fingerprint(settings: Settings) -> dict[str, Any]:
    """Checksums of what each delivery staged (the snapshots its ledger row names) and the
    ledger's counts.

    The staged snapshots are exactly what the Spark job wrote; auditing and publishing them is
    Great Expectations' and the ledger's work, the same on any master, and left out for time.
    """
    lake = Lake.from_settings(settings)
    tables, counts = {}, {}
    for source in SOURCES:
        for day in map(dt.date.fromisoformat, DATES):
            delivery = ledger.latest_delivery(lake, source, day)
            staged = {
                bronze_table(source): delivery.bronze_snapshot_id,
                quarantine_table(source): delivery.quarantine_snapshot_id,
            }
            for table, snapshot_id in staged.items():
                tables[f"{table}/{day}"] = content_checksum(lake.read(table, day, snapshot_id))
            counts[f"{source}/{day}"] = delivery_counts(delivery)
    return {"tables": tables, "ledger": counts, "ledger_rows": len(ledger.deliveries(lake))}


def _load(home: Path, landing: Path, master: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Load ``DATES`` into ``home`` on ``master`` in a driver process of its own; what the
    driver reported and the home's lake fingerprint."""
    put_pii_key(home, PII_KEY)  # the reference key, so that the tokens agree
    env = {k: v for k, v in os.environ.items() if k not in CLEARED}
    env.update(
        CREDITLAKE_HOME=str(home),
        CREDITLAKE_LANDING_URI=str(landing),
        CREDITLAKE_SPARK_MASTER=master,
        CREDITLAKE_INGEST_ENGINE="spark",
        # two executors of one core each: two shuffle partitions keep both busy, no more tasks
        CREDITLAKE_SPARK_SHUFFLE_PARTITIONS="2",
        SPARK_LOCAL_IP="127.0.0.1",
        PYTHONPATH=str(PROJECT_ROOT),
    )
    done = subprocess.run(
        [sys.executable, str(DRIVER), *DATES],
        env=env,
        cwd=home,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, f"driver on {master} failed:\n{done.stdout}\n{done.stderr}"
    report = json.loads(done.stdout.strip().splitlines()[-1])
    with pytest.MonkeyPatch.context() as patch:
        for name in CLEARED:
            patch.delenv(name, raising=False)
        patch.setenv("CREDITLAKE_HOME", str(home))
        patch.setenv("CREDITLAKE_LANDING_URI", str(landing))
        return report, staged_fingerprint(get_settings())


def _load_on_duckdb(home: Path, landing: Path) -> dict[str, Any]:
    """Load ``DATES`` into ``home`` on the DuckDB engine, in this process (no Spark); the home's
    lake fingerprint."""
    from spark_jobs.ingest import main as ingest

    put_pii_key(home, PII_KEY)
    with pytest.MonkeyPatch.context() as patch:
        for name in CLEARED:
            patch.delenv(name, raising=False)
        patch.setenv("CREDITLAKE_HOME", str(home))
        patch.setenv("CREDITLAKE_LANDING_URI", str(landing))
        patch.setenv("CREDITLAKE_INGEST_ENGINE", "duckdb")
        settings = get_settings()
        assert settings.ingest_engine == "duckdb"
        for day in map(dt.date.fromisoformat, DATES):
            for source in SOURCES:
                ingest(source, day, settings=settings)
        return staged_fingerprint(settings)


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    landing = _generate(tmp_path_factory.mktemp("generated"))
    reference = _load_on_duckdb(tmp_path_factory.mktemp("reference-home"), landing)
    cluster = SparkStandaloneCluster(tmp_path_factory.mktemp("spark-cluster")).start()
    try:
        on_cluster = _load(tmp_path_factory.mktemp("cluster-home"), landing, cluster.master_url)
        workers = cluster.worker_states()
        master_state = cluster.master_state()
    finally:
        cluster.stop()
    return {
        "cluster": on_cluster,
        "reference": reference,
        "master_url": cluster.master_url,
        "master_state": master_state,
        "workers": workers,
    }


def test_the_cluster_run_ran_on_executors_of_both_workers(runs) -> None:
    report, _ = runs["cluster"]
    assert report["master"] == runs["master_url"]
    executors = [e for e in report["executors"] if e["id"] != "driver"]
    assert len(executors) == 2
    assert all(e["completed_tasks"] > 0 for e in executors), executors
    # each worker launched one executor for this application, as its own JSON tells
    for worker in runs["workers"]:
        launched = worker["executors"] + worker["finishedexecutors"]
        assert [e["appid"] for e in launched] == [report["app_id"]], worker
    finished = {a["id"]: a for a in runs["master_state"]["completedapps"]}
    assert finished[report["app_id"]]["cores"] == 2


def test_bronze_and_quarantine_tables_are_identical(runs) -> None:
    cluster, reference = runs["cluster"][1]["tables"], runs["reference"]["tables"]
    assert len(reference) == 2 * len(SOURCES)
    assert all(reference[t][0] > 0 for t in reference if t.startswith("bronze."))
    assert sum(reference[t][0] for t in reference if t.startswith("quarantine.")) > 0
    differing = [t for t in reference if reference[t] != cluster.get(t)]
    assert differing == [], {t: (reference[t], cluster.get(t)) for t in differing}


def test_the_ledgers_agree(runs) -> None:
    cluster, reference = runs["cluster"][1], runs["reference"]
    assert len(reference["ledger"]) == len(SOURCES) * len(DATES)
    assert {state for state, *_ in reference["ledger"].values()} == {ledger.STAGED}
    assert cluster["ledger"] == reference["ledger"]
    assert cluster["ledger_rows"] == reference["ledger_rows"]
