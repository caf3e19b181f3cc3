"""The platform summary: what data engineers, ML engineers and governance reviewers look at first.

Built only from what the platform wrote (the lake's delivery ledger, the warehouse, quality reports,
the MLflow registry), so it can be printed again at any time with ``creditlake summary``. The
models' part (champions against the generator's oracle, decisions, portfolio plots, thin-file
inclusion) is in :mod:`orchestration.summary_models`.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from creditlake.settings import Settings
from creditlake.severity import of_gx
from creditlake.sources import SOURCES
from expectations.validate import data_docs_index, quality_summaries_dir
from orchestration.summary_models import (
    decisions_summary,
    models_summary,
    portfolio_summary,
    print_models,
    table_text,
)


def _json_files(root: Path, pattern: str) -> list[dict[str, Any]]:
    return [json.loads(p.read_text()) for p in sorted(root.glob(pattern)) if p.is_file()]


def reconciliation_summary(settings: Settings) -> dict[str, Any]:
    """Rows per source through landing → bronze / quarantine / duplicates, summed over the
    published deliveries; deliveries whose latest state is not published are listed by state."""
    from creditlake.catalog import catalog_exists
    from creditlake.lake import Lake
    from creditlake.ledger import PUBLISHED, deliveries

    per_source: dict[str, Counter] = {name: Counter() for name in SOURCES}
    reasons: Counter = Counter()
    latest = {}
    if catalog_exists(settings):
        for record in deliveries(Lake.from_settings(settings)):
            latest[(record.source, record.as_of_date)] = record
    not_published = []
    dates = set()
    for (source, as_of_date), record in sorted(latest.items()):
        if record.status != PUBLISHED:
            not_published.append(f"{source}/{as_of_date}: {record.status}")
            continue
        dates.add(as_of_date.isoformat())
        for field in ("landing_rows", "bronze_rows", "quarantined_rows", "duplicates_dropped"):
            per_source[source][field] += int(getattr(record, field))
        for reason, count in record.quarantined_by_reason.items():
            reasons[(source, reason)] += int(count)
    return {
        "dates": sorted(dates),
        "sources": {name: dict(counts) for name, counts in per_source.items()},
        "quarantined_by_reason": [
            {"source": source, "reason": reason, "rows": rows}
            for (source, reason), rows in sorted(reasons.items())
        ],
        "not_published": not_published,
    }


def warehouse_summary(settings: Settings) -> dict[str, int]:
    """Row counts of every table and view the warehouse holds, by ``schema.name``."""
    if not settings.warehouse_path.is_file():
        return {}
    import duckdb

    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        relations = con.execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_schema in ('staging', 'intermediate', 'marts', 'ml') "
            "order by table_schema, table_name"
        ).fetchall()
        return {
            f"{schema}.{name}": con.execute(f'select count(*) from "{schema}"."{name}"').fetchone()[
                0
            ]
            for schema, name in relations
        }


def quality_summary(settings: Settings) -> dict[str, Any]:
    """Expectations evaluated, passed and failed (by severity), latest date per suite and date."""
    totals: Counter = Counter()
    failures: dict[str, Counter] = defaultdict(Counter)
    for report in _json_files(quality_summaries_dir(settings), "*/*.json"):
        totals["suites_run"] += 1
        totals["evaluated"] += int(report.get("evaluated", 0))
        totals["passed"] += int(report.get("passed", 0))
        for failed in report.get("failed_expectations", []):
            severity = str(failed.get("severity", "critical"))
            totals[f"failed_{severity}"] += 1
            label = f"{report.get('suite')}: {failed.get('type')}({failed.get('column') or ''})"
            failures[severity][label] += int(failed.get("unexpected_count") or 0)
    return {
        "totals": dict(totals),
        "failures": {sev: dict(items) for sev, items in failures.items()},
    }


def freshness_summary(settings: Settings) -> dict[str, Any]:
    """Sources by freshness status for the last as-of date checked, and those not fresh."""
    from orchestration.freshness import PASS, latest_counts, read_freshness

    results = read_freshness(settings)
    last, counts = latest_counts(results)
    if last is None:
        return {}
    return {
        "as_of_date": last,
        "counts": counts,
        "not_fresh": [r.describe() for r in results if r.as_of_date == last and r.status != PASS],
    }


def build_summary(settings: Settings, demo: Any | None) -> dict[str, Any]:
    from creditlake.catalog import describe

    summary = {
        "layers": reconciliation_summary(settings),
        "warehouse": warehouse_summary(settings),
        "quality": quality_summary(settings),
        "freshness": freshness_summary(settings),
        "models": models_summary(settings),
        "decisions": decisions_summary(settings),
        "portfolio": portfolio_summary(settings),
        "locations": {
            "landing": settings.landing_uri,
            "lake": describe(settings),
            "warehouse": str(settings.warehouse_path),
            "data_docs": str(data_docs_index(settings)),
            "quality_reports": str(quality_summaries_dir(settings)),
            "mlflow_tracking_uri": settings.mlflow_tracking_uri,
            "mlflow_artifacts": settings.mlflow_artifact_root,
            "airflow_home": str(settings.airflow_home),
        },
    }
    if demo is not None:
        states = Counter(run.state for run in demo.runs)
        summary["dag_runs"] = {
            "by_state": dict(states),
            "late_deliveries": demo.late_deliveries,
            "seconds": demo.seconds,
            "runs": [vars(run) for run in demo.runs],
        }
    settings.reports_dir.mkdir(parents=True, exist_ok=True)
    (settings.reports_dir / "platform_summary.json").write_text(
        json.dumps(summary, indent=2, default=str)
    )
    return summary


def print_summary(summary: dict[str, Any], out=print) -> None:
    layers = summary["layers"]
    out("\n=== creditlake summary ===")
    if "dag_runs" in summary:
        runs = summary["dag_runs"]
        out(
            f"DAG runs: {runs['by_state']} in {runs['seconds']} s; late files re-delivered: "
            f"{len(runs['late_deliveries'])}"
        )
    out(f"\nRows per source, logical dates {', '.join(layers['dates'])}:")
    rows = [
        [
            name,
            c.get("landing_rows", 0),
            c.get("bronze_rows", 0),
            c.get("quarantined_rows", 0),
            c.get("duplicates_dropped", 0),
        ]
        for name, c in layers["sources"].items()
    ]
    out(table_text(rows, ["source", "landing", "bronze", "quarantined", "duplicates"]))
    out(
        "lake: "
        + (
            "every delivery is published and balances (landing = bronze + quarantined + duplicates)"
            if not layers["not_published"]
            else f"NOT PUBLISHED: {', '.join(layers['not_published'])}"
        )
    )
    if layers["quarantined_by_reason"]:
        out("\nQuarantined rows by reason:")
        out(
            table_text(
                [[r["source"], r["reason"], r["rows"]] for r in layers["quarantined_by_reason"]],
                ["source", "reason", "rows"],
            )
        )
    if summary["warehouse"]:
        out("\nWarehouse rows:")
        out(
            table_text(
                [[name, count] for name, count in summary["warehouse"].items()], ["model", "rows"]
            )
        )
    quality = summary["quality"]
    totals = quality.get("totals", {})
    out(
        f"\nGreat Expectations: {totals.get('suites_run', 0)} suite runs, "
        f"{totals.get('evaluated', 0)} expectations evaluated, {totals.get('passed', 0)} passed, "
        f"{totals.get('failed_critical', 0)} failed (severity fail) and "
        f"{totals.get('failed_warning', 0)} reported (severity warn)"
    )
    for severity, items in quality.get("failures", {}).items():
        for label, count in items.items():
            out(f"  [{of_gx(severity)}] {label}: {count} unexpected rows")
    freshness = summary.get("freshness") or {}
    if freshness.get("as_of_date"):
        counts = freshness["counts"]
        out(
            f"\nSource freshness ({freshness['as_of_date']}): {counts['pass']} fresh, "
            f"{counts['warn']} warn, {counts['error']} error"
            + "".join(f"\n  {line}" for line in freshness["not_fresh"])
        )
    print_models(summary, out)
    out("\nWhere things are:")
    for name, location in summary["locations"].items():
        out(f"  {name:<20} {location}")
