"""Measurements of the governed lake's promises, run from the command line (``creditlake bench``).

- ``order``: the same deliveries loaded and built in date order, again (every date re-run), and
  in reverse date order in a second home: every bronze and quarantine table and every mart must
  have the same content checksum (:mod:`creditlake.checksum`) in the three, and no mart key twice.
- ``warehouse-cost``: after 30 daily deliveries, the warehouse build for the last daily date
  against the build for the first, interleaved, as a ratio.

Both drive the real components in one process (the Spark job, the Great Expectations gate, the
publish, dbt) without Airflow's scheduling, whose fixed cost per task would only blur the ratio.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import shutil
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from creditlake.settings import Settings

Progress = Callable[[str], None]


@contextmanager
def ingest_session(settings: Settings, app_name: str = "creditlake-bench") -> Iterator[Any]:
    """The SparkSession :func:`load_date` needs, stopped afterwards; ``None`` (and no JVM) when
    the ingest and its gate run in-process (``ingest_engine=duckdb``)."""
    if settings.ingest_engine != "spark":
        yield None
        return
    from creditlake.spark import get_spark

    spark = get_spark(app_name, settings)
    try:
        yield spark
    finally:
        spark.stop()


def load_date(settings: Settings, as_of_date: dt.date, spark: Any, progress: Progress) -> None:
    """Write, audit and publish every source's delivery for one date (what the DAGs do).

    The gate's Data Docs pages are queued, not rendered: a bench loads many dates, and the pages
    are the DAG run's ``publish_quality_docs`` work (rendered by whoever renders the queue next).
    """
    from creditlake.lake import Lake
    from creditlake.ledger import publish_delivery
    from creditlake.sources import SOURCES
    from expectations.names import bronze_suite_name
    from expectations.validate import validate_bronze
    from spark_jobs.ingest import main as ingest

    lake = Lake.from_settings(settings)
    started = time.monotonic()
    for source in SOURCES:
        ingest(source, as_of_date, settings=settings, spark=spark)
        validate_bronze(source, as_of_date, spark, settings, render_docs=False)
        publish_delivery(lake, source, as_of_date, bronze_suite_name(source))
    progress(
        f"  {as_of_date}: {len(SOURCES)} sources published ({time.monotonic() - started:.0f} s)"
    )


def build_date(settings: Settings, as_of_date: dt.date) -> float:
    """Build the warehouse for one date with dbt (pinning bronze first); the seconds it took."""
    from orchestration.dbt import run_dbt

    started = time.monotonic()
    run_dbt(["build", "--quiet"], settings, as_of_date)
    return time.monotonic() - started


def checksums(settings: Settings) -> dict[str, tuple[int, str]]:
    """``{table: (rows, checksum)}`` of every lake table and every mart."""
    import duckdb

    from creditlake.checksum import content_checksum
    from creditlake.lake import BRONZE, QUARANTINE, Lake

    lake = Lake.from_settings(settings)
    found: dict[str, tuple[int, str]] = {}
    for namespace in (BRONZE, QUARANTINE):
        for identifier in sorted(lake.catalog.list_tables(namespace)):
            name = ".".join(identifier)
            found[name] = content_checksum(lake.read(name))
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        marts = con.execute(
            "select table_name from information_schema.tables where table_schema = 'marts' "
            "order by table_name"
        ).fetchall()
        for (name,) in marts:
            found[f"marts.{name}"] = content_checksum(f"marts.{name}", con)
    return found


def _home(root: Path, name: str, settings: Settings) -> Settings:
    home = root / name
    return dataclasses.replace(
        settings,
        home=home,
        lake_dir=home / "lake",
        warehouse_path=home / "warehouse" / "creditlake.duckdb",
        catalog_uri=f"sqlite:///{home / 'lake' / 'catalog.db'}",
        catalog_warehouse=(home / "lake" / "iceberg").as_uri(),
        landing_uri=settings.landing_uri,
    )


def order_independence(
    settings: Settings, dates: list[dt.date], root: Path, progress: Progress = print
) -> dict[str, Any]:
    """Checksums after in-order, re-run and reverse-order loads of the same landing zone."""
    forward, backward = _home(root, "in-order", settings), _home(root, "reverse", settings)
    runs: dict[str, dict[str, tuple[int, str]]] = {}
    for label, home, order in (
        ("in order", forward, dates),
        ("every date re-run", forward, dates),
        ("reverse order", backward, list(reversed(dates))),
    ):
        progress(f"{label}: loading {', '.join(map(str, order))}")
        with ingest_session(home) as spark:
            for as_of_date in order:
                load_date(home, as_of_date, spark, progress)
        for as_of_date in order:
            build_date(home, as_of_date)
        progress(f"{label}: warehouse built for every date")
        runs[label] = checksums(home)
    reference = runs["in order"]
    differing = sorted(
        table for table in reference for run in runs.values() if run.get(table) != reference[table]
    )
    return {"tables": len(reference), "runs": runs, "differing": sorted(set(differing))}


def warehouse_cost(
    settings: Settings, dates: list[dt.date], repeats: int = 3, progress: Progress = print
) -> dict[str, Any]:
    """Load every date, then time the first and last daily builds, interleaved."""
    with ingest_session(settings) as spark:
        for as_of_date in dates:
            load_date(settings, as_of_date, spark, progress)
    first, last = dates[1], dates[-1]  # dates[0] is the initial full extract
    build_date(settings, first)  # warm: the first build creates the relations
    seconds: dict[str, list[float]] = {"first": [], "last": []}
    for _ in range(repeats):
        seconds["first"].append(build_date(settings, first))
        seconds["last"].append(build_date(settings, last))
        progress(
            f"  first daily {seconds['first'][-1]:.1f} s, last daily {seconds['last'][-1]:.1f} s"
        )
    median = {k: statistics.median(v) for k, v in seconds.items()}
    return {
        "first_daily_date": first.isoformat(),
        "last_daily_date": last.isoformat(),
        "seconds": seconds,
        "median_seconds": median,
        "ratio": median["last"] / median["first"],
    }


def clean(root: Path) -> None:
    shutil.rmtree(root, ignore_errors=True)
