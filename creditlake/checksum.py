"""Content checksums of tables: equal exactly when two tables hold the same rows.

Order-independent (each row is hashed, the row hashes are sorted, then hashed together), so a
table written in another order, by another engine or in more files has the same checksum, and a
duplicated row changes it. Load-time columns (when and by which batch a row was written, and the
landing location, which differs between a local folder and S3) are left out: two runs of the same
deliveries must agree on content, not on when they ran.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pyarrow as pa

#: Columns that record how and when a row was loaded, not what it says.
LOAD_TIME_COLUMNS = frozenset(
    {"_batch_id", "_ingested_at", "_source_file", "source_file", "ingested_at", "ingest_batch_id"}
)


def checksum_sql(relation: str, columns: Iterable[str]) -> str:
    """A DuckDB query returning ``(rows, checksum)`` of ``relation`` over ``columns``."""
    fields = ", ".join(f'"{name}"' for name in sorted(columns))
    return (
        "select count(*), coalesce(sha256(string_agg(row_hash, '' order by row_hash)), '') "
        f"from (select sha256(cast(struct_pack({fields}) as varchar)) as row_hash from {relation})"
    )


def content_checksum(
    table: pa.Table | str, con: Any = None, exclude: Iterable[str] = LOAD_TIME_COLUMNS
) -> tuple[int, str]:
    """``(rows, checksum)`` of an Arrow table, or of a relation in the DuckDB connection ``con``."""
    import duckdb

    excluded = set(exclude)
    if isinstance(table, str):
        names = [d[0] for d in con.execute(f"select * from {table} limit 0").description]
        return con.execute(checksum_sql(table, [n for n in names if n not in excluded])).fetchone()
    with duckdb.connect() as local:
        local.register("checksummed", table)
        names = [n for n in table.column_names if n not in excluded]
        rows, digest = local.execute(checksum_sql("checksummed", names)).fetchone()
    return rows, digest
