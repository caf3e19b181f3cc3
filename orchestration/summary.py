"""The platform summary: what data engineers, ML engineers and governance reviewers look at first.

Built only from what the platform wrote (the lake's delivery ledger, the warehouse, quality reports,
the MLflow registry), so it can be printed again at any time with ``creditlake summary``. The one
exception is the oracle AUC: the generator's true PD, kept apart from landing, is read here (and
only here) to show how close the champion gets to the best possible model.
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


#: The oracle of each model: the generator's true probability of its label, a column of the
#: ground truth kept apart from landing (generator.core writes it).
ORACLE_PROBABILITY = {"credit_pd": "true_pd", "fraud": "true_fpd_p"}


def model_summary(settings: Settings, name: str = "credit_pd") -> dict[str, Any]:
    """Champion and challenger of model ``name``, their out-of-time metrics, and its oracle AUC."""
    try:
        import mlflow
        from mlflow import MlflowClient
        from mlflow.exceptions import MlflowException
    except ImportError:  # pragma: no cover - mlflow is a core dependency
        return {}
    mlflow.set_tracking_uri(settings.mlflow_tracking_uri)
    client = MlflowClient()
    result: dict[str, Any] = {"registered_model": name}
    try:
        versions = client.search_model_versions(f"name='{name}'")
    except MlflowException:
        return {}
    if not versions:
        return {}
    result["versions"] = len(versions)
    for alias in ("champion", "challenger"):
        try:
            version = client.get_model_version_by_alias(name, alias)
        except MlflowException:
            continue
        result[alias] = {"version": int(version.version), **dict(version.tags)}
    champion = result.get("champion")
    if champion:
        result["oracle"] = oracle_auc(settings, champion, name)
        inclusion = _run_json(client, champion.get("training_run_id"), "inclusion.json")
        if inclusion:
            result["inclusion"] = inclusion
    return result


def _run_json(client: Any, run_id: str | None, name: str) -> dict[str, Any] | None:
    """A JSON artifact of a run, or ``None`` when the run or the artifact does not exist."""
    import tempfile

    from mlflow.exceptions import MlflowException

    if not run_id:
        return None
    with tempfile.TemporaryDirectory() as folder:
        try:
            path = client.download_artifacts(run_id, name, folder)
        except (MlflowException, OSError):
            return None
        return json.loads(Path(path).read_text())


def models_summary(settings: Settings) -> dict[str, dict[str, Any]]:
    """:func:`model_summary` of every model the platform trains (ml.names.MODELS)."""
    from ml.names import MODELS

    return {name: model_summary(settings, name) for name in MODELS}


def oracle_auc(settings: Settings, champion: dict[str, Any], name: str = "credit_pd") -> dict:
    """AUC of the generator's true probability of the label on the champion's out-of-time rows."""
    from ml.names import model_target

    target = model_target(name)
    truth_file = settings.oracle_dir / "loan_truth.parquet"
    months = champion.get("oot_months")
    if not truth_file.is_file() or not months or not settings.warehouse_path.is_file():
        return {}
    import duckdb

    from ml.metrics import auc as auc_of

    month_list = [m.strip() for m in str(months).strip("[]").replace("'", "").split(",")]
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        frame = con.execute(
            f"select t.{target.label} as label, truth.{ORACLE_PROBABILITY[name]} as truth "
            f"from {target.training_table} t "
            "join read_parquet(?) truth using (loan_id) "
            f"where strftime(t.{target.month}, '%Y-%m') in (select unnest(?))",
            [str(truth_file), [m[:7] for m in month_list]],
        ).fetchdf()
    if frame["label"].nunique() < 2:
        return {}
    auc = auc_of(frame["label"].astype(float), frame["truth"])
    champion_auc = float(champion.get("oot_auc", "nan"))
    return {
        "oot_loans": len(frame),
        "oracle_auc": round(auc, 4),
        "champion_auc": round(champion_auc, 4),
        "ratio": round(champion_auc / auc, 3) if auc else None,
    }


def build_summary(settings: Settings, demo: Any | None) -> dict[str, Any]:
    from creditlake.catalog import describe

    summary = {
        "layers": reconciliation_summary(settings),
        "warehouse": warehouse_summary(settings),
        "quality": quality_summary(settings),
        "models": models_summary(settings),
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


def _table(rows: list[list[Any]], header: list[str]) -> str:
    widths = [max(len(str(x)) for x in column) for column in zip(header, *rows, strict=False)]
    lines = ["  ".join(str(h).ljust(w) for h, w in zip(header, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    lines += [
        "  ".join(
            str(c).rjust(w) if isinstance(c, int | float) else str(c).ljust(w)
            for c, w in zip(row, widths, strict=True)
        )
        for row in rows
    ]
    return "\n".join(lines)


def print_inclusion(inclusion: dict[str, Any], out=print) -> None:
    """The thin-file inclusion table of the application model's champion (ml.inclusion)."""
    from ml.inclusion import GROUP_LABELS

    out(
        f"\nThin-file inclusion (credit_pd champion's run, {inclusion['family']} refitted without "
        f"the {len(inclusion['behaviour_features_removed'])} behaviour features; out-of-time "
        f"applications; approval = share approved, safest first, at an observed bad rate "
        f"<= {inclusion['bad_rate']:.0%}):"
    )
    rows = [
        [
            GROUP_LABELS.get(g["group"], g["group"]),
            g["rows"],
            g["bads"],
            g["auc_with_behaviour"] if g["auc_with_behaviour"] is not None else "-",
            g["auc_without_behaviour"] if g["auc_without_behaviour"] is not None else "-",
            g["auc_lift"] if g["auc_lift"] is not None else "-",
            f"{g['approval_with_behaviour']:.1%}",
            f"{g['approval_without_behaviour']:.1%}",
        ]
        for g in inclusion["groups"]
    ]
    out(
        _table(
            rows,
            [
                "group",
                "rows",
                "bads",
                "AUC with",
                "AUC without",
                "lift",
                "approved with",
                "approved without",
            ],
        )
    )


