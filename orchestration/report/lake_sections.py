"""The data sections of the governance site: quality gates and quarantine.

Each function reads what the platform recorded for every date it ran (the ledger's Iceberg
tables, the quarantine tables, the per-date JSON summaries) and returns plain rows for the
templates; nothing here renders. Quarantine tables keep the rejected line for inspection, so only
the ``reason`` and ``ingest_date`` columns are ever read from them: no value of a rejected row,
personal or not, reaches the site.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from creditlake import ledger
from creditlake.lake import Lake, quarantine_table
from creditlake.sources import PARTITION_COLUMN, SOURCES
from expectations.validate import quality_summaries_dir

if TYPE_CHECKING:
    from creditlake.settings import Settings

SEVERITIES = ("critical", "warning", "info")


@dataclass(frozen=True)
class GateRow:
    """One suite on one date: the ledger's verdict and the summary's counts, merged."""

    suite: str
    as_of_date: str
    subject: str
    passed: bool
    evaluated: int
    failed: dict[str, int]
    rows: int | None
    #: Failed expectations as ``type(column): n unexpected`` (never a value).
    failures: list[str] = field(default_factory=list)
    #: Where the verdict comes from: ``ledger``, ``summary`` or both.
    recorded_in: str = ""


@dataclass(frozen=True)
class TrendPoint:
    """All gates of one date, for the trend table and plot."""

    as_of_date: str
    suites: int
    passed: int
    failed: int
    failed_by_severity: dict[str, int]


def _summaries(settings: Settings) -> dict[tuple[str, str], dict[str, Any]]:
    """Every gate summary ``<suite>/<date>.json``, by (suite, date)."""
    found: dict[tuple[str, str], dict[str, Any]] = {}
    root = quality_summaries_dir(settings)
    for path in sorted(root.glob("*/*.json")) if root.is_dir() else []:
        try:
            summary = json.loads(path.read_text())
        except (OSError, ValueError):
            continue  # a summary being replaced right now; the ledger still has the verdict
        found[(path.parent.name, path.stem)] = summary
    return found


def _gate_records(lake: Lake) -> dict[tuple[str, str], ledger.GateResult]:
    """The latest ledger verdict per (suite, date): a re-run's row replaces the earlier one."""
    from pyiceberg.expressions import AlwaysTrue

    latest: dict[tuple[str, str], ledger.GateResult] = {}
    for row in ledger.rows(lake, ledger.GATE_RESULTS, AlwaysTrue()):
        result = ledger.GateResult(**row)
        latest[(result.suite, result.as_of_date.isoformat())] = result
    return latest


def _failure_label(failure: dict[str, Any]) -> str:
    where = f"({failure['column']})" if failure.get("column") else ""
    count = failure.get("unexpected_count")
    tail = f": {count} unexpected" if count is not None else ""
    return f"{failure.get('severity', '?')} {failure.get('type', '?')}{where}{tail}"


def gate_rows(settings: Settings, lake: Lake) -> list[GateRow]:
    """Every suite's verdict per date, from the ledger and the summaries together.

    The ledger is the authority on pass/fail (the publish step reads it); the summary adds the
    ``info`` count, the row count and which expectations failed.
    """
    summaries = _summaries(settings)
    records = _gate_records(lake)
    rows = []
    for key in sorted(set(summaries) | set(records), key=lambda k: (k[1], k[0])):
        summary = summaries.get(key, {})
        record = records.get(key)
        failed = {s: int((summary.get("failed") or {}).get(s, 0)) for s in SEVERITIES}
        if record is not None:
            failed["critical"] = record.failed_critical
            failed["warning"] = record.failed_warning
        rows.append(
            GateRow(
                suite=key[0],
                as_of_date=key[1],
                subject=record.subject if record else "",
                passed=record.passed if record else bool(summary.get("success")),
                evaluated=record.evaluated if record else int(summary.get("evaluated", 0)),
                failed=failed,
                rows=summary.get("rows"),
                failures=[_failure_label(f) for f in summary.get("failed_expectations") or []],
                recorded_in=" + ".join(
                    name for name, seen in (("ledger", record), ("summary", summary)) if seen
                ),
            )
        )
    return rows


def quality_trend(rows: list[GateRow]) -> list[TrendPoint]:
    """Per date: how many suites ran, passed and failed, and failed expectations by severity."""
    by_date: dict[str, list[GateRow]] = defaultdict(list)
    for row in rows:
        by_date[row.as_of_date].append(row)
    return [
        TrendPoint(
            as_of_date=date,
            suites=len(day),
            passed=sum(r.passed for r in day),
            failed=sum(not r.passed for r in day),
            failed_by_severity={s: sum(r.failed[s] for r in day) for s in SEVERITIES},
        )
        for date, day in sorted(by_date.items())
    ]


# Quarantine --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class QuarantineCount:
    """Quarantined rows of one source, date and reason (``kind:column``, never a value)."""

    source: str
    as_of_date: str
    reason: str
    rows: int


@dataclass(frozen=True)
class Reconciliation:
    """A delivery's current state in the ledger: landing = bronze + quarantined + duplicates."""

    source: str
    as_of_date: str
    status: str
    landing_rows: int
    bronze_rows: int
    quarantined_rows: int
    duplicates_dropped: int
    balanced: bool
    #: Rows of this date in the published quarantine table (None: not published or no table).
    quarantine_table_rows: int | None


def quarantine_counts(lake: Lake) -> list[QuarantineCount]:
    """Published quarantined rows per source, date and reason, read from the quarantine tables."""
    counts: list[QuarantineCount] = []
    for source in SOURCES:
        table = quarantine_table(source)
        if not lake.exists(table):
            continue
        scan = lake.load(table).scan(selected_fields=("reason", PARTITION_COLUMN))
        tally = Counter(
            (row[PARTITION_COLUMN].isoformat(), row["reason"])
            for row in scan.to_arrow().to_pylist()
        )
        counts.extend(
            QuarantineCount(source, date, reason, n) for (date, reason), n in sorted(tally.items())
        )
    return counts


def reconciliations(lake: Lake, counts: list[QuarantineCount]) -> list[Reconciliation]:
    """The latest ledger state of every (source, date), beside what the quarantine table holds."""
    latest: dict[tuple[str, dt.date], ledger.Delivery] = {}
    for delivery in ledger.deliveries(lake):
        latest[(delivery.source, delivery.as_of_date)] = delivery
    in_table: Counter[tuple[str, str]] = Counter()
    for count in counts:
        in_table[(count.source, count.as_of_date)] += count.rows
    return [
        Reconciliation(
            source=d.source,
            as_of_date=d.as_of_date.isoformat(),
            status=d.status,
            landing_rows=d.landing_rows,
            bronze_rows=d.bronze_rows,
            quarantined_rows=d.quarantined_rows,
            duplicates_dropped=d.duplicates_dropped,
            balanced=d.balanced,
            quarantine_table_rows=(
                in_table.get((d.source, d.as_of_date.isoformat()), 0)
                if d.status == ledger.PUBLISHED
                else None
            ),
        )
        for d in sorted(latest.values(), key=lambda d: (d.as_of_date, d.source))
    ]


def quarantine_by_source_reason(counts: list[QuarantineCount]) -> list[tuple[str, str, int]]:
    """``(source, reason, rows)`` over all dates, largest first within each source."""
    tally: Counter[tuple[str, str]] = Counter()
    for count in counts:
        tally[(count.source, count.reason)] += count.rows
    return sorted(((s, r, n) for (s, r), n in tally.items()), key=lambda x: (x[0], -x[2], x[1]))
