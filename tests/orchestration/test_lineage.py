"""OpenLineage: events of real DAG runs land in the home, gates attach their results, the graph."""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from creditlake.settings import Settings, get_settings
from orchestration.lineage import (
    LineageError,
    dag_runs,
    draw_lineage,
    lineage_graph,
    node_id,
    quality_status,
    read_events,
)
from orchestration.lineage_events import (
    NO_PROVIDER_DAG_EVENTS,
    TRANSPORT_TYPE,
    LineageDirTransport,
    lake_dataset,
    quality_dataset,
    transport_config,
    warehouse_dataset,
)

TESTS = Path(__file__).resolve().parents[1]


def _quality_fixtures() -> Any:
    """The quality-gate tests' tiny marts (``tests/expectations/quality_fixtures.py``)."""
    if "quality_fixtures" in sys.modules:
        return sys.modules["quality_fixtures"]
    spec = importlib.util.spec_from_file_location(
        "quality_fixtures", TESTS / "expectations" / "quality_fixtures.py"
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules["quality_fixtures"] = module
    spec.loader.exec_module(module)
    return module


def _event(
    event_type: str,
    job: str,
    run_id: str,
    time: str,
    inputs: list[dict] = (),
    outputs: list[dict] = (),
    parent: str | None = None,
    dag: bool = False,
) -> dict:
    job_facets = {"jobType": {"jobType": "DAG" if dag else "TASK"}}
    run_facets = {"parent": {"run": {"runId": parent}}} if parent else {}
    return {
        "eventType": event_type,
        "eventTime": time,
        "job": {"namespace": "creditlake", "name": job, "facets": job_facets},
        "run": {"runId": run_id, "facets": run_facets},
        "inputs": list(inputs),
        "outputs": list(outputs),
    }


def _table(name: str, assertions: list[dict] | None = None) -> dict:
    table = {"namespace": "duckdb:///w.duckdb", "name": name, "facets": {}}
    if assertions is not None:
        table["inputFacets"] = {"dataQualityAssertions": {"assertions": assertions}}
    return table


# Where events go -------------------------------------------------------------------------------
def test_the_transport_writes_each_event_into_the_home_of_the_run_that_emits_it(
    creditlake_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from openlineage.client.event_v2 import Job, Run, RunEvent, RunState

    transport = LineageDirTransport(LineageDirTransport.config_class.from_dict({}))
    for home, state in ((creditlake_home, RunState.START), (creditlake_home / "b", RunState.FAIL)):
        monkeypatch.setenv("CREDITLAKE_HOME", str(home))
        transport.emit(
            RunEvent(
                eventType=state,
                eventTime="2026-01-02T00:00:00+00:00",
                run=Run(runId="01940000-0000-7000-8000-000000000001"),
                job=Job(namespace="creditlake", name="ingest__los"),
                producer="https://example.invalid/creditlake-test",
            )
        )

    monkeypatch.setenv("CREDITLAKE_HOME", str(creditlake_home))
    (event,) = read_events(get_settings())
    assert (event["eventType"], event["job"]["name"]) == ("START", "ingest__los")
    monkeypatch.setenv("CREDITLAKE_HOME", str(creditlake_home / "b"))
    assert [e["eventType"] for e in read_events(get_settings())] == ["FAIL"]
    assert list(get_settings().lineage_dir.glob(".*")) == []  # nothing left half-written


def test_an_http_endpoint_is_added_beside_the_files_not_instead_of_them(
    creditlake_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert transport_config(get_settings()) == {"type": TRANSPORT_TYPE}
    monkeypatch.setenv("CREDITLAKE_LINEAGE_URL", "http://lineage.internal:5000")

    config = transport_config(get_settings())

    assert config["type"] == "composite" and config["continue_on_failure"] is True
    assert config["transports"]["files"] == {"type": TRANSPORT_TYPE}
    assert config["transports"]["http"]["url"] == "http://lineage.internal:5000"


def test_an_unreadable_event_file_is_named(creditlake_home: Path) -> None:
    settings = get_settings()
    settings.lineage_dir.mkdir(parents=True)
    (settings.lineage_dir / "20260102T000000000000-x.json").write_text("{not json")

    with pytest.raises(LineageError, match=r"20260102T000000000000-x\.json"):
        read_events(settings)


# Dataset names ---------------------------------------------------------------------------------
def test_datasets_are_named_as_dbt_and_the_lake_name_them(creditlake_home: Path) -> None:
    settings = get_settings()
    warehouse = settings.warehouse_path

    assert warehouse_dataset(settings, "marts.fct_loans") == (
        f"duckdb://{warehouse}",
        f"{warehouse.stem}.marts.fct_loans",
    )
    assert lake_dataset(settings, "bronze.loans") == (
        f"iceberg://{settings.lake_dir / 'iceberg'}",
        "bronze.loans",
    )


def test_a_gate_result_becomes_assertions_on_the_table_it_validated(creditlake_home: Path) -> None:
    from expectations.validate import CheckedExpectation, FailedExpectation, QualityResult

    result = QualityResult(
        suite="bronze_loans",
        as_of_date="2026-01-02",
        evaluated=2,
        passed=1,
        failed={"critical": 1, "warning": 0, "info": 0},
        failed_expectations=[
            FailedExpectation("expect_column_values_to_not_be_null", "loan_id", "critical", 3)
        ],
        rows=120,
        checked=[
            CheckedExpectation("expect_column_values_to_not_be_null", "loan_id", "critical", False),
            CheckedExpectation("expect_table_row_count_to_be_between", None, "critical", True),
        ],
    )

    dataset = quality_dataset(get_settings(), result)

    assert (dataset.namespace, dataset.name) == lake_dataset(get_settings(), "bronze.loans")
    assertions = dataset.inputFacets["dataQualityAssertions"].assertions
    assert [(a.assertion, a.column, a.success, a.severity, a.actual) for a in assertions] == [
        ("expect_column_values_to_not_be_null", "loan_id", False, "critical", "3"),
        ("expect_table_row_count_to_be_between", None, True, "critical", None),
    ]
    assert dataset.inputFacets["dataQualityMetrics"].rowCount == 120


@pytest.mark.parametrize(
    ("tracking_uri", "namespace"),
    [
        ("sqlite:////srv/mlflow/mlflow.db", "sqlite:////srv/mlflow/mlflow.db"),
        (
            "postgresql://mlflow:s3cret@db.internal:5432/mlflow",
            "postgresql://db.internal:5432/mlflow",
        ),
        ("https://token@mlflow.example.com", "https://mlflow.example.com"),
    ],
)
def test_a_model_is_named_by_its_registry_without_credentials(
    creditlake_home: Path, monkeypatch: pytest.MonkeyPatch, tracking_uri: str, namespace: str
) -> None:
    from orchestration.lineage_events import model_dataset

    monkeypatch.setenv("MLFLOW_TRACKING_URI", tracking_uri)

    assert model_dataset(get_settings(), "credit_pd") == (namespace, "models/credit_pd")


def test_declared_lineage_replaces_a_dataset_declared_again_and_keeps_assets() -> None:
    from airflow.sdk import Asset
    from openlineage.client.event_v2 import Dataset, InputDataset

    from orchestration.lineage_events import declare_lineage

    task = SimpleNamespace(
        inlets=[], outlets=[Asset(name="bronze.loans", uri="creditlake://bronze/loans")]
    )
    declared = task.outlets
    declare_lineage({"task": task}, inputs=[Dataset(namespace="n", name="a")])
    declare_lineage(
        {"task": task},
        inputs=[InputDataset(namespace="n", name="a", inputFacets={"x": {}})],
        outputs=[Dataset(namespace="n", name="b")],
    )

    assert [(type(d).__name__, d.name) for d in task.inlets] == [("InputDataset", "a")]
    assert [d.name for d in task.outlets] == ["bronze.loans", "b"]
    assert len(declared) == 1  # the task's own list is replaced, not appended to


# The graph -------------------------------------------------------------------------------------
DAG_RUN, TASK_RUN, DBT_RUN = "run-dag", "run-task", "run-dbt"
EVENTS = [
    _event("START", "transform__warehouse", DAG_RUN, "2026-01-02T00:00:00", dag=True),
    _event(
        "COMPLETE",
        "transform__warehouse.dbt.marts",
        DBT_RUN,
        "2026-01-02T00:01:00",
        inputs=[
            _table("w.intermediate.int_loans"),
            # dbt's tests read the model the build wrote: a check, not an edge
            _table("w.marts.fct_loans", [{"assertion": "unique", "success": True}]),
        ],
        outputs=[_table("w.marts.fct_loans")],
        parent=DAG_RUN,
    ),
    _event(
        "FAIL",
        "transform__warehouse.validate_warehouse",
        TASK_RUN,
        "2026-01-02T00:02:00",
        inputs=[
            _table(
                "w.marts.fct_loans",
                [
                    {"assertion": "expect_x", "success": False, "severity": "critical"},
                    {"assertion": "expect_y", "success": False, "severity": "warning"},
                ],
            )
        ],
        parent=DAG_RUN,
    ),
    _event("FAIL", "transform__warehouse", DAG_RUN, "2026-01-02T00:03:00", dag=True),
]


def test_the_graph_runs_from_inputs_through_jobs_to_outputs() -> None:
    graph = lineage_graph(EVENTS)

    int_loans = node_id("dataset", "duckdb:///w.duckdb", "w.intermediate.int_loans")
    loans = node_id("dataset", "duckdb:///w.duckdb", "w.marts.fct_loans")
    build = node_id("job", "creditlake", "transform__warehouse.dbt.marts")
    gate = node_id("job", "creditlake", "transform__warehouse.validate_warehouse")
    assert sorted(graph.edges) == sorted([(int_loans, build), (build, loans), (loans, gate)])
    assert graph.nodes[node_id("job", "creditlake", "transform__warehouse")]["is_dag"] is True
    assert graph.nodes[gate]["last_state"] == "FAIL"
    assert set(graph.nodes[loans]["quality"]) == {
        "transform__warehouse.dbt.marts",
        "transform__warehouse.validate_warehouse",
    }
    assert quality_status(graph.nodes[loans]) == "failed"
    assert quality_status(graph.nodes[int_loans]) is None


def test_dag_runs_list_their_events_and_their_tasks_ends() -> None:
    (run,) = dag_runs(EVENTS)

    assert run["dag_id"] == "transform__warehouse"
    assert run["event_types"] == ["START", "FAIL"]
    assert (run["started_at"], run["ended_at"]) == ("2026-01-02T00:00:00", "2026-01-02T00:03:00")
    assert run["task_states"] == {
        "transform__warehouse.dbt.marts": "COMPLETE",
        "transform__warehouse.validate_warehouse": "FAIL",
    }


def test_a_date_run_again_is_a_second_run_even_under_the_same_run_id() -> None:
    """The provider's run id is derived from DAG, logical date and clear number, which a date
    that ``dag.test`` runs again from scratch repeats (the late file's re-run in the demo)."""
    retried = [
        *EVENTS,
        _event("START", "transform__warehouse", DAG_RUN, "2026-01-02T01:00:00", dag=True),
        _event(
            "COMPLETE",
            "transform__warehouse.validate_warehouse",
            TASK_RUN,
            "2026-01-02T01:02:00",
            parent=DAG_RUN,
        ),
        _event("COMPLETE", "transform__warehouse", DAG_RUN, "2026-01-02T01:03:00", dag=True),
    ]

    first, second = dag_runs(retried)

    assert (first["event_types"], second["event_types"]) == (
        ["START", "FAIL"],
        ["START", "COMPLETE"],
    )
    assert first["task_states"]["transform__warehouse.validate_warehouse"] == "FAIL"
    assert second["task_states"] == {"transform__warehouse.validate_warehouse": "COMPLETE"}


@pytest.mark.parametrize("suffix", [".png", ".svg"])
def test_the_graph_is_drawn(tmp_path: Path, suffix: str) -> None:
    path = draw_lineage(EVENTS, tmp_path / f"lineage{suffix}")

    assert path.is_file() and path.stat().st_size > 1000
    if suffix == ".svg":
        assert "fct_loans" in path.read_text() and "validate_warehouse" in path.read_text()
        again = draw_lineage(EVENTS, tmp_path / "again.svg")
        assert again.read_bytes() == path.read_bytes()  # the same graph, the same file


def test_drawing_refuses_other_formats(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"lineage\.pdf"):
        draw_lineage(EVENTS, tmp_path / "lineage.pdf")


# A real DAG run --------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def warehouse_runs(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[Settings, list[Any]]]:
    """The warehouse DAG run by ``dag.test`` on tiny marts for two dates: the first passes its
    gates, the second fails (no loans snapshot for that date). Everything but the gate task is
    marked successful, so no Spark or dbt runs; the gate runs Great Expectations for real."""
    import pendulum
    from airflow.dag_processing.dagbag import DagBag

    from orchestration.lineage_events import emit_dag_run
    from orchestration.runtime import DAGS_FOLDER

    fixtures = _quality_fixtures()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CREDITLAKE_HOME", str(tmp_path_factory.mktemp("lineage") / "home"))
        patch.setenv("AIRFLOW__OPENLINEAGE__EMISSION_POLICY", NO_PROVIDER_DAG_EVENTS)
        patch.delenv("MLFLOW_TRACKING_URI", raising=False)
        settings = get_settings()
        migrate = subprocess.run(
            [sys.executable, "-m", "airflow", "db", "migrate"], capture_output=True, text=True
        )
        assert migrate.returncode == 0, migrate.stderr[-2000:]
        fixtures.write_marts(settings)
        bag = DagBag(dag_folder=str(DAGS_FOLDER / "transform__warehouse.py"))
        dag = bag.dags["transform__warehouse"]
        runs = []
        for day in (fixtures.AS_OF, fixtures.AS_OF + dt.timedelta(days=1)):
            dag_run = dag.test(
                logical_date=pendulum.datetime(day.year, day.month, day.day, tz="UTC"),
                mark_success_pattern=r"(?!validate_warehouse$).*",
            )
            emit_dag_run(dag_run)
            runs.append(dag_run)
        yield settings, runs


@pytest.mark.slow
def test_a_dag_run_writes_start_and_end_events_for_itself_and_its_task(warehouse_runs) -> None:
    settings, runs = warehouse_runs

    events = read_events(settings)

    assert [getattr(r.state, "value", r.state) for r in runs] == ["success", "failed"]
    by_run = {r["nominal_start_time"][:10]: r for r in dag_runs(events)}
    assert sorted(by_run) == ["2026-01-04", "2026-01-05"]
    assert by_run["2026-01-04"]["event_types"] == ["START", "COMPLETE"]
    assert by_run["2026-01-05"]["event_types"] == ["START", "FAIL"]
    gate = "transform__warehouse.validate_warehouse"
    assert by_run["2026-01-04"]["task_states"] == {gate: "COMPLETE"}
    assert by_run["2026-01-05"]["task_states"] == {gate: "FAIL"}
    starts = [e for e in events if e["eventType"] == "START" and e["job"]["name"] == gate]
    assert len(starts) == 2
    # a DAG run starts when its first task starts (dag.test records the logical date instead)
    for day, start in zip(sorted(by_run), starts, strict=True):
        begun = dt.datetime.fromisoformat(by_run[day]["started_at"])
        gate_begun = dt.datetime.fromisoformat(start["eventTime"])
        assert dt.timedelta(0) <= gate_begun - begun < dt.timedelta(minutes=2)
    assert {e["job"]["namespace"] for e in events} == {settings.lineage_namespace}


@pytest.mark.slow
def test_the_gate_attaches_what_great_expectations_found_to_the_marts_it_validated(
    warehouse_runs,
) -> None:
    from expectations.names import SUITE_OF_TABLE

    settings, _ = warehouse_runs
    events = read_events(settings)
    gate = "transform__warehouse.validate_warehouse"
    passed, failed = [
        e for e in events if e["job"]["name"] == gate and e["eventType"] in ("COMPLETE", "FAIL")
    ]

    expected = {warehouse_dataset(settings, table)[1] for table in SUITE_OF_TABLE}
    assert {d["name"] for d in passed["inputs"]} == expected
    for dataset in passed["inputs"]:
        assert dataset["namespace"] == f"duckdb://{settings.warehouse_path}"
        checks = dataset["inputFacets"]["dataQualityAssertions"]["assertions"]
        summary = json.loads(
            (
                settings.reports_dir
                / "quality"
                / checks[0]["name"]
                / f"{_quality_fixtures().AS_OF}.json"
            ).read_text()
        )
        assert len(checks) == summary["evaluated"]
        assert all(a["success"] for a in checks)
        assert dataset["inputFacets"]["dataQualityMetrics"]["rowCount"] == summary["rows"]
    (loans,) = failed["inputs"]  # the error carries the failed suite's results
    assert loans["name"] == warehouse_dataset(settings, "marts.fct_loans")[1]
    checks = loans["inputFacets"]["dataQualityAssertions"]["assertions"]
    assert any(not a["success"] and a["severity"] == "critical" for a in checks)
    loans_node = node_id("dataset", *warehouse_dataset(settings, "marts.fct_loans"))
    assert quality_status(lineage_graph(events).nodes[loans_node]) == "failed"
