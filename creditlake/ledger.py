"""The lake's own records: the delivery ledger and the quality-gate results, as Iceberg tables.

Readiness is a fact here, never a marker file. Both tables are append-only (a state change is a
new row; the latest row per key is the current state), so they are also the audit trail: which
file was loaded for which date, how it reconciled, which gate passed it and which snapshot it was
published as.

- ``lake.deliveries``: one row per state of a (source, as-of date) delivery: ``staged`` (written
  on its audit branch, reconciled), ``published``, or a refusal (``unbalanced``, ``rejected`` by
  its gate, ``duplicate`` content already loaded under another date).
- ``lake.gate_results``: one row per gate evaluation: the suite, the date, the exact snapshot it
  read, pass or fail and the counts by severity.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict, dataclass, field, fields, replace
from typing import TYPE_CHECKING, Any

from creditlake.lake import (
    LEDGER_NAMESPACE,
    Lake,
    LakeError,
    Staged,
    audit_branch,
    bronze_table,
    quarantine_table,
)

if TYPE_CHECKING:
    import pyarrow as pa

DELIVERIES = f"{LEDGER_NAMESPACE}.deliveries"
GATE_RESULTS = f"{LEDGER_NAMESPACE}.gate_results"

# Delivery states.
STAGED = "staged"
PUBLISHED = "published"
UNBALANCED = "unbalanced"
REJECTED = "rejected"
DUPLICATE = "duplicate"


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True)
class Delivery:
    """One state of one source's delivery for one as-of date."""

    source: str
    as_of_date: dt.date
    status: str
    batch_id: str
    landing_file: str
    content_sha256: str
    landing_rows: int
    bronze_rows: int
    quarantined_rows: int
    duplicates_dropped: int
    quarantined_by_reason: dict[str, int] = field(default_factory=dict)
    bronze_snapshot_id: int | None = None
    quarantine_snapshot_id: int | None = None
    detail: str = ""
    recorded_at: dt.datetime = field(default_factory=_now)

    @property
    def balanced(self) -> bool:
        accounted = self.bronze_rows + self.quarantined_rows + self.duplicates_dropped
        return self.landing_rows == accounted

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["as_of_date"] = self.as_of_date.isoformat()
        data["recorded_at"] = self.recorded_at.isoformat()
        data["balanced"] = self.balanced
        return data


@dataclass(frozen=True)
class GateResult:
    """One evaluation of a quality gate on one exact snapshot of its data."""

    suite: str
    as_of_date: dt.date
    #: What was validated: a lake table (``bronze.loans``) or ``warehouse``.
    subject: str
    #: The snapshot read (a lake snapshot id), or None for the warehouse.
    snapshot_id: int | None
    passed: bool
    evaluated: int
    failed_critical: int
    failed_warning: int
    detail: str = ""
    recorded_at: dt.datetime = field(default_factory=_now)


def _arrow_schema(record: type) -> pa.Schema:
    import pyarrow as pa

    types = {
        "str": pa.string(),
        "int": pa.int64(),
        "int | None": pa.int64(),
        "bool": pa.bool_(),
        "dt.date": pa.date32(),
        "dt.datetime": pa.timestamp("us", tz="UTC"),
        "dict[str, int]": pa.string(),  # JSON text
    }
    return pa.schema([pa.field(f.name, types[f.type]) for f in fields(record)])


def _to_arrow(record: Delivery | GateResult) -> pa.Table:
    import pyarrow as pa

    row = {
        f.name: json.dumps(value, sort_keys=True) if isinstance(value, dict) else value
        for f in fields(record)
        for value in [getattr(record, f.name)]
    }
    return pa.Table.from_pylist([row], schema=_arrow_schema(type(record)))


def _from_row(record: type, row: dict[str, Any]) -> Any:
    values = dict(row)
    for f in fields(record):
        if f.type == "dict[str, int]":
            values[f.name] = json.loads(values[f.name] or "{}")
    return record(**values)


def record(lake: Lake, entry: Delivery | GateResult) -> None:
    """Append one row to its table (a small commit, retried if another writer won a race)."""
    table = DELIVERIES if isinstance(entry, Delivery) else GATE_RESULTS
    lake.append(table, _to_arrow(entry))


def rows(lake: Lake, table: str, row_filter: Any) -> list[dict[str, Any]]:
    """The rows of an append-only record table matching ``row_filter``, oldest first."""
    if not lake.exists(table):
        return []
    rows = lake.load(table).scan(row_filter=row_filter).to_arrow().to_pylist()
    return sorted(rows, key=lambda row: row["recorded_at"])


