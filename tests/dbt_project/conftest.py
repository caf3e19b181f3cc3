"""One dbt parse and the daily dbt builds over the fixture lake, shared by the tests of this folder.

The warehouse follows the as-of date (each mart row is owned by one date), so the session builds
it the way production does: every date from the extract up to AS_OF_DATE, in order, with the whole
scenario (including the deliveries after AS_OF_DATE) already published. That runs once per test
session (under a minute); the tests query the resulting DuckDB file read-only and read the run
results and manifest the last build left behind.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from dbt_fixture_lake import BUILD_DATES, fresh_settings, write_scenario

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

    def rows_by_key(
        self, table: str, key: str, as_of_date: Any = None
    ) -> dict[str, dict[str, Any]]:
        """Rows by key; of one as-of date's slice when given (a snapshot mart has one per date)."""
        import duckdb

        where, params = ("where as_of_date = ?", [as_of_date]) if as_of_date else ("", [])
        with duckdb.connect(str(self.settings.warehouse_path), read_only=True) as con:
            cursor = con.execute(f"select * from {table} {where}", params)
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
    """The scenario's bronze lake, built by ``dbt build`` (models, tests and unit tests) for every
    date of BUILD_DATES in order, as the daily runs would."""
    from creditlake.settings import DBT_TARGET_DIR
    from orchestration.dbt import run_dbt

    write_scenario(dbt_settings)
    for as_of_date in BUILD_DATES:
        run_dbt(["build"], dbt_settings, as_of_date=as_of_date)
    target = DBT_TARGET_DIR
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
    from creditlake.settings import DBT_MANIFEST_PATH
    from orchestration.dbt import run_dbt

    run_dbt(["parse"], dbt_settings, as_of_date=None)
    return json.loads(DBT_MANIFEST_PATH.read_text())
