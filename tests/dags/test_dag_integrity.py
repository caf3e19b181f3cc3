"""DAG integrity: every DAG imports, is documented and owned, and is wired as its docs say."""

from __future__ import annotations

import itertools
import subprocess
import sys
from pathlib import Path

import pytest

from creditlake.sources import DOMAINS
from orchestration.common import RETRY_POLICY
from orchestration.runtime import DAGS_FOLDER

DAG_FILES = sorted(p for p in DAGS_FOLDER.glob("*.py") if not p.name.startswith("_"))
HEAVY_MODULES = (
    "pyspark",
    "mlflow",
    "great_expectations",
    "lightgbm",
    "optbinning",
    "sklearn",
    "duckdb",
)


@pytest.fixture(scope="module")
def dagbag():
    from creditlake.settings import get_settings
    from orchestration.dbt import run_dbt

    run_dbt(["parse"], get_settings(), as_of_date=None)  # Cosmos renders from the manifest
    # DagBag records DAGs in the metadata DB; the session's throw-away AIRFLOW_HOME needs one.
    subprocess.run(
        [sys.executable, "-m", "airflow", "db", "migrate"], check=True, capture_output=True
    )
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(DAGS_FOLDER))


def test_every_dag_imports_without_errors(dagbag) -> None:
    assert dagbag.import_errors == {}
    assert sorted(dagbag.dag_ids) == sorted(p.stem for p in DAG_FILES)


@pytest.mark.parametrize("path", DAG_FILES, ids=lambda p: p.stem)
def test_dag_conventions(dagbag, path: Path) -> None:
    dag = dagbag.get_dag(path.stem)
    assert dag is not None, f"{path.name} must define the DAG {path.stem}"
    assert "__" in dag.dag_id, "dag ids are <domain>__<purpose>"
    assert dag.doc_md and len(dag.doc_md.strip()) > 80, "the module docstring documents the DAG"
    assert dag.tags, "every DAG is tagged"
    assert dag.catchup is False
    for task in dag.tasks:
        assert task.owner not in (None, "", "airflow"), f"{task.task_id} has no owner"
        assert task.retries >= 1, f"{task.task_id} must retry transient failures"
        assert task.retry_policy is RETRY_POLICY, f"{task.task_id} must not retry config mistakes"


@pytest.mark.parametrize("domain", sorted(DOMAINS))
def test_ingest_dag_graph_matches_its_docs(dagbag, domain: str) -> None:
    dag = dagbag.get_dag(f"ingest__{domain}")
    expected = set()
    for source in DOMAINS[domain]:
        expected |= {
            f"{source}.wait_for_landing",
            f"{source}.load_bronze",
            f"{source}.validate_bronze",
            f"{source}.publish_bronze",
        }
        assert dag.get_task(f"{source}.wait_for_landing").downstream_task_ids == {
            f"{source}.load_bronze"
        }
        assert dag.get_task(f"{source}.load_bronze").downstream_task_ids == {
            f"{source}.validate_bronze"
        }
        assert dag.get_task(f"{source}.validate_bronze").downstream_task_ids == {
            f"{source}.publish_bronze",
            "publish_quality_docs",
        }
        assert not dag.get_task(f"{source}.validate_bronze").outlets
        outlets = dag.get_task(f"{source}.publish_bronze").outlets
        assert [a.name for a in outlets] == [f"bronze.{source}"]
    assert set(dag.task_ids) == expected | {"publish_quality_docs"}
    _assert_quality_docs_teardown(dag, {f"{source}.validate_bronze" for source in DOMAINS[domain]})


def _assert_quality_docs_teardown(dag, gates: set[str]) -> None:
    """The run's Data Docs are rendered once, after every gate, by a teardown: it runs when a
    gate failed, and it is left out of the run's state (a failed gate still fails the run)."""
    docs = dag.get_task("publish_quality_docs")
    assert docs.is_teardown
    assert docs.upstream_task_ids == gates
    assert docs.downstream_task_ids == set()


def test_warehouse_dag_builds_every_layer_in_order_between_the_gates(dagbag) -> None:
    import json

    from creditlake.settings import DBT_MANIFEST_PATH
    from orchestration.warehouse import DBT_LAYERS, WAREHOUSE_POOL

    dag = dagbag.get_dag("transform__warehouse")
    dbt_tasks = [f"dbt.{layer}" for layer in DBT_LAYERS]
    assert {t for t in dag.task_ids if t.startswith("dbt.")} == set(dbt_tasks)
    for upstream, downstream in itertools.pairwise(dbt_tasks):
        assert dag.get_task(upstream).downstream_task_ids == {downstream}
    assert dag.get_task("wait_for_bronze").downstream_task_ids == {"pin_bronze"}
    # Source freshness is checked beside the build, on the same pinned snapshots: a leaf that
    # alerts (and fails the run) on a stale source without holding back the layers.
    assert dag.get_task("pin_bronze").downstream_task_ids == {
        dbt_tasks[0],
        "check_source_freshness",
    }
    assert dag.get_task("check_source_freshness").downstream_task_ids == set()
    assert dag.get_task("check_source_freshness").pool == WAREHOUSE_POOL
    assert dag.get_task("validate_warehouse").upstream_task_ids == {dbt_tasks[-1]}
    _assert_quality_docs_teardown(dag, {"validate_warehouse"})
    # The layers' selections together cover every model of the project, marts included.
    selected = {layer: dag.get_task(f"dbt.{layer}").select for layer in DBT_LAYERS}
    assert selected == {layer: [f"path:models/{layer}"] for layer in DBT_LAYERS}
    nodes = json.loads(DBT_MANIFEST_PATH.read_text())["nodes"].values()
    models = [n for n in nodes if n["resource_type"] == "model"]
    uncovered = [n["name"] for n in models if n["path"].split("/")[0] not in DBT_LAYERS]
    assert models and not uncovered
    for mart in (
        "fct_application_training_set",
        "fct_fraud_training_set",
        "fct_collections_training_set",
        "fct_b_card_training_set",
    ):
        assert any(n["name"] == mart and n["path"].startswith("marts/") for n in models)


