"""The delivery gate: after the transform and before the load, judge the delivery as a whole.

A delivery whose rows are quarantined above the source's threshold is a broken delivery (a unit
change, a renamed key, shifted columns), not a day of bad rows: loading the few rows that pass
would put the broken delivery's values into bronze. So the job counts its output (:class:`Census`,
from the scratch files its one Spark write produced) and :func:`gate_delivery` fails it, naming
the file, before anything reaches the lake. JSON keys the registry does not know become new
bronze columns (:func:`new_columns`).
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from creditlake.settings import Settings
from creditlake.sources import PARTITION_COLUMN, Source, bronze_columns
from spark_jobs.delivery import Delivery, IngestError, shown_name

MALFORMED_JSON = "malformed_json"  # spark_jobs.row_rules.MALFORMED_JSON, without importing Spark

log = logging.getLogger(__name__)

#: The quarantine rate is judged only once more rows than this are quarantined: one bad row in a
#: small daily file is a row problem, not a broken delivery.
MIN_QUARANTINED_ROWS_TO_JUDGE = 5
#: The job's own columns that carry a JSON record's key drift (``spark_jobs.transforms``).
KEY_CENSUS_COLUMNS = ("_extra_keys", "_absent_keys")
#: A JSON record's fields that the registry does not declare (a map of key to text), carried to
#: the job's bronze output; the lake seam adds each as a text column (additive schema evolution).
EXTRA_FIELDS = "_extra_fields"
#: The columns the job carries from the parse to its outputs for schema drift.
DRIFT_COLUMNS = (*KEY_CENSUS_COLUMNS, EXTRA_FIELDS)
#: What an undeclared JSON key must look like to become a bronze column.
NEW_COLUMN_NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
#: The job's scratch output prefixes the quarantine columns (``spark_jobs.load.write_scratch``).
QUARANTINE_PREFIX = "_q_"
QUARANTINE_REASON = f"{QUARANTINE_PREFIX}reason"


@dataclass(frozen=True)
class Census:
    """Counts of one transformed delivery (from the job's output: :meth:`from_output`)."""

    rows: int
    quarantined_by_reason: dict[str, int] = field(default_factory=dict)
    #: Parsed JSON records that carry each key the registry does not know, and that lack each
    #: registry key.
    extra_keys: dict[str, int] = field(default_factory=dict)
    absent_keys: dict[str, int] = field(default_factory=dict)
    #: Lines that parsed into a record (JSON Lines: not ``malformed_json``).
    records: int = 0

    @classmethod
    def from_output(
        cls, bronze_files: list[str], quarantine_files: list[str], key_files: list[str], copies: int
    ) -> Census:
        """Count the job's scratch output (Parquet): bronze rows from the files' metadata, the
        quarantine reasons and the records' key drift from one small column each.

        ``key_files`` hold the ``_extra_keys``/``_absent_keys`` of the records that have any;
        ``copies`` is the count of exact duplicate lines dropped.
        """
        import pyarrow.parquet as pq

        counts: list[tuple[str, str, int]] = [("duplicate", "", copies)]
        for path in bronze_files:
            counts.append(("bronze", "", pq.ParquetFile(path).metadata.num_rows))
        for path in quarantine_files:
            reasons = pq.read_table(path, columns=[QUARANTINE_REASON]).column(0).to_pylist()
            counts += [("quarantine", reason, count) for reason, count in Counter(reasons).items()]
        for path in key_files:
            table = pq.read_table(path, columns=list(KEY_CENSUS_COLUMNS))
            for kind, column in zip(("extra_key", "absent_key"), table.columns, strict=True):
                for keys in column.to_pylist():
                    counts += [(kind, key, 1) for key in keys or ()]
        return cls.from_counts(counts)

    @classmethod
    def from_counts(cls, counts: Iterable[tuple[str, str, int]]) -> Census:
        """From ``(kind, name, rows)`` triples; ``kind`` is an outcome, ``extra_key`` or
        ``absent_key``."""
        by_kind: dict[str, Counter] = {}
        for kind, name, rows in counts:
            by_kind.setdefault(kind, Counter())[name] += rows
        quarantined = by_kind.get("quarantine", Counter())
        outcomes = ("bronze", "quarantine", "duplicate")
        rows = sum(sum(by_kind.get(kind, Counter()).values()) for kind in outcomes)
        return cls(
            rows=rows,
            quarantined_by_reason=dict(quarantined),
            extra_keys=dict(by_kind.get("extra_key", Counter())),
            absent_keys=dict(by_kind.get("absent_key", Counter())),
            records=rows - quarantined.get(MALFORMED_JSON, 0),
        )


def max_quarantine_rate(source: Source, settings: Settings) -> float:
    return (
        source.max_quarantine_rate
        if source.max_quarantine_rate is not None
        else settings.max_quarantine_rate
    )


def _too_many(count: int, rows: int, rate: float) -> bool:
    return count > max(rate * rows, MIN_QUARANTINED_ROWS_TO_JUDGE)


def gate_delivery(census: Census, delivery: Delivery, settings: Settings) -> list[str]:
    """Fail when the delivery as a whole looks wrong; return the JSON keys the registry lacks.

    Too many quarantined rows fail it (the message gives the top reasons), and so does a registry
    key missing from every record, or from more than the threshold's share of them: a renamed or
    dropped field. Extra keys are additive drift: :func:`new_columns`.
    """
    source, location = delivery.source, delivery.location
    rate = max_quarantine_rate(source, settings)
    absent = {
        key: count
        for key, count in census.absent_keys.items()
        if census.records and (count == census.records or _too_many(count, census.records, rate))
    }
    if absent:
        shown = ", ".join(
            f"{key} ({count} of {census.records} records)" for key, count in sorted(absent.items())
        )
        raise IngestError(
            f"landing file {location} lacks registry keys in its JSON records: {shown}; "
            "renamed or dropped fields?"
        )
    quarantined = sum(census.quarantined_by_reason.values())
    if census.rows and _too_many(quarantined, census.rows, rate):
        top = sorted(census.quarantined_by_reason.items(), key=lambda item: (-item[1], item[0]))
        reasons = ", ".join(f"{reason} {count}" for reason, count in top[:3])
        raise IngestError(
            f"landing file {location}: {quarantined} of {census.rows} rows quarantined "
            f"({100 * quarantined / census.rows:.1f} %) > {100 * rate:g} % threshold; "
            f"the delivery looks wrong: top reasons: {reasons}"
        )
    return new_columns(census, delivery)


def new_columns(census: Census, delivery: Delivery) -> list[str]:
    """The undeclared JSON keys the records carry, which the load adds to bronze as text columns.

    Additive drift is loaded, not dropped: a new field a source starts sending is data someone
    will ask for. Its values were screened like any unprotected text (a value shaped like a
    personal identifier quarantines its row), and it is reported in the ledger and the log. A key
    that cannot be a column name, or that would shadow a bronze column, fails the delivery.
    """
    source, location = delivery.source, delivery.location
    taken = {column.name for column in bronze_columns(source)} | {PARTITION_COLUMN}
    refused = sorted(
        shown_name(key)
        for key in census.extra_keys
        if not NEW_COLUMN_NAME.match(key) or key in taken
    )
    if refused:
        raise IngestError(
            f"landing file {location}: JSON records carry keys the registry does not declare "
            f"that cannot become bronze columns: {', '.join(refused)} (a new column needs a "
            "lower-case name of letters, digits and _ that no bronze column has); declare them "
            "in the source registry or ask the source to rename them"
        )
    added = sorted(census.extra_keys)
    if added:
        log.warning(
            "%s %s: JSON records carry fields the registry does not declare, loaded as new text "
            "columns of bronze: %s",
            source.name,
            delivery.as_of_date,
            ", ".join(f"{key} ({census.extra_keys[key]} records)" for key in added),
        )
    return added