def _rounded(value: Any) -> Any:
    """A metric tag (text) as a 4-decimal number, or '-' when absent."""
    try:
        return round(float(value), 4)
    except (TypeError, ValueError):
        return "-"


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
    out(_table(rows, ["source", "landing", "bronze", "quarantined", "duplicates"]))
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
            _table(
                [[r["source"], r["reason"], r["rows"]] for r in layers["quarantined_by_reason"]],
                ["source", "reason", "rows"],
            )
        )
    if summary["warehouse"]:
        out("\nWarehouse rows:")
        out(
            _table(
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
    models = {name: m for name, m in summary.get("models", {}).items() if m.get("champion")}
    if models:
        out(
            "\nModels (champion's out-of-time AUC and KS against the oracle AUC of the true "
            "probability on the same loans):"
        )
        rows = []
        for name, model in models.items():
            champion, oracle = model["champion"], model.get("oracle") or {}
            challenger = model.get("challenger") or {}
            rows.append(
                [
                    name,
                    model["versions"],
                    f"v{champion['version']} {champion.get('model_family')}",
                    _rounded(champion.get("oot_auc")),
                    _rounded(champion.get("oot_ks")),
                    oracle.get("oracle_auc", "-"),
                    f"{oracle['ratio']:.1%}" if oracle.get("ratio") else "-",
                    oracle.get("oot_loans", "-"),
                    f"v{challenger['version']} {_rounded(challenger.get('oot_auc'))}"
                    if challenger
                    else "-",
                ]
            )
        out(
            _table(
                rows,
                [
                    "model",
                    "versions",
                    "champion",
                    "OOT AUC",
                    "OOT KS",
                    "oracle AUC",
                    "ratio",
                    "OOT loans",
                    "challenger AUC",
                ],
            )
        )
    inclusion = models.get("credit_pd", {}).get("inclusion")
    if inclusion:
        print_inclusion(inclusion, out)
    out("\nWhere things are:")
    for name, location in summary["locations"].items():
        out(f"  {name:<20} {location}")
