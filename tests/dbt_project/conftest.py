"""One dbt parse and one dbt build over the fixture lake, shared by the tests of this folder.

The build runs once per test session (it takes a few tens of seconds); the tests query the
resulting DuckDB file read-only and read the run results and manifest it left behind.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from dbt_fixture_lake import AS_OF_DATE, fresh_settings, write_scenario

from creditlake.settings import Settings


@dataclass(frozen=True)
class BuiltWarehouse:
    settings: Settings
    run_results: dict[str, Any] = field(repr=False)
    manifest: dict[str, Any] = field(repr=False)

    def query(self, sql: str, params: list | None = None) -> list[tuple]:
        import duckdb

        with duckdb.connect(str(self.settings.warehouse_path), read_only=True) as con:
            return con.execute(sql, params or []).fetchall()

    def rows_by_key(self, table: str, key: str) -> dict[str, dict[str, Any]]:
        import duckdb

        with duckdb.connect(str(self.settings.warehouse_path), read_only=True) as con:
            cursor = con.execute(f"select * from {table}")
            names = [c[0] for c in cursor.description]
            return {
                row[names.index(key)]: dict(zip(names, row, strict=True))
                for row in cursor.fetchall()
            }


@pytest.fixture(scope="session")
def dbt_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """One creditlake home for every dbt call of the session.

    dbt re-parses the whole project when its environment or vars change, so sharing one home
    (hence one environment) between the build, the parse and the failing run keeps them quick.
    """
    return fresh_settings(tmp_path_factory.mktemp("dbt") / "creditlake")


@pytest.fixture(scope="session")
def built_warehouse(dbt_settings: Settings) -> Iterator[BuiltWarehouse]:
    """The scenario's bronze lake, built by ``dbt build`` (models, tests and unit tests)."""
    from orchestration.dbt import PROJECT_DIR, run_dbt

    write_scenario(dbt_settings)
    run_dbt(["build"], dbt_settings, as_of_date=AS_OF_DATE)
    target = PROJECT_DIR / "target"
    yield BuiltWarehouse(
        dbt_settings,
        run_results=json.loads((target / "run_results.json").read_text()),
        manifest=json.loads((target / "manifest.json").read_text()),
    )


@pytest.fixture(scope="session")
def parsed_manifest(built_warehouse: BuiltWarehouse, dbt_settings: Settings) -> dict[str, Any]:
    """The manifest ``dbt parse`` writes without an as-of date (what Cosmos renders from).

    It runs after the build, on purpose: parse must not need the date, and it must not disturb
    the warehouse the build left behind.
    """
    from orchestration.dbt import PROJECT_DIR, run_dbt

    run_dbt(["parse"], dbt_settings, as_of_date=None)
    return json.loads((PROJECT_DIR / "target" / "manifest.json").read_text())
