"""Governance rules of the dbt project, checked on the build's manifest and warehouse.

Every model is documented with an owner and PII tags, personal columns carry their category,
keys are tested, foreign keys in the marts have relationship tests, and the sources declare
exactly the bronze schema of the source registry.
"""

from __future__ import annotations

from collections import defaultdict

import pytest

from creditlake import policy
from creditlake.sources import PARTITION_COLUMN, SOURCES, bronze_columns

PII_CATEGORIES = set(policy.PII_CATEGORIES) - {policy.PII_IDENTIFIER}  # C2 never passes bronze
FOREIGN_KEYS = {"customer_id", "application_id", "loan_id"}

pytestmark = pytest.mark.slow


def _models(manifest: dict) -> dict[str, dict]:
    return {
        node["name"]: node
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model"
    }


def _column_pii(column: dict) -> str | None:
    return (column.get("config", {}).get("meta") or column.get("meta") or {}).get("pii")


def _tests_by_model(manifest: dict) -> dict[str, set[tuple[str, str | None]]]:
    """``model name -> {(test name, column)}`` for the generic tests attached to models."""
    tests: dict[str, set[tuple[str, str | None]]] = defaultdict(set)
    for node in manifest["nodes"].values():
        if node["resource_type"] != "test" or not node.get("test_metadata"):
            continue
        attached = node.get("attached_node") or ""
        if attached.startswith("model."):
            tests[attached.split(".")[-1]].add(
                (node["test_metadata"]["name"], node.get("column_name"))
            )
    return tests


def test_sources_declare_exactly_the_bronze_schema(built_warehouse) -> None:
    declared = {
        node["name"]: node
        for node in built_warehouse.manifest["sources"].values()
        if node["package_name"] == "creditlake"
    }
    assert set(declared) == set(SOURCES)
    for name, source in SOURCES.items():
        expected = [c.name for c in bronze_columns(source)] + [PARTITION_COLUMN]
        columns = declared[name]["columns"]
        assert list(columns) == expected, name
        for column in bronze_columns(source):
            if column.pii:
                assert _column_pii(columns[column.name]) == column.pii, f"{name}.{column.name}"
        # read at the published snapshot that orchestration.dbt.pin_bronze defines as views
        assert declared[name]["schema"] == "bronze"
        assert "external_location" not in declared[name]["meta"]


def test_every_model_is_documented_with_owner_and_pii_tags(built_warehouse) -> None:
    for name, model in _models(built_warehouse.manifest).items():
        meta = model["config"]["meta"]
        assert model["description"].strip(), f"{name} has no description"
        assert meta.get("owner"), f"{name} has no owner"
        assert isinstance(meta.get("pii"), list), f"{name}: meta.pii must list its categories"
        column_tags = {_column_pii(c) for c in model["columns"].values()} - {None}
        assert column_tags <= PII_CATEGORIES, name
        assert set(meta["pii"]) == column_tags, f"{name}: meta.pii does not match its columns"
        for column_name, column in model["columns"].items():
            assert column["description"].strip(), f"{name}.{column_name} is undocumented"
            if column_name.endswith("_token"):
                assert _column_pii(column) == policy.PII_TOKEN, f"{name}.{column_name}"
            if column_name in {"city", "province"}:
                assert _column_pii(column) == policy.PII_LOCATION_CITY, f"{name}.{column_name}"


def _constraints(column: dict) -> set[str]:
    return {constraint["type"] for constraint in column.get("constraints") or []}


def _primary_key(model: dict) -> list[str]:
    """A mart's primary key: a model-level constraint (a snapshot's ``as_of_date`` + key) or its
    first column's constraint (an event mart's key)."""
    for constraint in model.get("constraints") or []:
        if constraint["type"] == "primary_key":
            return list(constraint["columns"])
    key = next(iter(model["columns"]))
    return [key] if "primary_key" in _constraints(model["columns"][key]) else []


def test_every_model_guards_its_key_once(built_warehouse) -> None:
    """Marts enforce their key as a contract primary key; other models test it. Never both."""
    tests = _tests_by_model(built_warehouse.manifest)
    for name, model in _models(built_warehouse.manifest).items():
        key = next(iter(model["columns"]))
        key_tests = {("unique", key), ("not_null", key)} & tests[name]
        if model["schema"] == "marts":
            primary_key = _primary_key(model)
            # an event mart's key, or a snapshot's key within its as-of date's slice
            assert primary_key in ([key], ["as_of_date", key]), name
            assert not key_tests, f"{name}: key {key} is tested and also a primary key"
        else:
            assert len(key_tests) == 2, f"{name}: key {key} untested"


def test_no_contract_constraint_is_tested_again(built_warehouse) -> None:
    tests = _tests_by_model(built_warehouse.manifest)
    for name, model in _models(built_warehouse.manifest).items():
        for column_name, column in model["columns"].items():
            if "not_null" in _constraints(column):
                assert ("not_null", column_name) not in tests[name], f"{name}.{column_name}"


def test_marts_keys_are_enforced_by_the_warehouse(built_warehouse) -> None:
    """DuckDB holds each mart's primary key, so a duplicated key cannot be written at all."""
    rows = built_warehouse.query(
        "select table_name, constraint_column_names from duckdb_constraints() "
        "where schema_name = 'marts' and constraint_type = 'PRIMARY KEY'"
    )
    enforced = {table: list(columns) for table, columns in rows}
    for name, model in _models(built_warehouse.manifest).items():
        if model["schema"] == "marts":
            assert enforced.get(name) == _primary_key(model), name


def test_marts_test_their_foreign_keys(built_warehouse) -> None:
    tests = _tests_by_model(built_warehouse.manifest)
    for name, model in _models(built_warehouse.manifest).items():
        key = next(iter(model["columns"]))
        if model["schema"] != "marts":
            continue
        for column in FOREIGN_KEYS & set(model["columns"]) - {key}:
            assert ("relationships", column) in tests[name], f"{name}.{column} has no FK test"


def test_marts_never_expose_full_birth_dates_or_coordinates(built_warehouse) -> None:
    for name, model in _models(built_warehouse.manifest).items():
        columns = set(model["columns"])
        assert not columns & {"latitude", "longitude"}, name
        if model["schema"] == "marts":
            assert "birth_date" not in columns, name


def test_yaml_documents_exactly_the_columns_each_relation_has(built_warehouse) -> None:
    rows = built_warehouse.query(
        "select table_schema, table_name, column_name from information_schema.columns "
        "order by table_schema, table_name, ordinal_position"
    )
    actual: dict[str, list[str]] = defaultdict(list)
    for _, table, column in rows:
        actual[table].append(column)
    for name, model in _models(built_warehouse.manifest).items():
        assert actual[name] == list(model["columns"]), f"{name}: YAML and relation differ"


def test_every_dbt_test_speaks_the_platform_severity_model(built_warehouse) -> None:
    """dbt's error/warn are the platform's fail/warn (creditlake.severity); nothing else."""
    from creditlake import severity

    tests = [
        node
        for node in built_warehouse.manifest["nodes"].values()
        if node["resource_type"] in ("test", "unit_test") and node["package_name"] == "creditlake"
    ]
    assert tests
    found = {severity.of_dbt(node["config"].get("severity", "error")) for node in tests}
    assert found == {severity.FAIL, severity.WARN}
