"""What a model was trained on, recorded so that anyone can rebuild its training set.

A training run reads the warehouse, which dbt built from the lake's bronze tables at the
snapshots ``orchestration.dbt.pin_bronze`` pinned (``lake.pinned_snapshots``). Those snapshot
ids, a hash of the dbt project as the manifest describes it, and the content hash of the exact
rows trained on are logged on the run and tagged on every model version it registers;
``creditlake reproduce`` rebuilds the training set from the same snapshots and compares hashes.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from creditlake.checksum import content_checksum
from creditlake.lake import PINNED_SNAPSHOTS_TABLE

if TYPE_CHECKING:
    import pandas as pd

#: Prefix of the tags that name a table's snapshot (``lake_snapshot.bronze.loans``).
SNAPSHOT_TAG_PREFIX = "lake_snapshot."
TRAINING_SET_SHA = "training_set_sha256"
TRAINING_SET_ROWS = "training_set_rows"
MANIFEST_SHA = "dbt_manifest_sha256"


@dataclass(frozen=True)
class TrainingLineage:
    snapshots: dict[str, int]
    manifest_sha256: str
    training_set_sha256: str
    training_set_rows: int

    def tags(self) -> dict[str, str]:
        """MLflow tags (on the run and on each registered version)."""
        tags = {f"{SNAPSHOT_TAG_PREFIX}{table}": str(sid) for table, sid in self.snapshots.items()}
        return {
            **tags,
            MANIFEST_SHA: self.manifest_sha256,
            TRAINING_SET_SHA: self.training_set_sha256,
            TRAINING_SET_ROWS: str(self.training_set_rows),
        }

    @classmethod
    def from_tags(cls, tags: dict[str, str]) -> TrainingLineage:
        missing = [key for key in (MANIFEST_SHA, TRAINING_SET_SHA) if key not in tags]
        if missing:
            raise KeyError(f"no training lineage recorded (missing tags {', '.join(missing)})")
        snapshots = {
            key.removeprefix(SNAPSHOT_TAG_PREFIX): int(value)
            for key, value in tags.items()
            if key.startswith(SNAPSHOT_TAG_PREFIX)
        }
        return cls(
            snapshots,
            tags[MANIFEST_SHA],
            tags[TRAINING_SET_SHA],
            int(tags.get(TRAINING_SET_ROWS, "0")),
        )


def pinned_snapshots(warehouse_path: Path) -> dict[str, int]:
    """``{lake table: snapshot id}`` the warehouse was built from (empty if never pinned)."""
    import duckdb

    with duckdb.connect(str(warehouse_path), read_only=True) as con:
        schema, name = PINNED_SNAPSHOTS_TABLE.split(".")
        found = con.execute(
            "select count(*) from information_schema.tables where table_schema = ? "
            "and table_name = ?",
            [schema, name],
        ).fetchone()[0]
        if not found:
            return {}
        rows = con.execute(f"select table_name, snapshot_id from {PINNED_SNAPSHOTS_TABLE}")
        return {table: int(snapshot) for table, snapshot in rows.fetchall()}


def manifest_sha256(manifest_path: Path) -> str:
    """A hash of the dbt project's code as the manifest records it (models, tests, macros,
    sources), stable across parses: it hashes each node's own checksum, not the manifest file,
    which also holds timestamps and invocation ids."""
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    parts = []
    for section in ("nodes", "sources", "macros"):
        for unique_id, node in sorted(manifest.get(section, {}).items()):
            checksum = (node.get("checksum") or {}).get("checksum")
            if checksum is None:
                checksum = hashlib.sha256(
                    (
                        node.get("macro_sql") or json.dumps(node.get("columns"), sort_keys=True)
                    ).encode()
                ).hexdigest()
            parts.append(f"{unique_id}={checksum}")
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def training_set_sha256(frame: pd.DataFrame) -> tuple[int, str]:
    """``(rows, content hash)`` of the rows trained on, whatever their order."""
    import pyarrow as pa

    rows, digest = content_checksum(pa.Table.from_pandas(frame, preserve_index=False))
    return rows, digest


def training_lineage(
    warehouse_path: Path, manifest_path: Path, rows_and_hash: tuple[int, str]
) -> TrainingLineage:
    """The lineage of a training set whose :func:`training_set_sha256` is ``rows_and_hash``."""
    rows, digest = rows_and_hash
    return TrainingLineage(
        snapshots=pinned_snapshots(warehouse_path),
        manifest_sha256=manifest_sha256(manifest_path),
        training_set_sha256=digest,
        training_set_rows=rows,
    )
