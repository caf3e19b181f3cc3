"""The whole platform at tiny scale, through Airflow, as `make demo` runs it.

One module-scoped run of the demo (generate → ingest → dbt → GX → train → score for the initial
extract and two daily dates, with defects and a late file); the tests then check the promises the
platform makes: nothing lost, nothing duplicated, nothing leaked, defects quarantined with their
reason, policy breaches reported, the late file in its own date, a champion model, scores per day.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path

import duckdb
import pytest

from creditlake import ledger
from creditlake.lake import Lake, bronze_table, quarantine_table
from creditlake.settings import Settings, get_settings
from creditlake.sources import SOURCES

pytestmark = [pytest.mark.slow, pytest.mark.whole_platform]

EXTRACT = dt.date(2026, 1, 1)
DAYS = 2  # the extract, a plain daily date, and the last date with the late file


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory):
    from generator import GeneratorConfig
    from orchestration.demo import run_demo
    from orchestration.summary import build_summary, print_summary

    home = tmp_path_factory.mktemp("platform")
    patch = pytest.MonkeyPatch()
    patch.setenv("CREDITLAKE_HOME", str(home))
    patch.setenv("CREDITLAKE_SENSOR_TIMEOUT_SECONDS", "3")
    patch.setenv("CREDITLAKE_SENSOR_POKE_SECONDS", "1")
    # At this scale LightGBM learns from ~1,000 rows: its PDs are overconfident (a decile
    # predicted at 0.6 % defaults at 10 %) and the B-card's score moves between its training
    # months and the out-of-time month. The gate rightly refuses those candidates at its default
    # thresholds (tests/ml/test_gate.py), which would leave this run without the champions the
    # scoring tests need; so the tiny run widens the two thresholds and checks everything else.
    patch.setenv("CREDITLAKE_GATE_CALIBRATION_TOLERANCE", "0.5")
    patch.setenv("CREDITLAKE_PSI_ACT", "2.0")
    patch.delenv("MLFLOW_TRACKING_URI", raising=False)
    settings = get_settings()
    config = GeneratorConfig(
        customers=2_500,
        behaviour_events=150_000,
        extract_date=EXTRACT,
        days=DAYS,
        seed=7,
        defect_rate=0.01,
        late_source="transactions",
    )
    demo = run_demo(config, settings)
    summary = build_summary(settings, demo)
    print_summary(summary)
    yield settings, demo, summary
    patch.undo()


def _dates() -> list[str]:
    return [(EXTRACT + dt.timedelta(days=i)).isoformat() for i in range(DAYS + 1)]


def _reconciliation(settings: Settings, source: str, day: str) -> dict:
    """The ledger's record of the date's published delivery."""
    lake = Lake.from_settings(settings)
    delivery = ledger.latest_delivery(lake, source, dt.date.fromisoformat(day))
    assert delivery is not None and delivery.status == ledger.PUBLISHED, (source, day, delivery)
    return delivery.to_dict()


def _published(settings: Settings, layer: str, source: str, day: str | None = None):
    """The published rows of a lake table (one date's partition, or all of it), as Arrow."""
    table = bronze_table(source) if layer == "bronze" else quarantine_table(source)
    as_of_date = dt.date.fromisoformat(day) if day else None
    return Lake.from_settings(settings).read(table, as_of_date)


def _landing_lines(settings: Settings, source: str, day: str) -> int:
    path = Path(settings.landing_uri) / source / day / SOURCES[source].file_name
    lines = path.read_text(encoding="utf-8").splitlines()
    return len(lines) - (1 if SOURCES[source].format == "csv" else 0)


def test_every_dag_run_succeeded_except_the_late_file_wait(platform) -> None:
    _, demo, _ = platform
    failed = [r for r in demo.runs if r.state != "success"]
    assert [(r.dag_id, r.as_of_date) for r in failed] == [
        ("ingest__customer_behaviour", _dates()[-1])
    ]
    assert len(demo.late_deliveries) == 1 and "transactions" in demo.late_deliveries[0]


def test_reconciliation_holds_for_every_source_and_date(platform) -> None:
    settings, _, _ = platform
    for source in SOURCES:
        for day in _dates():
            record = _reconciliation(settings, source, day)
            landing = _landing_lines(settings, source, day)
            bronze = _published(settings, "bronze", source, day).num_rows
            assert record["landing_rows"] == landing, (source, day)
            assert record["bronze_rows"] == bronze, (source, day)
            assert landing == bronze + record["quarantined_rows"] + record["duplicates_dropped"]


def test_every_injected_defect_is_accounted_for(platform) -> None:
    settings, _, _ = platform
    defects = json.loads((settings.oracle_dir / "defects.json").read_text())
    structural = {"malformed_json", "missing_required", "wrong_type", "negative_amount"}
    seen_kinds = set()
    for source, by_date in defects.items():
        if source not in SOURCES:
            continue
        for day, entries in by_date.items():
            quarantined = _published(settings, "quarantine", source, day)
            rows = dict(
                zip(
                    quarantined.column("row_number").to_pylist(),
                    quarantined.column("reason").to_pylist(),
                    strict=True,
                )
            )
            record = _reconciliation(settings, source, day)
            for defect in entries if isinstance(entries, list) else entries.get("defects", []):
                kind = defect["kind"]
                if kind in structural:
                    seen_kinds.add(kind)
                    reason = rows.get(defect["line_number"])
                    assert reason is not None, (source, day, defect)
                    assert reason.split(":")[0].startswith(kind.split("_")[0]), (reason, kind)
                if kind == "duplicate_row":
                    assert record["duplicates_dropped"] >= 1
    assert seen_kinds == structural


def test_apr_cap_breaches_are_reported_as_warnings(platform) -> None:
    _, _, summary = platform
    warnings = summary["quality"]["failures"].get("warning", {})
    assert any("apr" in label for label in warnings), warnings
    assert summary["quality"]["totals"].get("failed_critical", 0) == 0


def test_late_file_landed_in_its_own_date(platform) -> None:
    settings, _, _ = platform
    last = _dates()[-1]
    record = _reconciliation(settings, "transactions", last)
    assert record["bronze_rows"] > 0
    rows = _published(settings, "bronze", "transactions", last)
    dates = {value.date() for value in rows.column("transacted_at").to_pylist()}
    assert dates == {dt.date.fromisoformat(last)}


def test_rerunning_a_date_does_not_duplicate(platform) -> None:
    """Write, audit and publish a date again: the published table holds each row once."""
    settings, _, _ = platform
    from creditlake.spark import get_spark
    from expectations.names import bronze_suite_name
    from expectations.validate import validate_bronze
    from spark_jobs.ingest import main

    day = _dates()[1]
    before = _reconciliation(settings, "repayments", day)
    again = main("repayments", day, settings)
    assert again.bronze_rows == before["bronze_rows"]
    validate_bronze("repayments", day, get_spark("creditlake-tests"), settings)
    lake = Lake.from_settings(settings)
    ledger.publish_delivery(
        lake, "repayments", dt.date.fromisoformat(day), bronze_suite_name("repayments")
    )
    ids = _published(settings, "bronze", "repayments").column("repayment_id").to_pylist()
    assert len(ids) == len(set(ids))
    assert _reconciliation(settings, "repayments", day)["batch_id"] == again.batch_id


def test_no_raw_identifier_downstream_of_landing(platform) -> None:
    settings, _, _ = platform
    from orchestration.pii_scan import scan_platform

    known = set()
    for day in _dates():
        path = Path(settings.landing_uri) / "customers" / day / "customers.csv"
        with path.open(encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                known |= {row.get("national_id"), row.get("mobile"), row.get("bank_card_number")}
                if row.get("name") and len(row["name"]) >= 3:
                    known.add(row["name"])
    known.discard(None)
    assert len(known) > 500
    findings = scan_platform(settings, known=known)
    assert findings == []


def test_champion_model_scores_every_day(platform) -> None:
    settings, _, summary = platform
    assert summary["models"]["credit_pd"]["champion"]["version"] >= 1
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        scored = dict(
            con.execute(
                "select cast(scored_date as varchar), count(*) "
                "from ml.application_scores where model_name = 'credit_pd' group by 1"
            ).fetchall()
        )
        applications = dict(
            con.execute(
                "select cast(cast(applied_at as date) as varchar), count(*) "
                "from marts.fct_application_features group by 1"
            ).fetchall()
        )
    for day in _dates()[1:]:
        assert scored.get(day) == applications.get(day), day
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        bad = con.execute(
            "select count(*) from ml.application_scores where pd < 0 or pd > 1 or score is null"
        ).fetchone()[0]
    assert bad == 0


def test_every_scored_application_is_decided_within_the_policy(platform) -> None:
    """One decision per scored application; no approval breaks a policy rule (age, APR cap,
    unsecured limit, debt-to-income); every decline or refer says why."""
    settings, _, _ = platform
    policy = settings.policy
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        decisions = con.execute(
            "select d.*, f.age_at_application_years, f.monthly_income_cny, "
            "f.requested_amount_cny, coalesce(f.bureau_outstanding_balance_cny, 0) as bureau_debt "
            "from ml.application_decisions d "
            "join marts.fct_application_features f using (application_id)"
        ).df()
        scored = con.execute(
            "select count(*) from ml.application_scores where model_name = 'credit_pd'"
        ).fetchone()[0]
    assert len(decisions) == scored > 0
    assert decisions["application_id"].is_unique
    assert set(decisions["decision"]) <= {"approve", "refer", "decline"}
    approved = decisions[decisions["decision"] == "approve"]
    assert len(approved) > 0  # the rules below are checked on real approvals
    assert (approved["age_at_application_years"] >= policy.min_borrower_age_years).all()
    assert (approved["apr"].astype(float) <= policy.apr_cap).all()
    limits = approved["credit_limit_cny"].astype(float)
    assert (limits <= policy.credit_limit_cny).all()
    assert (limits <= approved["requested_amount_cny"].astype(float)).all()
    burden = (limits + approved["bureau_debt"].astype(float)) / (
        12 * approved["monthly_income_cny"].astype(float)
    )
    assert (burden <= policy.max_debt_to_income + 1e-9).all()
    refused = decisions[decisions["decision"] != "approve"]
    assert refused["reason_codes"].map(len).min() >= 1
    assert (refused["reason_text"].str.len() > 0).all()


def test_the_active_book_gets_one_limit_proposal_per_current_loan_within_the_cap(platform) -> None:
    """The first date owns the December month end: every loan current then is proposed once, in
    Spark, with the b_card champion (or none when b_card has no champion at this scale)."""
    settings, _, summary = platform
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        book = con.execute(
            "select count(*) from marts.fct_b_card_snapshots "
            "where as_of_date = date '2026-01-01' and month_end = date '2025-12-31'"
        ).fetchone()[0]
        proposals = con.execute("select * from ml.limit_proposals").df()
    assert book > 0
    if not summary["models"]["b_card"].get("champion"):
        assert proposals.empty
        return
    assert len(proposals) == book and proposals["loan_id"].is_unique
    assert set(proposals["proposal"]) <= {"increase", "hold", "decrease"}
    assert (proposals["proposed_limit_cny"] <= settings.policy.credit_limit_cny).all()
    decreased = proposals[proposals["proposal"] == "decrease"]
    assert (decreased["proposed_limit_cny"] <= decreased["current_limit_cny"]).all()
    assert decreased["reasons"].notna().all()


def test_collection_actions_reach_the_outcomes_mart(platform) -> None:
    """The ninth source flows to the collections outcomes: one row per labelled entry into
    collections, agreeing with the C-card's label; a kept promise is always a cure."""
    settings, _, _ = platform
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        outcomes = con.execute(
            "select o.*, t.is_not_cured from marts.fct_collection_outcomes o "
            "join marts.fct_collections_training_set t using (installment_id)"
        ).df()
        entries = con.execute("select count(*) from marts.fct_collections_training_set").fetchone()
    assert len(outcomes) == entries[0] > 0
    assert (outcomes["is_cured"] == 1 - outcomes["is_not_cured"]).all()
    assert outcomes["actions_count"].sum() > 0 and outcomes["is_contacted"].any()
    assert (outcomes.loc[outcomes["is_promise_kept"] == 1, "is_cured"] == 1).all()


def test_the_champions_training_set_is_rebuilt_from_its_lake_snapshots(platform) -> None:
    """`creditlake reproduce`: the logged snapshots rebuild exactly the rows the champion saw,
    even after a date was re-run and published again (the rerun test above)."""
    settings, _, _ = platform
    from ml.tracking import configure_mlflow
    from orchestration.reproduce import reproduce

    champion = configure_mlflow(settings).get_model_version_by_alias("credit_pd", "champion")
    result = reproduce("credit_pd", str(champion.version), settings)
    assert result.rebuilt_rows > 100
    assert (result.rebuilt_sha256, result.rebuilt_rows) == (
        result.logged_sha256,
        result.logged_rows,
    )
    assert not result.project_changed


# Quality reports a governance reviewer opens: rendered with the network off -------------------
#: The validation results of the Data Docs index, as bootstrap-table holds them (every page).
_INDEX_ROWS = """() => jQuery('table').toArray()
    .filter(table => jQuery(table).data('bootstrap.table'))
    .flatMap(table => jQuery(table).bootstrapTable(
        'getData', {useCurrentPage: false, includeHiddenRows: true}))
    .filter(row => 'validation_success' in row)"""
_ICON_FONT = """() => document.fonts.check('900 16px "Font Awesome 6 Free"')"""


def test_data_docs_render_offline_listing_every_validation(platform) -> None:
    """Every Data Docs page opens in Chromium with the network off; the index lists each suite's
    latest validation of each date with the status the gate recorded; nothing leaves the machine.
    Screenshots of the index and of one validation go to reports/screenshots/."""
    settings, _, _ = platform
    from browser import offline_browser

    from expectations.context import data_docs_index, data_docs_site
    from expectations.offline_docs import site_pages
    from expectations.validate import quality_summaries_dir

    expected = {}
    for path in quality_summaries_dir(settings).glob("*/*.json"):
        summary = json.loads(path.read_text(encoding="utf-8"))
        status = "Failed" if sum(summary["failed"].values()) else "Success"
        expected[(summary["suite"], summary["as_of_date"])] = status
    assert len(expected) >= 30
    shots = settings.reports_dir / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    with offline_browser() as browser:
        index = browser.open(data_docs_index(settings))
        rows = sorted(index.evaluate(_INDEX_ROWS), key=lambda row: row["_run_time_sort"])
        listed = {
            (row["_expectation_suite_name_sort"], row["run_name"]): row["_validation_success_text"]
            for row in rows  # later runs of a suite and date replace earlier ones
        }
        assert listed == expected
        # bootstrap-table drew the first page of rows, and the status icons have their font
        assert index.locator("table tbody tr .ge-index-page-table-validation-links-item").count()
        assert index.evaluate(_ICON_FONT)
        index.screenshot(path=str(shots / "data-docs-index.png"))
        failed = next(row for row in reversed(rows) if row["_validation_success_text"] == "Failed")
        result = browser.open(data_docs_site(settings) / failed["_table_row_link_path"])
        assert failed["_expectation_suite_name_sort"] in result.locator("body").inner_text()
        assert result.evaluate(_ICON_FONT)
        result.screenshot(path=str(shots / "data-docs-validation.png"))
        pages = site_pages(data_docs_site(settings))
        for page in pages:
            browser.open(page).close()
    assert len(pages) > len(expected)
    assert (browser.external_requests, browser.failed, browser.page_errors) == ([], [], [])


def test_every_gate_decision_of_the_demo_is_in_the_alias_audit_log(platform) -> None:
    """One champion row (promotion or refusal) per training run, a challenger move per refusal,
    and the registry agrees with the log (``creditlake models history``)."""
    from ml import alias_log
    from ml.names import CHALLENGER, CHAMPION, MODELS
    from ml.tracking import configure_mlflow

    settings, demo, summary = platform
    client = configure_mlflow(settings)
    lake = Lake.from_settings(settings)
    for name in MODELS:
        trained = [r for r in demo.runs if r.dag_id == f"ml__train_{name}"]
        assert trained and all(r.state == "success" for r in trained)
        moves = alias_log.history(lake, name)
        champion = [m for m in moves if m.alias == CHAMPION]
        assert len(champion) == len(trained), name
        assert (champion[0].from_version, champion[0].outcome) == (None, alias_log.MOVED)
        refused = [m for m in champion if m.outcome == alias_log.REFUSED]
        assert len([m for m in moves if m.alias == CHALLENGER]) == len(refused)
        assert {m.action for m in moves} == {alias_log.GATE}
        assert all(m.actor.startswith("run:") for m in moves)
        assert alias_log.discrepancies(client, name, moves) == []
        assert summary["models"][name]["alias_log"]["refused"] == len(refused)


def test_every_source_has_a_freshness_result_for_every_date(platform) -> None:
    """The warehouse DAG checked every dbt source against its SLA once per date; the demo's
    deliveries were loaded minutes before each check, so nothing is stale."""
    from orchestration.freshness import read_freshness

    settings, _, summary = platform
    results = read_freshness(settings)
    expected = {(day, f"{s.system}.{name}") for day in _dates() for name, s in SOURCES.items()}
    assert {(r.as_of_date, r.name) for r in results} == expected
    assert len(results) == len(expected)
    assert {r.status for r in results} == {"pass"}
    assert all(r.max_loaded_at and r.warn_after and r.error_after for r in results)
    assert summary["freshness"]["as_of_date"] == _dates()[-1]
    assert summary["freshness"]["counts"] == {"pass": len(SOURCES), "warn": 0, "error": 0}


def test_monitoring_has_one_row_per_month_for_every_champion(platform) -> None:
    """The monitoring DAG ran once, on the last date, and wrote exactly one stability and one
    performance row per model and month, for every model with a champion, of that champion."""
    from ml import alias_log
    from ml.monitoring_tables import PERFORMANCE_TABLE, STABILITY_TABLE
    from ml.names import CHAMPION, MODELS
    from ml.tracking import configure_mlflow

    settings, demo, summary = platform
    runs = [r for r in demo.runs if r.dag_id == "ml__monitor_models"]
    assert [r.as_of_date for r in runs] == [_dates()[-1]]
    assert runs[0].state == "success" or runs[0].note.startswith("expected: months at severity")
    client = configure_mlflow(settings)
    champions = {
        name: int(version)
        for name in MODELS
        if (version := alias_log.current_holder(client, name, CHAMPION)) is not None
    }
    assert set(champions) == set(MODELS)
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        for table in (STABILITY_TABLE, PERFORMANCE_TABLE):
            rows = con.execute(
                f"select model_name, month, count(*), max(model_version) from {table} group by all"
            ).fetchall()
            assert all(count == 1 for _, _, count, _ in rows), table
            assert {(m, v) for m, _, _, v in rows} <= set(champions.items()), table
        monitored = con.execute(f"select distinct model_name from {STABILITY_TABLE}").fetchall()
    stability_models = {name for (name,) in monitored}
    assert stability_models == set(champions)
    for name in champions:
        assert summary["models"][name]["monitoring"]["model_version"] == champions[name]
        assert (settings.reports_dir / "monitoring" / f"{name}.png").is_file()


def test_the_governance_site_is_filled_from_this_runs_records(platform, tmp_path) -> None:
    """``creditlake report`` on the demo: every section's figures equal the lake, the gate
    summaries, the freshness files, the registry and the warehouse; links stay inside the site."""
    from collections import Counter

    from pyiceberg.expressions import AlwaysTrue
    from report_page import read_page

    from ml import alias_log
    from ml.tracking import configure_mlflow
    from orchestration.freshness import read_freshness
    from orchestration.report.site import build_site

    settings, _, _ = platform
    out = tmp_path / "governance"
    page = read_page(build_site(settings, out))
    sections = ["quality", "quarantine", "freshness", "pii", "lineage", "models", "links"]
    assert list(page.sections) == sections
    lake = Lake.from_settings(settings)
    gates = {
        (row["suite"], row["as_of_date"].isoformat())
        for row in ledger.rows(lake, ledger.GATE_RESULTS, AlwaysTrue())
    }
    summaries = {(p.parent.name, p.stem) for p in (settings.reports_dir / "quality").glob("*/*")}
    shown = {(r.attrs["data-suite"], r.attrs["data-date"]) for r in page.rows("quality-gates")}
    assert gates and shown == gates | summaries

    quarantined = Counter()
    for source in SOURCES:
        rows = _published(settings, "quarantine", source).select(["reason", "ingest_date"])
        for row in rows.to_pylist():
            quarantined[(source, row["ingest_date"].isoformat(), row["reason"])] += 1
    shown_quarantine = {
        (r.attrs["data-source"], r.attrs["data-date"], r.cells[2]): int(r.cells[3])
        for r in page.rows("quarantine-by-date")
    }
    assert quarantined and shown_quarantine == dict(quarantined)
    reconciliation = page.rows("reconciliation")
    assert {(r.attrs["data-source"], r.attrs["data-date"]) for r in reconciliation} == {
        (source, day) for source in SOURCES for day in _dates()
    }
    for row in reconciliation:
        record = _reconciliation(settings, row.attrs["data-source"], row.attrs["data-date"])
        counts = ("landing_rows", "bronze_rows", "quarantined_rows", "duplicates_dropped")
        assert row.cells[2] == ledger.PUBLISHED
        assert row.cells[3:7] == [str(record[name]) for name in counts]
        assert row.cells[7:9] == ["yes", str(record["quarantined_rows"])]

    freshness = {
        (r.attrs["data-date"], r.attrs["data-source"]) for r in page.rows("freshness-results")
    }
    assert freshness == {(r.as_of_date, r.name) for r in read_freshness(settings)}

    declared = [c for s in SOURCES.values() for c in s.columns if c.pii]
    assert len(page.rows("pii-columns")) >= len(declared)
    carriers = page.rows("pii-carriers")
    tokens = {r.cells[2] for r in carriers if r.attrs["data-kind"] == "bronze table"}
    assert tokens == {c.bronze_name for s in SOURCES.values() for c in s.pii_columns}
    assert int(page.elements["lineage-size"]["data-nodes"]) > 0

    client = configure_mlflow(settings)
    registered = client.search_registered_models()
    assert registered
    for model in registered:
        versions = page.rows(f"model-{model.name}.versions")
        assert len(versions) == len(client.search_model_versions(f"name='{model.name}'"))
        for alias, version in model.aliases.items():
            row = next(r for r in versions if r.attrs["data-version"] == str(version))
            assert alias in row.cells[1]
        for version in client.search_model_versions(f"name='{model.name}'"):
            artifacts = {a.path for a in client.list_artifacts(version.tags["run_id"])}
            report = f"models/{model.name}/v{version.version}/validation_report.html"
            has_report = ("models", report) in page.links and (out / report).is_file()
            assert has_report == ("validation_report.html" in artifacts), report
        history = page.rows(f"model-{model.name}.alias-history")
        assert len(history) == len(alias_log.history(lake, model.name))
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        monitored = con.execute(
            "select model_name, count(*) from ml.monitoring_stability group by 1"
        ).fetchall()
    for name, rows in monitored:
        assert len(page.rows(f"model-{name}.monitoring.stability")) == rows

    targets = [href for _, href in page.links if not href.startswith("#")]
    assert {"data_docs/index.html", "dbt_docs/static_index.html"} <= set(targets)
    for target in targets:
        assert "://" not in target and (out / target).is_file(), target
    raw = set()
    customers = SOURCES["customers"]
    path = Path(settings.landing_uri) / "customers" / _dates()[0] / customers.file_name
    with path.open(encoding="utf-8") as handle:
        for number, record in enumerate(csv.DictReader(handle)):
            raw.update(record[c.name] for c in customers.pii_columns if len(record[c.name]) > 8)
            if number == 200:
                break
    for page_file in out.rglob("*.html"):
        text = page_file.read_text(encoding="utf-8", errors="ignore")
        assert not [value for value in raw if value in text], page_file


def test_every_dag_run_has_lineage_events_and_the_gates_results_on_what_they_validated(
    platform,
) -> None:
    """Each DAG run of the demo wrote OpenLineage START and COMPLETE (FAIL for the late file's
    wait) for itself and an end for each task it ran; each gate's last run for a date put every
    expectation it evaluated on the table it validated; and the graph joins the lake's bronze
    tables, through the warehouse pin and dbt's own events, to the marts the gates validated."""
    import networkx as nx

    from expectations.names import SUITE_OF_TABLE, bronze_suite_name
    from orchestration.lineage import dag_runs, lineage_graph, node_id, read_events
    from orchestration.lineage_events import lake_dataset, warehouse_dataset

    settings, demo, _ = platform
    events = read_events(settings)
    runs = dag_runs(events)
    ends = {"success": "COMPLETE", "failed": "FAIL"}
    assert sorted((r["dag_id"], r["nominal_start_time"][:10], r["event_types"]) for r in runs) == (
        sorted((r.dag_id, r.as_of_date, ["START", ends[r.state]]) for r in demo.runs)
    )
    for run in runs:
        assert run["task_states"], run["dag_id"]
        assert ("FAIL" in run["task_states"].values()) == (run["event_types"][-1] == "FAIL")

    def last_gate_inputs(task_suffix: str) -> dict[tuple[str, str, str], dict]:
        """``(namespace, name, date) -> dataset`` of the gate's last end event per date."""
        found = {}
        for event in events:
            if event["job"]["name"].endswith(task_suffix) and event["eventType"] != "START":
                day = event["run"]["facets"]["nominalTime"]["nominalStartTime"][:10]
                for dataset in event["inputs"]:
                    found[(dataset["namespace"], dataset["name"], day)] = dataset
        return found

    def assert_matches_summary(dataset: dict, suite: str, day: str) -> None:
        summary = json.loads((settings.reports_dir / "quality" / suite / f"{day}.json").read_text())
        checks = dataset["inputFacets"]["dataQualityAssertions"]["assertions"]
        assert len(checks) == summary["evaluated"], (suite, day)
        assert sum(1 for c in checks if c["success"]) == summary["passed"], (suite, day)
        assert dataset["inputFacets"]["dataQualityMetrics"]["rowCount"] == summary["rows"]

    bronze = last_gate_inputs(".validate_bronze")
    warehouse = last_gate_inputs(".validate_warehouse")
    for day in _dates():
        for source in SOURCES:
            key = (*lake_dataset(settings, bronze_table(source)), day)
            assert_matches_summary(bronze[key], bronze_suite_name(source), day)
        for table, suite in SUITE_OF_TABLE.items():
            key = (*warehouse_dataset(settings, table), day)
            assert_matches_summary(warehouse[key], suite, day)

    graph = lineage_graph(events)
    lake_tables = [node_id("dataset", *lake_dataset(settings, bronze_table(s))) for s in SOURCES]
    for table in SUITE_OF_TABLE:
        mart = node_id("dataset", *warehouse_dataset(settings, table))
        assert any(nx.has_path(graph, bronze, mart) for bronze in lake_tables), table
