"""One severity model for every data rule, whichever tool enforces it.

A rule either **fails** (the delivery or build stops; its Airflow task fails at once, without
retries, and nothing downstream runs for the date), **quarantines** (the row goes to the
quarantine table with its reason and the day goes on, unless the source's quarantine threshold is
exceeded, which fails the delivery), or **warns** (the record is kept; the breach is counted in
the ledger, the quality summary and Data Docs for governance to review). Great Expectations and
dbt each have their own words for the same two outcomes; they are mapped here, once.
"""

from __future__ import annotations

FAIL = "fail"
QUARANTINE = "quarantine"
WARN = "warn"
SEVERITIES = (FAIL, QUARANTINE, WARN)

#: Great Expectations' ``severity`` for each outcome it can give.
GX_NAMES = {FAIL: "critical", WARN: "warning"}
#: dbt's test ``severity`` config for each outcome it can give.
DBT_NAMES = {FAIL: "error", WARN: "warn"}

#: What each outcome leaves in Airflow.
TASK_STATES = {
    FAIL: "failed, without retries; downstream readiness stays false for the date",
    QUARANTINE: "success, rows in quarantine (failed when the source's threshold is exceeded)",
    WARN: "success; the breach is counted in the ledger, the summary and Data Docs",
}


def of_gx(name: str) -> str:
    """The platform's severity of a Great Expectations severity (``info`` reports, like warn)."""
    lowered = str(name).lower()
    if lowered == "info":
        return WARN
    for severity, gx_name in GX_NAMES.items():
        if gx_name == lowered:
            return severity
    raise ValueError(f"unknown Great Expectations severity {name!r}")


def of_dbt(name: str) -> str:
    """The platform's severity of a dbt test severity (``ERROR``/``warn``, any case)."""
    lowered = str(name).lower()
    for severity, dbt_name in DBT_NAMES.items():
        if dbt_name == lowered:
            return severity
    raise ValueError(f"unknown dbt test severity {name!r}")
