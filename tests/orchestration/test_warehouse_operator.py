"""The warehouse DAG's dbt operator leaves the process environment as it found it."""

from __future__ import annotations

import os

import pytest
from cosmos.operators.local import DbtBuildLocalOperator

from orchestration.warehouse import DbtLayerBuildOperator


def test_a_layer_build_does_not_leak_its_env_into_the_process(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Cosmos writes the task's env into ``os.environ`` (for OpenLineage) and keeps it there; the
    next dbt call of a ``dag.test`` process would build another home's warehouse."""

    def cosmos_execute(self, context):
        os.environ["CREDITLAKE_WAREHOUSE_PATH"] = "/somewhere/else.duckdb"
        os.environ.pop("CREDITLAKE_TEST_MARKER")
        return "built"

    monkeypatch.setattr(DbtBuildLocalOperator, "execute", cosmos_execute)
    monkeypatch.delenv("CREDITLAKE_WAREHOUSE_PATH", raising=False)
    monkeypatch.setenv("CREDITLAKE_TEST_MARKER", "kept")
    operator = object.__new__(DbtLayerBuildOperator)  # execute needs no operator state here

    assert operator.execute({}) == "built"
    assert "CREDITLAKE_WAREHOUSE_PATH" not in os.environ
    assert os.environ["CREDITLAKE_TEST_MARKER"] == "kept"