def deliveries(
    lake: Lake, source: str | None = None, as_of_date: dt.date | None = None
) -> list[Delivery]:
    """Every recorded state, oldest first, optionally of one source and date."""
    from pyiceberg.expressions import AlwaysTrue, And, EqualTo

    conditions = [AlwaysTrue()]
    if source is not None:
        conditions.append(EqualTo("source", source))
    if as_of_date is not None:
        conditions.append(EqualTo("as_of_date", as_of_date.isoformat()))
    condition = conditions[0]
    for extra in conditions[1:]:
        condition = And(condition, extra)
    return [_from_row(Delivery, row) for row in rows(lake, DELIVERIES, condition)]


def latest_delivery(lake: Lake, source: str, as_of_date: dt.date) -> Delivery | None:
    """The current state of ``source``'s delivery for ``as_of_date``, if any."""
    found = deliveries(lake, source, as_of_date)
    return found[-1] if found else None


def published_delivery(lake: Lake, source: str, as_of_date: dt.date) -> Delivery | None:
    """The delivery downstream may read, if its latest state is published."""
    latest = latest_delivery(lake, source, as_of_date)
    return latest if latest is not None and latest.status == PUBLISHED else None


def last_published(lake: Lake, source: str, as_of_date: dt.date) -> Delivery | None:
    """The most recent publish of the date (what ``main`` serves), even if a re-run is under way."""
    found = [d for d in deliveries(lake, source, as_of_date) if d.status == PUBLISHED]
    return found[-1] if found else None


def loaded_elsewhere(
    lake: Lake, source: str, content_sha256: str, as_of_date: dt.date
) -> Delivery | None:
    """A published delivery of the same bytes for ``source`` under another date, if any."""
    from pyiceberg.expressions import And, EqualTo

    matches = rows(
        lake,
        DELIVERIES,
        And(EqualTo("source", source), EqualTo("content_sha256", content_sha256)),
    )
    for row in reversed(matches):
        found = _from_row(Delivery, row)
        if found.as_of_date != as_of_date and found.status == PUBLISHED:
            current = latest_delivery(lake, source, found.as_of_date)
            if current is not None and current.content_sha256 == content_sha256:
                return found
    return None


def gate_results(lake: Lake, suite: str, as_of_date: dt.date) -> list[GateResult]:
    from pyiceberg.expressions import And, EqualTo

    matches = rows(
        lake,
        GATE_RESULTS,
        And(EqualTo("suite", suite), EqualTo("as_of_date", as_of_date.isoformat())),
    )
    return [_from_row(GateResult, row) for row in matches]


def latest_gate(lake: Lake, suite: str, as_of_date: dt.date) -> GateResult | None:
    found = gate_results(lake, suite, as_of_date)
    return found[-1] if found else None


def reject_delivery(lake: Lake, delivery: Delivery, detail: str) -> Delivery:
    """Record that the gate refused ``delivery``: its stage stays unpublished for inspection."""
    rejected = replace(delivery, status=REJECTED, detail=detail[:2000], recorded_at=_now())
    record(lake, rejected)
    return rejected


def publish_delivery(lake: Lake, source: str, as_of_date: dt.date, suite: str) -> Delivery:
    """Publish a staged delivery whose gate passed: quarantine, then bronze, then the ledger.

    Structural, not advisory: it publishes only the exact bronze snapshot that the latest run of
    ``suite`` passed for this date. Quarantine goes first and the ledger row last, so a crash in
    between leaves the date unpublished in the ledger (not ready downstream) and a re-run of the
    publish completes it (each table's publish is idempotent).
    """
    current = latest_delivery(lake, source, as_of_date)
    if current is None:
        raise LakeError(f"{source} {as_of_date}: nothing was staged; run its ingest first")
    if current.status == PUBLISHED:
        return current
    if current.status != STAGED:
        raise LakeError(
            f"{source} {as_of_date}: the delivery is {current.status}, not staged "
            f"({current.detail or current.landing_file}); it cannot be published"
        )
    gate = latest_gate(lake, suite, as_of_date)
    if gate is None or not gate.passed or gate.snapshot_id != current.bronze_snapshot_id:
        raise LakeError(
            f"{source} {as_of_date}: gate {suite} has not passed staged snapshot "
            f"{current.bronze_snapshot_id}; nothing published"
        )
    branch = audit_branch(as_of_date)
    lake.publish(
        Staged(quarantine_table(source), as_of_date, branch, current.quarantine_snapshot_id)
    )
    lake.publish(Staged(bronze_table(source), as_of_date, branch, current.bronze_snapshot_id))
    published = replace(current, status=PUBLISHED, recorded_at=_now())
    record(lake, published)
    return published
