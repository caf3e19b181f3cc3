"""``creditlake report``: the governance site, built from a small recorded run and read back.

The fixture records a run the way the platform does (ledger rows, published and staged
quarantine partitions, gate summaries, freshness files, a registry with an alias log and a
validation report, monitoring tables), builds the site with real dbt docs, and each test compares
one section of the page with what was recorded.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest
from report_page import Page, read_page

from creditlake import ledger
from creditlake.lake import Lake, bronze_table, quarantine_table
from creditlake.settings import Settings, get_settings
from creditlake.sources import (
    CUSTOMER_DERIVED_COLUMNS,
    PARTITION_COLUMN,
    SOURCES,
    bronze_columns,
    get_source,
)
from expectations.context import data_docs_index
from expectations.validate import FailedExpectation, QualityResult, summary_path, write_summary
from ml import alias_log
from ml.monitoring_tables import DDL, STABILITY_TABLE
from ml.tracking import configure_mlflow, ensure_experiment
from orchestration.cli import main as cli
from orchestration.freshness import FreshnessResult, write_freshness
from orchestration.report.site import build_site

DAY1, DAY2 = dt.date(2026, 1, 1), dt.date(2026, 1, 2)
#: Raw identifiers inside quarantined lines: they must never reach the site.
RAW_NATIONAL_ID = "11010119900307457X"
RAW_MOBILE = "13912345678"
QUARANTINE_SCHEMA = pa.schema(
    [
        (name, pa.int64() if name == "row_number" else pa.string())
        for name in ("source", "source_file", "row_number", "reason", "reason_detail")
    ]
    + [("record_json", pa.string()), ("raw_line", pa.string())]
)
#: (source, date, reason) of each quarantined row written; DAY2 of customers is staged only.
PUBLISHED_QUARANTINE = [
    ("customers", DAY1, "missing_required:mobile"),
    ("customers", DAY1, "missing_required:mobile"),
    ("customers", DAY1, "wrong_type:monthly_income_cny"),
    ("loans", DAY1, "negative_amount:apr"),
]
STAGED_ONLY = [("customers", DAY2, "missing_required:name")]
#: (source, date, status, landing, bronze, quarantined, duplicates), in recording order.
DELIVERIES = [
    ("customers", DAY1, ledger.STAGED, 100, 96, 3, 1),
    ("customers", DAY1, ledger.PUBLISHED, 100, 96, 3, 1),
    ("loans", DAY1, ledger.PUBLISHED, 50, 49, 1, 0),
    ("customers", DAY2, ledger.REJECTED, 10, 9, 1, 0),
    ("loans", DAY2, ledger.UNBALANCED, 20, 18, 0, 0),
]
#: (suite, date, passed, evaluated, critical, warning), in recording order (a re-run last).
GATES = [
    ("bronze_customers", DAY1, True, 20, 0, 2),
    ("bronze_loans", DAY1, True, 12, 0, 0),
    ("bronze_customers", DAY2, False, 20, 1, 0),
    ("bronze_loans", DAY2, False, 12, 1, 0),
    ("bronze_loans", DAY2, True, 12, 0, 0),
]
#: A DAG run and its one task, as the OpenLineage file transport writes them.
DAG_ID = "ingest__loan_origination"
DAG_JOB = {"namespace": "creditlake", "name": DAG_ID, "facets": {"jobType": {"jobType": "DAG"}}}
EVENTS = [
    {
        "eventType": "START",
        "eventTime": "2026-01-01T00:00:00Z",
        "run": {"runId": "run-dag"},
        "job": DAG_JOB,
    },
    {
        "eventType": "COMPLETE",
        "eventTime": "2026-01-01T00:30:00Z",
        "run": {"runId": "run-task", "facets": {"parent": {"run": {"runId": "run-dag"}}}},
        "job": {"namespace": "creditlake", "name": f"{DAG_ID}.load_customers"},
        "inputs": [{"namespace": "file", "name": "landing/customers"}],
        "outputs": [{"namespace": "iceberg://lake", "name": "bronze.customers"}],
    },
    {
        "eventType": "COMPLETE",
        "eventTime": "2026-01-01T01:00:00Z",
        "run": {"runId": "run-dag"},
        "job": DAG_JOB,
    },
]
MODEL = "credit_pd"
#: ml.monitoring_stability rows: model, version, month, rows, PSI, worst feature's PSI and name,
#: severity, as-of date; the fraud model's row must not show under credit_pd.
MONITORING = [
    (MODEL, 2, "2025-11", 400, 0.031, 0.05, "income", "stable", DAY2),
    (MODEL, 2, "2025-12", 380, 0.142, None, None, "watch", DAY2),
    ("fraud", 1, "2025-12", 300, 0.5, 0.7, "age", "act", DAY2),
]


@dataclass(frozen=True)
class Built:
    settings: Settings
    out: Path
    page: Page
    manifest: dict


def _stage_quarantine(lake: Lake, rows: list[tuple[str, dt.date, str]], publish: bool) -> None:
    for (source, day), group in _group(rows).items():
        records = [
            {
                "source": source,
                "source_file": f"landing/{source}/{day}/{source}.csv",
                "row_number": n,
                "reason": reason,
                "reason_detail": f"value of {reason} rejected",
                "record_json": json.dumps({"national_id": RAW_NATIONAL_ID}),
                "raw_line": f"{RAW_NATIONAL_ID},{RAW_MOBILE},{n}",
            }
            for n, reason in enumerate(group, start=1)
        ]
        staged = lake.stage_partition(
            quarantine_table(source),
            day,
            [pa.Table.from_pylist(records, schema=QUARANTINE_SCHEMA)],
            QUARANTINE_SCHEMA,
            {},
        )
        if publish:
            lake.publish(staged)


def _group(rows: list[tuple[str, dt.date, str]]) -> dict[tuple[str, dt.date], list[str]]:
    grouped: dict[tuple[str, dt.date], list[str]] = {}
    for source, day, reason in rows:
        grouped.setdefault((source, day), []).append(reason)
    return grouped


def _record_run(settings: Settings, lake: Lake) -> None:
    _stage_quarantine(lake, PUBLISHED_QUARANTINE, publish=True)
    _stage_quarantine(lake, STAGED_ONLY, publish=False)
    for source, day, status, landing, bronze, quarantined, duplicates in DELIVERIES:
        ledger.record(
            lake,
            ledger.Delivery(
                source,
                day,
                status,
                f"{source}/{day}/b",
                f"{source}.csv",
                "0" * 64,
                landing,
                bronze,
                quarantined,
                duplicates,
            ),
        )
    for suite, day, passed, evaluated, critical, warning in GATES:
        result = ledger.GateResult(
            suite, day, f"bronze.{suite[7:]}", None, passed, evaluated, critical, warning
        )
        ledger.record(lake, result)
    warned = {"warning": 2, "info": 1}
    failures = [FailedExpectation("expect_column_values_to_be_between", "apr", "warning", 7)]
    summaries = [
        QualityResult("bronze_customers", str(DAY1), 20, 17, warned, failures, 96),
        QualityResult("warehouse_training_set", str(DAY2), 10, 10, {}, [], 400),
    ]
    for result in summaries:
        write_summary(
            result, summary_path(settings, result.suite, dt.date.fromisoformat(result.as_of_date))
        )
    customers = bronze_columns(get_source("customers"))
    schema = pa.schema(
        [(c.name, pa.string()) for c in customers] + [(PARTITION_COLUMN, pa.date32())]
    )
    lake.ensure_table(bronze_table("customers"), schema)
    for day, status in ((DAY1, "pass"), (DAY2, "warn")):
        write_freshness(
            settings,
            day,
            [
                FreshnessResult(
                    *(str(day), "los", "customers", status, f"{day}T06:00:00", None, 93600.0),
                    *("26 hours", "50 hours"),
                )
            ],
        )
    settings.lineage_dir.mkdir(parents=True)
    for number, event in enumerate(EVENTS):
        (settings.lineage_dir / f"{number:04d}.json").write_text(json.dumps(event))
    index = data_docs_index(settings)
    index.parent.mkdir(parents=True)
    index.write_text("<html><body>Data Docs</body></html>")


def _warehouse(settings: Settings) -> None:
    settings.warehouse_path.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(settings.warehouse_path)) as con:
        con.execute("create schema ml")
        con.execute(DDL[STABILITY_TABLE])
        con.executemany(
            f"insert into {STABILITY_TABLE} values (?, ?, ?, ?, ?, ?, ?, ?, ?)", MONITORING
        )
    plot = settings.reports_dir / "monitoring" / f"{MODEL}.png"
    plot.parent.mkdir(parents=True)
    plot.write_bytes(b"\x89PNG monitoring trend")


def _registry(settings: Settings, lake: Lake) -> None:
    import mlflow

    client = configure_mlflow(settings)
    experiment = ensure_experiment(client, MODEL, settings)
    client.create_registered_model(MODEL)
    for number, (family, auc) in enumerate((("lr_scorecard", "0.71"), ("lightgbm", "0.74")), 1):
        with mlflow.start_run(experiment_id=experiment) as run:
            if number == 2:
                mlflow.log_text(
                    "<html><body>validation of version 2</body></html>", "validation_report.html"
                )
        tags = {"model_family": family, "oot_auc": auc, "oot_ks": "0.3", "as_of_date": str(DAY2)}
        tags |= {"run_id": run.info.run_id, "gate_decision": "champion"}
        client.create_model_version(
            MODEL, source=run.info.artifact_uri, run_id=run.info.run_id, tags=tags
        )
        alias_log.move_alias(
            client,
            lake,
            MODEL,
            "champion",
            str(number),
            action=alias_log.GATE,
            actor=f"run:{run.info.run_id}",
            reason=f"gate passed for version {number}",
        )


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    home = tmp_path_factory.mktemp("report") / "home"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CREDITLAKE_HOME", str(home))
        patch.delenv("MLFLOW_TRACKING_URI", raising=False)
        settings = get_settings()
        lake = Lake.from_settings(settings)
        _record_run(settings, lake)
        _warehouse(settings)
        _registry(settings, lake)
        out = home / "site"
        index = build_site(settings, out)
    manifest = json.loads((settings.staging_dir / "report-dbt-docs" / "manifest.json").read_text())
    return Built(settings, out, read_page(index), manifest)


def test_every_section_is_on_the_page_under_its_stable_id(built: Built) -> None:
    assert list(built.page.sections) == [
        "quality",
        "quarantine",
        "freshness",
        "pii",
        "lineage",
        "models",
        "links",
    ]


def test_quality_shows_the_latest_verdict_per_suite_and_date_with_summary_counts(built) -> None:
    rows = {
        (r.attrs["data-suite"], r.attrs["data-date"]): r.cells
        for r in built.page.rows("quality-gates")
    }
    assert set(rows) == {
        ("bronze_customers", str(DAY1)),
        ("bronze_loans", str(DAY1)),
        ("bronze_customers", str(DAY2)),
        ("bronze_loans", str(DAY2)),
        ("warehouse_training_set", str(DAY2)),
    }
    # verdict, evaluated, critical, warning, info, rows
    assert rows[("bronze_customers", str(DAY1))][2:8] == ["passed", "20", "0", "2", "1", "96"]
    assert (
        "warning expect_column_values_to_be_between(apr): 7 unexpected"
        in rows[("bronze_customers", str(DAY1))][8]
    )
    assert rows[("bronze_customers", str(DAY2))][2:5] == ["failed", "20", "1"]
    assert rows[("bronze_loans", str(DAY2))][2] == "passed"  # the re-run's verdict
    assert rows[("warehouse_training_set", str(DAY2))][-1] == "summary"
    trend = {r.attrs["data-date"]: r.cells[1:] for r in built.page.rows("quality-trend")}
    # suites, passed, failed, critical, warning, info
    assert trend == {
        str(DAY1): ["2", "2", "0", "0", "2", "1"],
        str(DAY2): ["3", "2", "1", "1", "0", "0"],
    }
    assert (built.out / "images" / "quality.png").stat().st_size > 1000


def test_quarantine_counts_only_published_rows_by_source_date_and_reason(built) -> None:
    expected = Counter((s, str(d), r) for s, d, r in PUBLISHED_QUARANTINE)
    shown = {
        (r.attrs["data-source"], r.cells[0], r.cells[2]): int(r.cells[3])
        for r in built.page.rows("quarantine-by-date")
    }
    assert shown == dict(expected)
    by_reason = Counter((s, r) for s, _, r in PUBLISHED_QUARANTINE)
    assert {(c[0], c[1]): int(c[2]) for c in built.page.cells("quarantine-reasons")} == dict(
        by_reason
    )


def test_reconciliation_shows_each_deliverys_current_state_and_balance(built) -> None:
    shown = {
        (r.attrs["data-source"], r.attrs["data-date"]): r.cells[2:]
        for r in built.page.rows("reconciliation")
    }
    assert shown == {
        ("customers", str(DAY1)): ["published", "100", "96", "3", "1", "yes", "3"],
        ("loans", str(DAY1)): ["published", "50", "49", "1", "0", "yes", "1"],
        ("customers", str(DAY2)): ["rejected", "10", "9", "1", "0", "yes", "not published"],
        ("loans", str(DAY2)): ["unbalanced", "20", "18", "0", "0", "NO", "not published"],
    }


def test_freshness_lists_every_recorded_date_and_source(built) -> None:
    rows = built.page.rows("freshness-results")
    shown = [(r.attrs["data-date"], r.attrs["data-source"], r.attrs["data-status"]) for r in rows]
    assert shown == [
        (str(DAY1), "los.customers", "pass"),
        (str(DAY2), "los.customers", "warn"),
    ]
    assert rows[0].cells[4:7] == ["26.0", "26 hours", "50 hours"]


def test_pii_catalog_lists_every_declared_personal_column_and_its_carriers(built) -> None:
    declared = {(s.name, c.name, c.pii) for s in SOURCES.values() for c in s.columns if c.pii}
    declared |= {("customers", c.name, c.pii) for c in CUSTOMER_DERIVED_COLUMNS if c.pii}
    columns = built.page.rows("pii-columns")
    assert {(r.cells[0], r.cells[1], r.cells[2]) for r in columns} == declared
    tokens = {(r.cells[1], r.cells[3]) for r in columns if r.cells[2] == "C2"}
    assert tokens == {(c, f"{c}_token") for s, c, p in declared if p == "C2"}
    carriers = built.page.rows("pii-carriers")
    in_bronze = {r.cells[2] for r in carriers if r.attrs["data-kind"] == "bronze table"}
    assert in_bronze == {c.bronze_name for c in get_source("customers").pii_columns}
    in_dbt = sum(
        1
        for node in [*built.manifest["sources"].values(), *built.manifest["nodes"].values()]
        for column in node.get("columns", {}).values()
        if (column.get("meta") or {}).get("pii")
    )
    assert in_dbt > 0
    assert sum(r.attrs["data-kind"].startswith("dbt") for r in carriers) == in_dbt


def test_no_raw_identifier_reaches_any_file_of_the_site(built) -> None:
    for path in built.out.rglob("*"):
        if path.is_file() and path.suffix in (".html", ".css", ".json"):
            text = path.read_text(errors="ignore")
            assert RAW_NATIONAL_ID not in text, path
            assert RAW_MOBILE not in text, path


def test_lineage_embeds_the_graph_of_the_runs_openlineage_events(built) -> None:
    assert "3 OpenLineage events" in built.page.sections["lineage"]
    size = built.page.elements["lineage-size"]
    # the task, the landing file and the bronze table; the DAG job has no datasets
    assert (size["data-nodes"], size["data-edges"]) == ("3", "2")
    runs = built.page.rows("lineage-runs")
    assert [(r.attrs["data-dag"], r.cells[3]) for r in runs] == [(DAG_ID, "1")]
    assert (built.out / "images" / "lineage.png").stat().st_size > 1000


def test_without_lineage_events_the_graph_comes_from_the_dbt_manifest(
    built, creditlake_home, tmp_path, monkeypatch
) -> None:
    manifest = tmp_path / "manifest.json"
    manifest.write_text(json.dumps(built.manifest))
    monkeypatch.setattr("orchestration.report.links.DBT_MANIFEST_PATH", manifest)
    page = read_page(build_site(get_settings(), tmp_path / "site", dbt_docs=False))
    kinds = Counter(n["resource_type"] for n in built.manifest["nodes"].values())
    registry_sources = sum(s["name"] in SOURCES for s in built.manifest["sources"].values())
    expected = kinds["model"] + kinds["seed"] + kinds["snapshot"]
    expected += len(built.manifest["sources"]) + registry_sources  # bronze and landing nodes
    size = page.elements["lineage-size"]
    assert int(size["data-nodes"]) == expected
    assert int(size["data-edges"]) >= kinds["model"]
    assert "no OpenLineage events recorded" in page.sections["lineage"]
    assert (tmp_path / "site" / "images" / "lineage.png").is_file()


def test_models_show_versions_aliases_history_and_the_validation_report(built) -> None:
    versions = {
        r.attrs["data-version"]: r.cells for r in built.page.rows(f"model-{MODEL}.versions")
    }
    assert list(versions) == ["2", "1"]
    assert versions["2"][:3] == ["2", "champion", "lightgbm"]
    assert versions["1"][:3] == ["1", "", "lr_scorecard"]
    assert versions["1"][-1] == "no validation report"
    report = built.out / "models" / MODEL / "v2" / "validation_report.html"
    assert ("models", f"models/{MODEL}/v2/validation_report.html") in built.page.links
    assert "validation of version 2" in report.read_text()
    history = built.page.cells(f"model-{MODEL}.alias-history")
    assert [(h[2], h[3], h[4], h[5]) for h in history] == [
        ("-", "1", "gate", "moved"),
        ("1", "2", "gate", "moved"),
    ]
    assert "The registry agrees with the audit log" in built.page.sections["models"]


def test_models_show_only_their_own_monitoring_rows_and_trend(built) -> None:
    rows = built.page.cells(f"model-{MODEL}.monitoring.stability")
    assert rows == [
        [MODEL, "2", "2025-11", "400", "0.031", "0.05", "income", "stable", str(DAY2)],
        [MODEL, "2", "2025-12", "380", "0.142", "", "", "watch", str(DAY2)],
    ]
    assert f"model-{MODEL}.monitoring.performance" not in built.page.tables
    assert ("models", f"images/monitoring/{MODEL}.png") in built.page.links


def test_links_are_relative_and_resolve_inside_the_site(built) -> None:
    targets = [href for _, href in built.page.links]
    assert "data_docs/index.html" in targets
    assert "dbt_docs/static_index.html" in targets
    for target in targets:
        if target.startswith("#"):
            continue
        assert "://" not in target and not target.startswith("/"), target
        assert (built.out / target).is_file(), target


def test_an_empty_home_gives_every_section_its_empty_state(
    creditlake_home, tmp_path, capsys
) -> None:
    out = tmp_path / "site"
    cli(["report", "--out", str(out), "--no-dbt-docs"])
    assert capsys.readouterr().out.strip() == f"governance report: {out.resolve() / 'index.html'}"
    page = read_page(out / "index.html")
    assert "No quality gate has run" in page.sections["quality"]
    assert "No delivery recorded in the ledger" in page.sections["quarantine"]
    assert "No freshness results recorded" in page.sections["freshness"]
    assert "No model is registered" in page.sections["models"]
    assert "dbt docs: not available" in " ".join(page.sections["links"].split())
    assert len(page.rows("pii-columns")) == sum(
        1 for s in SOURCES.values() for c in s.columns if c.pii
    ) + sum(1 for c in CUSTOMER_DERIVED_COLUMNS if c.pii)
