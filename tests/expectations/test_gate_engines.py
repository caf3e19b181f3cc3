"""The bronze gate's two engines agree, and the in-process one needs no Spark at all.

After a DuckDB ingest the gate validates in-process on pandas; after a Spark ingest, on Spark.
Only the names of the column types differ between the two suites
(:mod:`expectations.column_types`), so on the same staged data both must reach the same verdict
and write the same summary, failures and counts included.
"""

from __future__ import annotations

import json
from dataclasses import replace
from decimal import Decimal
from typing import Any

import pytest
from child_python import run_python
from quality_fixtures import DAY, valid_row, write_bronze

from creditlake.settings import Settings
from expectations.validate import QualityGateError, validate_bronze

pytestmark = pytest.mark.slow

RAW_NATIONAL_ID = "11010119900307123X"


def _rows(source: str, count: int, **overrides: Any) -> list[dict[str, Any]]:
    return [
        valid_row(source, n, **overrides) if n == 0 else valid_row(source, n) for n in range(count)
    ]


#: (case, source, rows, write_bronze options, passes?)
CASES = [
    ("clean", "loans", _rows("loans", 3), {}, True),
    (
        "policy warnings",
        "applications",
        [
            *_rows(
                "applications", 2, apr=Decimal("0.3000"), requested_amount_cny=Decimal("250000")
            ),
            valid_row("applications", 2, apr=Decimal("0.2400")),  # at the cap: within policy
        ],
        {},
        True,
    ),
    ("wrong type", "loans", _rows("loans", 2), {"retype": {"term_months": "string"}}, False),
    ("wider integer", "loans", _rows("loans", 2), {"retype": {"term_months": "bigint"}}, False),
    (
        "date as timestamp",
        "loans",
        _rows("loans", 2),
        {"retype": {"first_due_date": "timestamp"}},
        False,
    ),
    (
        "schema drift",
        "transactions",
        _rows("transactions", 2),
        {"drop": ("merchant_name",)},
        False,
    ),
    (
        "raw identifier",
        "customers",
        _rows("customers", 3, national_id_token=RAW_NATIONAL_ID),
        {},
        False,
    ),
]


def _gate(settings: Settings, engine: str, spark: Any, source: str) -> tuple[bool, dict, dict]:
    """Run the gate with ``engine`` as the ingest engine: (passed, result, stored summary)."""
    engine_settings = replace(settings, ingest_engine=engine)
    try:
        result = validate_bronze(source, DAY, spark if engine == "spark" else None, engine_settings)
        passed = True
    except QualityGateError as error:
        (result,) = error.results
        passed = False
    summary = json.loads(
        (settings.reports_dir / "quality" / f"bronze_{source}" / f"{DAY}.json").read_text()
    )
    return passed, result.to_dict(), summary


@pytest.mark.parametrize(
    ("source", "rows", "options", "passes"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_both_gate_engines_give_the_same_verdict_and_summary(
    spark, settings: Settings, source: str, rows: list, options: dict, passes: bool
) -> None:
    write_bronze(settings, source, rows, **options)
    in_process = _gate(settings, "duckdb", spark, source)
    # a failed gate rejects its delivery: the same rows are staged again for the other engine
    write_bronze(settings, source, rows, **options)
    on_spark = _gate(settings, "spark", spark, source)

    assert in_process[0] is passes
    assert in_process == on_spark
    assert in_process[1] == in_process[2]  # the summary file is the result, on both engines


CHILD = """
import json, sys
sys.modules["pyspark"] = None  # as on an image without pyspark: importing it fails
import pendulum
from orchestration.ingest import build_ingest_dag
task = build_ingest_dag("loan_origination", None).get_task("loans.validate_bronze")
result = task.python_callable(data_interval_start=pendulum.datetime(2026, 1, 2, tz="UTC"))
print(json.dumps({
    "pyspark": sorted(m for m in sys.modules if m.startswith("pyspark.")),
    "success": result["success"],
    "rows": result["rows"],
}))
"""


def test_the_gate_after_a_duckdb_ingest_never_imports_pyspark(settings: Settings) -> None:
    """The Airflow task itself, in a process where pyspark cannot be imported at all: no JVM is
    started, and neither the gate nor GX's Spark support gets near pyspark."""
    write_bronze(settings, "loans", _rows("loans", 3))
    found = run_python(CHILD, CREDITLAKE_INGEST_ENGINE="duckdb")
    assert found == {"pyspark": [], "success": True, "rows": 3}
