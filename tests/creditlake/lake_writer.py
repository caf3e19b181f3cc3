"""A child process for the crash test: one date's full write-audit-publish through the lake seam.

``python lake_writer.py <version> <rows>`` stages quarantine and bronze for DATE (every row
carrying ``version``), records the staged delivery and a passed gate in the ledger, then
publishes, exactly as the ingest job, the bronze gate and ``publish_bronze`` do in turn (with the
Spark parse and the Great Expectations run left out: they write nothing to the lake). It prints a
numbered step before each part of that work, so the parent can kill it at a known step.
"""

from __future__ import annotations

import datetime as dt
import logging
import sys

DATE = dt.date(2026, 1, 2)
SOURCE = "transactions"
SUITE = "bronze_transactions"
CHUNK_ROWS = 50_000


def rows(version: int, count: int):
    import pyarrow as pa

    return pa.table(
        {
            "transaction_id": pa.array([f"T{n:09d}" for n in range(count)]),
            "amount_cny": pa.array([float(version)] * count),
            "note": pa.array([f"version {version} row {n}" for n in range(count)]),
        }
    )


def step(name: str) -> None:
    print(name, flush=True)


class _Steps(logging.Handler):
    """Each chunk the seam writes is a step too (from its debug log)."""

    def emit(self, record: logging.LogRecord) -> None:
        step(f"lake: {record.getMessage()}")


def write(version: int, count: int) -> None:
    import pyiceberg.expressions
    import pyiceberg.io.pyarrow  # noqa: F401

    from creditlake import ledger
    from creditlake.lake import Lake, bronze_table, quarantine_table
    from creditlake.settings import get_settings

    seam = logging.getLogger("creditlake.lake")
    seam.setLevel(logging.DEBUG)
    seam.addHandler(_Steps())
    lake = Lake.from_settings(get_settings())
    table = rows(version, count)
    rejected = rows(version, max(1, count // 100))
    step("ready")
    step("stage quarantine")
    quarantine = lake.stage_partition(
        quarantine_table(SOURCE), DATE, [rejected], rejected.schema, {"batch_id": str(version)}
    )
    step("stage bronze")
    bronze = lake.stage_partition(
        bronze_table(SOURCE),
        DATE,
        [table],
        table.schema,
        {"batch_id": str(version)},
        chunk_rows=CHUNK_ROWS,
    )
    step("record the staged delivery")
    staged = ledger.Delivery(
        source=SOURCE,
        as_of_date=DATE,
        status=ledger.STAGED,
        batch_id=str(version),
        landing_file=f"version-{version}",
        content_sha256=f"{version:064d}",
        landing_rows=count + rejected.num_rows,
        bronze_rows=count,
        quarantined_rows=rejected.num_rows,
        duplicates_dropped=0,
        bronze_snapshot_id=bronze.snapshot_id,
        quarantine_snapshot_id=quarantine.snapshot_id,
    )
    ledger.record(lake, staged)
    step("record the gate")
    gate = ledger.GateResult(SUITE, DATE, bronze_table(SOURCE), bronze.snapshot_id, True, 1, 0, 0)
    ledger.record(lake, gate)
    step("publish")
    ledger.publish_delivery(lake, SOURCE, DATE, SUITE)
    step("published")


if __name__ == "__main__":
    write(int(sys.argv[1]), int(sys.argv[2]))
