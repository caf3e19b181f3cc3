"""`creditlake new-source` writes a consistent registry entry, dbt source and staging model.

Each test scaffolds into a copy of the registry and the dbt project, then reads the result the
way the platform would: the registry module is imported, the source YAML is compared with the
bronze schema the registry derives, and (slow) dbt parses the project with the new model.
"""

from __future__ import annotations

import importlib.util
import shutil
import sys
from pathlib import Path

import pytest
import yaml

from creditlake.policy import PII_TOKEN
from creditlake.settings import PROJECT_ROOT
from creditlake.sources import PARTITION_COLUMN, SOURCES, bronze_columns
from orchestration.new_source import NewSourceError, SourceSpec, parse_column, write_source

COLUMNS = (
    "fingerprint_id:string:required",
    "customer_id:string:required",
    "device_id:string:required:pii",
    "seen_at:timestamp:required",
    "risk_points:decimal(6,2):non_negative",
)


def _spec(**overrides) -> SourceSpec:
    values = {
        "name": "device_fingerprints",
        "domain": "customer_behaviour",
        "format": "jsonl",
        "key": "fingerprint_id",
        "columns": tuple(parse_column(text) for text in COLUMNS),
        "description": "Device fingerprints seen by the mobile app.",
    }
    return SourceSpec(**{**values, **overrides})


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of what the scaffold edits: the registry and the dbt project."""
    root = tmp_path / "project"
    (root / "creditlake").mkdir(parents=True)
    shutil.copy(PROJECT_ROOT / "creditlake" / "sources.py", root / "creditlake" / "sources.py")
    shutil.copytree(
        PROJECT_ROOT / "dbt_project",
        root / "dbt_project",
        ignore=shutil.ignore_patterns("target", "logs"),
    )
    return root


def _load_registry(root: Path):
    spec = importlib.util.spec_from_file_location(
        "scaffolded_sources", root / "creditlake/sources.py"
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses resolve their module while it executes
    try:
        spec.loader.exec_module(module)
    finally:
        del sys.modules[spec.name]
    return module


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("event_id:string:required", ("event_id", "string", True, None, False, False)),
        ("phone:string:pii", ("phone", "string", False, "C2", False, False)),
        ("amount_cny:decimal(12,2):required:positive", ("amount_cny", "decimal(12,2)", True, None, True, False)),  # noqa: E501
        ("count:int:non_negative", ("count", "int", False, None, False, True)),
    ],
)  # fmt: skip
def test_column_descriptions_parse(text: str, expected: tuple) -> None:
    column = parse_column(text)
    got = (column.name, column.type, column.required, column.pii, column.positive)
    assert (*got, column.non_negative) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("Event:string", "lower_snake_case"),
        ("event:varchar", "type 'varchar' is not one of"),
        ("event:string:unique", "unknown flag"),
        ("amount:double:pii", "must be a string"),
    ],
)
def test_bad_column_descriptions_name_the_problem(text: str, message: str) -> None:
    with pytest.raises(NewSourceError, match=message):
        parse_column(text)


def test_the_registry_gains_the_source_with_its_schema(project: Path) -> None:
    write_source(_spec(), root=project)

    registry = _load_registry(project)
    source = registry.SOURCES["device_fingerprints"]
    assert source.domain == "customer_behaviour"
    assert registry.DOMAINS["customer_behaviour"][-1] == "device_fingerprints"
    assert source.staging_model == "stg_behaviour__device_fingerprints"
    assert [c.name for c in source.pii_columns] == ["device_id"]
    assert source.column("risk_points").non_negative
    assert set(registry.SOURCES) == {*SOURCES, "device_fingerprints"}


def test_the_dbt_source_declares_exactly_the_bronze_schema(project: Path) -> None:
    write_source(_spec(), root=project)

    sources_yaml = project / "dbt_project/models/staging/behaviour/_behaviour__sources.yml"
    tables = yaml.safe_load(sources_yaml.read_text())["sources"][0]["tables"]
    table = {t["name"]: t for t in tables}["device_fingerprints"]
    expected = [c.name for c in bronze_columns(_spec().source)] + [PARTITION_COLUMN]
    assert [c["name"] for c in table["columns"]] == expected
    pii = {c["name"]: c.get("config", {}).get("meta", {}).get("pii") for c in table["columns"]}
    assert pii["device_id_token"] == PII_TOKEN
    assert [t["name"] for t in tables] == ["app_events", "transactions", "device_fingerprints"]


def test_the_staging_model_only_renames_and_casts(project: Path) -> None:
    written = write_source(_spec(), root=project)

    sql = project / "dbt_project/models/staging/behaviour/stg_behaviour__device_fingerprints.sql"
    text = sql.read_text()
    assert "source('behaviour', 'device_fingerprints')" in text
    assert "cast(device_id_token as {{ text_type() }}) as device_id_token" in text
    assert "cast(risk_points as decimal(6, 2)) as risk_points" in text
    assert "keep_latest_delivery('renamed', ['fingerprint_id'])" in text
    assert " join " not in text and "group by" not in text
    model = yaml.safe_load(sql.with_suffix(".yml").read_text())["models"][0]
    assert model["config"]["meta"]["pii"] == [PII_TOKEN]
    key = model["columns"][0]
    assert (key["name"], key["data_tests"]) == ("fingerprint_id", ["unique", "not_null"])
    assert sorted(p.name for p in written.created) == [
        "stg_behaviour__device_fingerprints.sql",
        "stg_behaviour__device_fingerprints.yml",
    ]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"name": "customers"}, "already exists"),
        ({"domain": "collections"}, "domain 'collections' is not one of"),
        ({"key": "device_id"}, "must be required and not personal data"),
        ({"key": "nothing"}, "is not one of the columns"),
        ({"format": "xml"}, "csv or jsonl"),
    ],
)
def test_a_refused_description_changes_nothing(project: Path, overrides, message: str) -> None:
    before = {p: p.read_bytes() for p in project.rglob("*") if p.is_file()}

    with pytest.raises(NewSourceError, match=message):
        write_source(_spec(**overrides), root=project)

    assert {p: p.read_bytes() for p in project.rglob("*") if p.is_file()} == before


@pytest.mark.slow
def test_dbt_parses_the_project_with_the_new_source(project: Path, tmp_path: Path) -> None:
    """dbt accepts the scaffold: the source, the staging model and its tests all parse."""
    import os
    from unittest import mock

    from dbt.cli.main import dbtRunner

    write_source(_spec(), root=project)
    dbt_dir = project / "dbt_project"
    env = {
        "CREDITLAKE_WAREHOUSE_PATH": str(tmp_path / "w.duckdb"),
        "CREDITLAKE_LAKE_DIR": str(tmp_path / "lake"),
        "DBT_TARGET_PATH": str(dbt_dir / "target"),  # not the platform's (a test worker's) own
    }
    with mock.patch.dict(os.environ, env):
        result = dbtRunner().invoke(
            ["parse", "--project-dir", str(dbt_dir), "--profiles-dir", str(dbt_dir), "--quiet"]
        )
    assert result.success, result.exception
    nodes = result.result.nodes
    assert "model.creditlake.stg_behaviour__device_fingerprints" in nodes
    tests = [n for n in nodes.values() if n.resource_type == "test"]
    assert any(
        t.attached_node == "model.creditlake.stg_behaviour__device_fingerprints" for t in tests
    )
