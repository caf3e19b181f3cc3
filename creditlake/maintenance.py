"""Keeping the lake's tables as cheap to write after a year of history as after a week.

Every Iceberg commit copies the table's metadata (pyiceberg deep-copies it per update), and each
commit adds a snapshot to it, so without upkeep a daily delivery's commits cost more every day
(measured: about 0.6 s more per day of history for one date's nine sources, before this). Two
kinds of table, two rules:

- **Bronze and quarantine** (:func:`expire_history`, after each publish): the newest
  ``Settings.snapshot_retention`` snapshots of ``main``'s history stay readable (time travel, a
  build's pinned snapshot); older ones are expired, as Iceberg's own snapshot expiry does. The
  current snapshot holds every date's rows, so nothing published is lost.
- **Record tables** (the ledger, the alias log; :func:`keep_record_table_small`, after each
  append): one commit and one one-row file per event; their content is the record, so past
  ``RECORD_FILES_MAX`` files the rows are rewritten as one file and only the last
  ``RECORD_SNAPSHOTS_KEPT`` snapshots are kept.

Both leave the files they stop referencing on disk (an orphan-file clean-up removes them; not
done here), and both give way in a commit race: the next writer does the upkeep.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pyiceberg.table import Table

log = logging.getLogger(__name__)

#: A record table keeps this many snapshots ...
RECORD_SNAPSHOTS_KEPT = 4
#: ... and is rewritten as one file once it holds more data files than this.
RECORD_FILES_MAX = 64


def lineage(table: Table, snapshot_id: int) -> list[int]:
    """``snapshot_id`` and every snapshot it descends from that the table still holds, newest
    first."""
    found: list[int] = []
    seen: set[int] = set()
    snapshot = table.snapshot_by_id(snapshot_id)
    while snapshot is not None and snapshot.snapshot_id not in seen:
        found.append(snapshot.snapshot_id)
        seen.add(snapshot.snapshot_id)
        parent = snapshot.parent_snapshot_id
        snapshot = table.snapshot_by_id(parent) if parent is not None else None
    return found


def expire_history(table: Table, retention: int | None) -> None:
    """Expire the snapshots older than the newest ``retention`` of ``main``'s history (``None``
    keeps all). Branch heads (deliveries under audit) are never expired."""
    from pyiceberg.exceptions import CommitFailedException

    current = table.metadata.current_snapshot_id
    if retention is None or current is None:
        return
    kept = lineage(table, current)[:retention]
    oldest = min(table.snapshot_by_id(s).timestamp_ms for s in kept)
    try:
        _expire(table, [s for s in table.metadata.snapshots if s.timestamp_ms < oldest], kept)
    except CommitFailedException:
        log.info("%s: snapshot expiry lost a commit race; left to the next publish", table.name())


def keep_record_table_small(table: Table) -> None:
    """Rewrite a record table's rows as one file once it holds more than ``RECORD_FILES_MAX``
    files (the same rows; the commit requires that nobody appended since they were read), then
    expire all but its last ``RECORD_SNAPSHOTS_KEPT`` snapshots."""
    from pyiceberg.exceptions import CommitFailedException, ValidationException

    try:
        snapshot = table.current_snapshot()
        if snapshot and int(snapshot.summary.get("total-data-files", 0)) > RECORD_FILES_MAX:
            with warnings.catch_warnings():
                warnings.filterwarnings("ignore", "Delete operation did not match any records")
                table.overwrite(table.scan(snapshot_id=snapshot.snapshot_id).to_arrow())
        snapshots = sorted(table.metadata.snapshots, key=lambda s: s.timestamp_ms)
        _expire(table, snapshots[:-RECORD_SNAPSHOTS_KEPT])
    except (CommitFailedException, ValidationException):
        log.info("%s: another writer committed meanwhile; upkeep left to the next", table.name())


def _expire(table: Table, candidates: list, kept: Iterable[int] = ()) -> None:
    """Expire ``candidates`` but the ``kept`` ids and every branch or tag head, in one commit."""
    protected = set(kept) | {ref.snapshot_id for ref in table.metadata.refs.values()}
    expired = [s.snapshot_id for s in candidates if s.snapshot_id not in protected]
    if expired:
        table.maintenance.expire_snapshots().by_ids(expired).commit()
