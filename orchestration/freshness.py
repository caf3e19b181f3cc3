"""Source freshness per as-of date: how old the newest bronze delivery of every source is.

The SLAs live in the dbt sources (``dbt_project/models/staging/*/_*__sources.yml``: the
``loaded_at_field`` is the bronze lineage column ``_ingested_at``, the real time a batch was
written, and ``freshness`` holds each source's ``warn_after`` / ``error_after``), so there is one
copy of the thresholds: dbt evaluates them and this module only condenses what dbt wrote. The
check for a date looks at the deliveries that date's build reads (``ingest_date`` up to the as-of
date, as staging does: the sources' ``filter`` reads the date from :data:`CHECK_DATE_TABLE`, which
the check writes into the warehouse first, so the date never enters what dbt parses), once per
date, and its result is kept as
``<reports_dir>/freshness/<as_of_date>.json`` for the summary and the governance report.

A ``warn`` is recorded and lets the run go on; an ``error`` fails the check. The age is measured
against the moment of the check, as dbt does: re-running an old date later reports the age of its
data at that later moment.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from creditlake.settings import DBT_TARGET_DIR, Settings

#: The statuses a result can have: dbt's ``pass`` / ``warn`` / ``error``; a source dbt could not
#: query at all (``runtime error``: a missing table) counts as ``error``.
PASS, WARN, ERROR = "pass", "warn", "error"
STATUSES = (PASS, WARN, ERROR)
_DBT_STATUSES = {"pass": PASS, "warn": WARN, "error": ERROR, "runtime error": ERROR}
#: dbt reports a table without any row in the filter as loaded at 0001-01-01 ("infinitely long
#: ago"); that is not a load time, so it is kept as ``None``.
#: The warehouse table holding the date a freshness check is for (one row), read by the sources'
#: freshness ``filter``.
CHECK_DATE_TABLE = "lake.freshness_as_of"
_NEVER_LOADED_YEAR = 1

logger = logging.getLogger(__name__)


class FreshnessError(RuntimeError):
    """A source is past its ``error_after`` SLA (or could not be checked) for the as-of date."""


@dataclass(frozen=True)
class FreshnessResult:
    """One source table's freshness for one as-of date, as dbt measured it."""

    as_of_date: str
    #: The dbt source (the source system: ``los``, ``behaviour``, ``bureau``) and its table.
    source: str
    table: str
    status: str
    #: The newest ``_ingested_at`` among the deliveries up to the as-of date (UTC, ISO 8601);
    #: ``None`` when there is none.
    max_loaded_at: str | None
    #: When dbt checked (UTC, ISO 8601).
    snapshotted_at: str | None
    age_seconds: float | None
    #: The SLA as dbt applied it, e.g. ``"26 hours"``; ``None`` where the source sets none.
    warn_after: str | None
    error_after: str | None
    #: dbt's error for a source it could not query.
    message: str | None = None

    @property
    def name(self) -> str:
        return f"{self.source}.{self.table}"

    @property
    def age_hours(self) -> float | None:
        return None if self.age_seconds is None else round(self.age_seconds / 3600, 2)

    def describe(self) -> str:
        """One line for logs and error messages."""
        if self.message:
            return f"{self.name}: {self.status} ({self.message})"
        if self.max_loaded_at is None:
            return f"{self.name}: {self.status} (no delivery up to {self.as_of_date})"
        return (
            f"{self.name}: {self.status}, last loaded {self.max_loaded_at} ({self.age_hours} h ago;"
            f" warn after {self.warn_after}, error after {self.error_after})"
        )


def freshness_dir(settings: Settings) -> Path:
    return settings.reports_dir / "freshness"


def freshness_path(settings: Settings, as_of_date: dt.date | str) -> Path:
    return freshness_dir(settings) / f"{as_of_date}.json"


def _threshold(criteria: dict[str, Any], key: str) -> str | None:
    """dbt's ``{"count": 26, "period": "hour"}`` as ``"26 hours"``."""
    value = criteria.get(key) or {}
    count, period = value.get("count"), value.get("period")
    if count is None or period is None:
        return None
    return f"{count} {period}{'' if count == 1 else 's'}"


def _loaded_at(value: str | None) -> str | None:
    if value is None or dt.datetime.fromisoformat(value).year == _NEVER_LOADED_YEAR:
        return None
    return value


