"""The delivery gate: after the transform and before the load, judge the delivery as a whole.

A delivery whose rows are quarantined above the source's threshold is a broken delivery (a unit
change, a renamed key, shifted columns), not a day of bad rows: loading the few rows that pass
would put the broken delivery's values into bronze. So the job counts the transformed delivery
once (:func:`transform_census`, one pass over the cached rows) and :func:`gate_delivery` fails it,
naming the file, before anything is written. JSON keys the registry does not know are reported.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from creditlake.settings import Settings
from creditlake.sources import Source
from spark_jobs.delivery import Delivery, IngestError, shown_name

MALFORMED_JSON = "malformed_json"  # spark_jobs.row_rules.MALFORMED_JSON, without importing Spark

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame

log = logging.getLogger(__name__)

#: The quarantine rate is judged only once more rows than this are quarantined: one bad row in a
#: small daily file is a row problem, not a broken delivery.
MIN_QUARANTINED_ROWS_TO_JUDGE = 5
#: The job's own columns that carry a JSON record's key drift (``spark_jobs.transforms``).
KEY_CENSUS_COLUMNS = ("_extra_keys", "_absent_keys")


def transform_census(deduplicated: DataFrame) -> DataFrame:
    """Counts of the delivery for :func:`gate_delivery`, in one pass over the cached rows.

    Returns ``kind``, ``name``, ``rows``: per outcome and reason (``kind`` is ``bronze``,
    ``quarantine`` or ``duplicate``), and per JSON key that records carry but the registry does
    not know (``extra_key``) or that the registry has but records lack (``absent_key``).
    """
    from pyspark.sql import functions as F

    def tagged(kind: str, names: Column) -> Column:
        return F.transform(
            F.coalesce(names, F.array().cast("array<string>")),
            lambda name: F.struct(F.lit(kind).alias("kind"), name.alias("name")),
        )

    outcome = F.array(
        F.struct(
            F.col("_outcome").alias("kind"), F.coalesce(F.col("_reason"), F.lit("")).alias("name")
        )
    )
    items = [outcome]
    if set(KEY_CENSUS_COLUMNS) <= set(deduplicated.columns):
        items += [
            tagged("extra_key", F.col("_extra_keys")),
            tagged("absent_key", F.col("_absent_keys")),
        ]
    return (
        deduplicated.select(F.inline(F.concat(*items)))
        .groupBy("kind", "name")
        .agg(F.count(F.lit(1)).alias("rows"))
    )


@dataclass(frozen=True)
class Census:
    """Counts of one transformed delivery (from :func:`transform_census`)."""

    rows: int
    quarantined_by_reason: dict[str, int] = field(default_factory=dict)
    #: Parsed JSON records that carry each key the registry does not know, and that lack each
    #: registry key.
    extra_keys: dict[str, int] = field(default_factory=dict)
    absent_keys: dict[str, int] = field(default_factory=dict)
    #: Lines that parsed into a record (JSON Lines: not ``malformed_json``).
    records: int = 0

    @classmethod
    def of(cls, deduplicated: DataFrame) -> Census:
        """Count a transformed delivery (one Spark action)."""
        rows = transform_census(deduplicated).collect()
        return cls.from_counts((row["kind"], row["name"], row["rows"]) for row in rows)

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
    dropped field. Extra keys are schema drift: the job keeps the bronze schema and reports them.
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
    new_fields = sorted(shown_name(key) for key in census.extra_keys)
    if new_fields:
        log.warning(
            "%s %s: JSON records carry keys the registry does not know (not loaded): %s",
            source.name,
            delivery.as_of_date,
            ", ".join(new_fields),
        )
    return new_fields
