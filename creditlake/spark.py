"""The one place a SparkSession is configured.

Every job asks for its session here, so the master URL, driver memory and shuffle width come from
settings (local by default, a cluster or a Spark Connect server by configuration) and every job
sees the same SQL semantics: UTC session time, quiet logs, no UI on a shared laptop port. It is
part of the kernel because more than one layer starts Spark: the ingest jobs (spark_jobs) and the
batch scoring of the active book (ml.limits).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from creditlake.settings import Settings, get_settings

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

#: Spark Connect master URLs (``sc://host:port``) are reached with ``builder.remote``.
SPARK_CONNECT_SCHEME = "sc://"
MAX_SPLIT_BYTES = "32m"
#: Console logging for a driver this process starts: Spark's defaults minus deliberate warnings.
LOG4J2_PROPERTIES = Path(__file__).with_name("log4j2.properties")


def session_configs(settings: Settings) -> dict[str, str]:
    """Runtime SQL settings every job relies on (they apply to a reused session too).

    UTC session time makes timestamp text in landing files mean UTC, as the contract says.
    Parquet timestamps are written as standard INT64 microseconds rather than Spark's legacy INT96,
    so DuckDB and other readers of bronze see proper UTC timestamps. Files are read in splits of
    at most 32 MB: a 300 MB landing file in 128 MB splits is three tasks, and on two cores the
    third runs alone; ten smaller splits keep every core busy to the end.
    """
    return {
        "spark.sql.session.timeZone": "UTC",
        "spark.sql.shuffle.partitions": str(settings.spark_shuffle_partitions),
        "spark.sql.parquet.outputTimestampType": "TIMESTAMP_MICROS",
        "spark.sql.files.maxPartitionBytes": MAX_SPLIT_BYTES,
    }


def launch_configs(settings: Settings) -> dict[str, str]:
    """Settings that only take effect when this process starts the Spark driver."""
    return {
        "spark.driver.extraJavaOptions": f"-Dlog4j2.configurationFile={LOG4J2_PROPERTIES.as_uri()}",
        "spark.driver.memory": settings.spark_driver_memory,
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
        "spark.log.level": "WARN",
    }


def get_spark(app_name: str = "creditlake", settings: Settings | None = None) -> SparkSession:
    """The active SparkSession, or a new one configured from settings.

    An active session is reused (``getOrCreate``) because starting a JVM costs seconds and the
    embedded default runs many jobs in one process; only runtime SQL settings can change on a
    reused session, which is why they are also applied explicitly below.
    """
    from pyspark.sql import SparkSession

    settings = settings or get_settings()
    builder = SparkSession.builder.appName(app_name)
    if settings.spark_master.startswith(SPARK_CONNECT_SCHEME):
        builder = builder.remote(settings.spark_master)
    else:
        builder = builder.master(settings.spark_master)
        for key, value in launch_configs(settings).items():
            builder = builder.config(key, value)
    for key, value in session_configs(settings).items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    for key, value in session_configs(settings).items():
        spark.conf.set(key, value)
    return spark
