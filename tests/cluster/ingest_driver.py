"""Ingest dates into one creditlake home, in a process of its own; print what ran where.

``python tests/cluster/ingest_driver.py 2026-01-01 [...]`` runs every source's ingest job
(:func:`spark_jobs.ingest.main`) for each date with the session
:func:`creditlake.spark.get_spark` builds from the environment (``CREDITLAKE_HOME``,
``CREDITLAKE_SPARK_MASTER``), then prints one JSON line: the master the session ran on and each
executor with the tasks it ran, as Spark's own status store counted them.

A process of its own because a Spark driver picks its master once: inside pytest, an earlier test
file's ``local[2]`` session would be handed back by ``getOrCreate`` and the cluster never used.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from typing import Any


def executors(spark: Any) -> list[dict[str, Any]]:
    """Every executor the application had (the driver included), with its completed tasks.

    Read from the driver's status store, the one the web UI shows (it is kept with the UI off).
    """
    summaries = spark.sparkContext._jsc.sc().statusStore().executorList(False)
    found = []
    for i in range(summaries.size()):
        summary = summaries.apply(i)
        found.append(
            {
                "id": summary.id(),
                "host_port": summary.hostPort(),
                "completed_tasks": summary.completedTasks(),
            }
        )
    return found


def main(dates: list[str]) -> int:
    from creditlake.settings import get_settings
    from creditlake.sources import SOURCES
    from creditlake.spark import get_spark
    from spark_jobs.ingest import main as ingest

    settings = get_settings()
    spark = get_spark("creditlake-cluster-test", settings)
    try:
        for day in dates:
            for source in SOURCES:
                ingest(source, dt.date.fromisoformat(day), settings=settings, spark=spark)
        report = {
            "master": spark.sparkContext.master,
            "app_id": spark.sparkContext.applicationId,
            "executors": executors(spark),
        }
    finally:
        spark.stop()
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