def test_each_dbt_test_runs_once_after_all_of_its_parents(dagbag) -> None:
    """What dbt selects with each layer's own flags: every test of the project exactly once, with
    the layer of its last parent (a mart's relationships test to an intermediate model runs with
    the marts, when both exist)."""
    import json

    from dbt.cli.main import dbtRunner

    from creditlake.settings import DBT_MANIFEST_PATH
    from orchestration.dbt import PROFILES_DIR, PROJECT_DIR
    from orchestration.warehouse import DBT_LAYERS

    dag = dagbag.get_dag("transform__warehouse")
    selected: dict[str, set[str]] = {}
    for layer in DBT_LAYERS:
        task = dag.get_task(f"dbt.{layer}")
        args = ["ls", "--resource-type", "test", "--output", "name", "--select", *task.select]
        args += ["--exclude", *task.exclude, "--indirect-selection", task.indirect_selection]
        args += ["--project-dir", str(PROJECT_DIR), "--profiles-dir", str(PROFILES_DIR)]
        result = dbtRunner().invoke(args)
        assert result.success, result.exception
        selected[layer] = set(result.result)
    nodes = json.loads(DBT_MANIFEST_PATH.read_text())["nodes"].values()
    every_test = {n["name"] for n in nodes if n["resource_type"] == "test"}
    assert sum(len(tests) for tests in selected.values()) == len(every_test)
    assert set().union(*selected.values()) == every_test
    crossing = "relationships_fct_loans_application_id__application_id__ref_int_applications_known_"
    assert crossing in selected["marts"]


def test_the_layers_build_no_unit_test_of_the_project(dagbag) -> None:
    """Unit tests give the same verdict on every date (inline rows, no warehouse data): the
    scheduled layers leave them to the code's tests, while the project does have some."""
    from dbt.cli.main import dbtRunner

    from orchestration.dbt import PROFILES_DIR, PROJECT_DIR
    from orchestration.warehouse import DBT_LAYERS

    dag = dagbag.get_dag("transform__warehouse")
    common = ["--project-dir", str(PROJECT_DIR), "--profiles-dir", str(PROFILES_DIR)]
    listed = ["ls", "--resource-type", "unit_test", "--output", "name", *common]
    every_unit_test = dbtRunner().invoke(listed)
    assert every_unit_test.success and every_unit_test.result
    for layer in DBT_LAYERS:
        task = dag.get_task(f"dbt.{layer}")
        result = dbtRunner().invoke([*listed, "--select", *task.select, "--exclude", *task.exclude])
        assert result.success, result.exception
        assert result.result == [], layer


def test_ml_dags_wait_for_the_warehouse_gate(dagbag) -> None:
    for model in ("credit_pd", "fraud", "c_card"):
        train = dagbag.get_dag(f"ml__train_{model}")
        assert train.get_task("wait_for_warehouse").downstream_task_ids == {"train_and_register"}
        assert [a.name for a in train.get_task("train_and_register").outlets] == [f"model.{model}"]
    score = dagbag.get_dag("ml__score_applications")
    assert score.get_task("wait_for_warehouse").downstream_task_ids == {"score_applications"}
    assert score.get_task("score_applications").downstream_task_ids == {
        "report_portfolio",
        "order_collections_queue",
        "propose_limits",
    }


def test_monitoring_dag_checks_every_model_after_the_warehouse_gate(dagbag) -> None:
    """One task per model of ml.names.MODELS, each writing the warehouse (its one-writer pool);
    a fail month fails the task at once, so its retries only cover infrastructure errors."""
    from ml.names import MODELS
    from orchestration.warehouse import WAREHOUSE_POOL

    dag = dagbag.get_dag("ml__monitor_models")
    checks = {f"monitor_{model}" for model in MODELS}
    assert set(dag.task_ids) == {"wait_for_warehouse", *checks}
    assert dag.get_task("wait_for_warehouse").downstream_task_ids == checks
    for task_id in checks:
        task = dag.get_task(task_id)
        assert task.pool == WAREHOUSE_POOL and task.downstream_task_ids == set()
        assert [a.name for a in task.outlets] == ["ml.monitoring"]
    assert dag.schedule == "@weekly"


@pytest.mark.parametrize("path", DAG_FILES, ids=lambda p: p.stem)
def test_no_heavy_work_at_dag_parse_time(path: Path) -> None:
    """Parsing a DAG file must not start Spark, MLflow or GX: the scheduler parses them often."""
    probe = (
        "import sys, time, runpy; t = time.monotonic(); "
        f"runpy.run_path({str(path)!r}); "
        "print('PARSE_SECONDS', round(time.monotonic() - t, 2)); "
        f"print('HEAVY', ','.join(m for m in {HEAVY_MODULES!r} if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr[-2000:]
    lines = dict(
        line.split(" ", 1) if " " in line else (line, "")
        for line in result.stdout.splitlines()
        if line.startswith(("PARSE_SECONDS", "HEAVY"))
    )
    seconds, heavy = lines["PARSE_SECONDS"], lines["HEAVY"].strip()
    assert heavy == "", f"{path.name} imports {heavy} at parse time"
    # Far below Airflow's DAG-bag import timeout (120 s here), even on a loaded CI machine.
    assert float(seconds) < 60, f"{path.name} took {seconds} s to parse"