def parse_sources_json(
    document: dict[str, Any], as_of_date: dt.date | str
) -> list[FreshnessResult]:
    """Condense dbt's ``sources.json`` (schema v3) into one result per source table.

    The source and table come from the node's ``unique_id`` (``source.<project>.<source>.<table>``).
    """
    results = []
    for row in document.get("results", []):
        _, _, source, table = row["unique_id"].split(".", 3)
        dbt_status = str(row["status"])
        if dbt_status not in _DBT_STATUSES:
            raise ValueError(f"unknown dbt freshness status {dbt_status!r} for {row['unique_id']}")
        criteria = row.get("criteria") or {}
        max_loaded_at = _loaded_at(row.get("max_loaded_at"))
        age = row.get("max_loaded_at_time_ago_in_s")
        results.append(
            FreshnessResult(
                as_of_date=str(as_of_date),
                source=source,
                table=table,
                status=_DBT_STATUSES[dbt_status],
                max_loaded_at=max_loaded_at,
                snapshotted_at=row.get("snapshotted_at"),
                age_seconds=None if age is None or max_loaded_at is None else round(float(age), 1),
                warn_after=_threshold(criteria, "warn_after"),
                error_after=_threshold(criteria, "error_after"),
                message=row.get("error"),
            )
        )
    return sorted(results, key=lambda r: (r.source, r.table))


def write_freshness(
    settings: Settings, as_of_date: dt.date | str, results: list[FreshnessResult]
) -> Path:
    """Replace the date's freshness file (written aside, then moved), so a re-run overwrites it."""
    path = freshness_path(settings, as_of_date)
    path.parent.mkdir(parents=True, exist_ok=True)
    document = {"as_of_date": str(as_of_date), "results": [asdict(r) for r in results]}
    partial = path.with_suffix(".json.partial")
    partial.write_text(json.dumps(document, indent=2))
    partial.replace(path)
    return path


def read_freshness(settings: Settings) -> list[FreshnessResult]:
    """Every recorded freshness result, by as-of date, source and table."""
    results = []
    for path in sorted(freshness_dir(settings).glob("*.json")):
        document = json.loads(path.read_text())
        results.extend(FreshnessResult(**row) for row in document.get("results", []))
    return sorted(results, key=lambda r: (r.as_of_date, r.source, r.table))


def latest_counts(results: list[FreshnessResult]) -> tuple[str | None, dict[str, int]]:
    """The last as-of date checked and its sources by status (every status, zero included)."""
    if not results:
        return None, {}
    last = max(r.as_of_date for r in results)
    counts = Counter(r.status for r in results if r.as_of_date == last)
    return last, {status: counts.get(status, 0) for status in STATUSES}


def _write_check_date(settings: Settings, date: str) -> None:
    """Put the check's date where the sources' freshness ``filter`` reads it."""
    import duckdb

    settings.warehouse_path.parent.mkdir(parents=True, exist_ok=True)
    schema = CHECK_DATE_TABLE.split(".")[0]
    with duckdb.connect(str(settings.warehouse_path)) as con:
        con.execute(f"create schema if not exists {schema}")
        con.execute(
            f"create or replace table {CHECK_DATE_TABLE} as select cast(? as date) as as_of_date",
            [date],
        )


def check_freshness(settings: Settings, as_of_date: dt.date | str) -> list[FreshnessResult]:
    """Run ``dbt source freshness`` for the date, record the results, fail on an ``error``.

    One dbt invocation checks every source with a freshness SLA against the warehouse's bronze
    views (pinned by the warehouse DAG before its build); dbt writes ``sources.json`` to its
    target folder, read back here and kept per date. Raises :class:`FreshnessError` naming each
    source past its ``error_after``; ``warn`` results are only recorded.
    """
    from orchestration.dbt import (
        DbtRunError,
        pinned_as_of_date,
        release_warehouse,
        run_dbt,
    )

    release_warehouse()  # a Cosmos build in this process may still hold the DuckDB file open
    date = pinned_as_of_date(as_of_date)
    sources_json = DBT_TARGET_DIR / "sources.json"
    sources_json.unlink(missing_ok=True)  # never condense an earlier invocation's file
    args = ["source", "freshness"]
    _write_check_date(settings, date)
    failure: DbtRunError | None = None
    try:
        # pin=False: the check reads the snapshots the build pinned.
        run_dbt(args, settings, date, pin=False)
    except DbtRunError as error:  # an error status fails the invocation, after writing the file
        failure = error
    if not sources_json.is_file():
        raise FreshnessError(f"dbt source freshness wrote no {sources_json}: {failure}")
    results = parse_sources_json(json.loads(sources_json.read_text()), date)
    write_freshness(settings, date, results)
    for result in results:
        if result.status == WARN:
            logger.warning("source freshness warning: %s", result.describe())
    errors = [r for r in results if r.status == ERROR]
    if errors:
        lines = "\n  ".join(r.describe() for r in errors)
        raise FreshnessError(f"source freshness SLA missed for {date}:\n  {lines}")
    if failure is not None:  # dbt failed, but not on a source's freshness
        raise FreshnessError(str(failure))
    return results
