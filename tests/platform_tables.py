"""What two runs of the platform must agree on: content checksums of every table, and the ledger.

:func:`creditlake.checksum.content_checksum` leaves out when and from where a row was loaded, so
runs on different storage (S3 and Glue against local disk) or under a different runner (the
stack's scheduler against ``dag.test``) compare equal when they loaded the same rows.
"""

from __future__ import annotations

from typing import Any

import duckdb

from creditlake import ledger
from creditlake.checksum import content_checksum
from creditlake.lake import Lake, bronze_table, quarantine_table
from creditlake.settings import Settings
from creditlake.sources import SOURCES


def fingerprint(settings: Settings) -> dict[str, Any]:
    """What the two runs must agree on: table checksums and the ledger's counts."""
    lake = Lake.from_settings(settings)
    tables = {}
    for source in SOURCES:
        for table in (bronze_table(source), quarantine_table(source)):
            tables[table] = content_checksum(lake.read(table))
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        marts = [
            name
            for (name,) in con.execute(
                "select table_name from information_schema.tables where table_schema = 'marts' "
                "order by 1"
            ).fetchall()
        ]
        for name in marts:
            tables[f"marts.{name}"] = content_checksum(f'marts."{name}"', con)
    records = ledger.deliveries(lake)
    latest = {(r.source, r.as_of_date.isoformat()): r for r in records}
    counts = {f"{source}/{day}": delivery_counts(r) for (source, day), r in sorted(latest.items())}
    return {"tables": tables, "ledger": counts, "ledger_rows": len(records)}


def delivery_counts(record: ledger.Delivery) -> tuple:
    """A ledger row without when it was recorded or its batch id: what two runs must share."""
    return (
        record.status,
        record.landing_rows,
        record.bronze_rows,
        record.quarantined_rows,
        record.duplicates_dropped,
        record.quarantined_by_reason,
    )
