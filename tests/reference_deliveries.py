"""The generated deliveries the ingest engines are compared on: one configuration, two tests.

``tests/spark_jobs/test_engine_parity.py`` proves that the DuckDB engine stages exactly what Spark
on ``local[2]`` stages from these deliveries (rows, schemas, checksums, ledger counts);
``tests/cluster/test_spark_standalone.py`` proves that Spark on a standalone cluster stages exactly
what the DuckDB engine stages from the same deliveries (checksums, ledger counts). Generated from
one configuration and seed, and tokenised with one PII key, the two equalities chain: the cluster
stages what ``local[2]`` stages, without the cluster test ingesting every source on Spark twice
(a second Spark driver cost it minutes; the DuckDB engine takes seconds).
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from secret_files import TEST_PII_KEY

if TYPE_CHECKING:
    from generator import GeneratorConfig

EXTRACT = dt.date(2026, 1, 1)
#: The one daily date generated after the extract.
DAILY = EXTRACT + dt.timedelta(days=1)
#: The key both tests tokenise with: the content checksums cover the tokens.
PII_KEY = TEST_PII_KEY


def generator_config() -> GeneratorConfig:
    """Small deliveries (the initial extract and one daily file) with defects, so that quarantine
    is not empty and every quarantine path the generator knows is exercised."""
    from generator import GeneratorConfig

    return GeneratorConfig(
        customers=300,
        behaviour_events=6_000,
        extract_date=EXTRACT,
        days=1,
        seed=7,
        defect_rate=0.01,
        late_source=None,
    )
