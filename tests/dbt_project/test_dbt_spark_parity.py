"""The same dbt project built on Spark (dbt-spark, thrift) holds what it holds on DuckDB.

Both targets build the fixture lake the same way: every model for the extract date, then one
snapshot mart for a later date (a second slice in the table the first build created, which is
where dbt-spark takes the incremental path, the project's partition overwrite of
``macros/slices_spark.sql``). Every relation of every layer is read back from both engines and
compared as a multiset of rows: the same columns, the same rows, doubles equal within a relative
1e-9, dates and timestamps as UTC wall-clock text. A model whose SQL means something else on one
engine (a dialect macro that rounds, shifts a date, drops a row) fails here with the relation, the
column and both values.

Spark is the Thrift Server the pyspark distribution carries, on a free loopback port, started and
stopped by this module.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import decimal
import json
import math
import time
from collections.abc import Iterator
from typing import Any

import duckdb
import pytest
from dbt_fixture_lake import AS_OF_DATE, EXTRACT_DATE, fresh_settings, write_scenario
from spark_thrift_server import SparkThriftServer

from creditlake.settings import DBT_MANIFEST_PATH, Settings

pytestmark = [pytest.mark.slow, pytest.mark.spark_thrift_server]

#: The date every model is built for: the one on which every relation of the scenario holds rows
#: (an empty relation would compare equal whatever its SQL means).
FULL_BUILD_DATE = EXTRACT_DATE
#: A snapshot mart built again for a later date, alone: the incremental strategy must write the
#: new slice beside the first, untouched. Building every model for a second date instead would
#: double the module's time (minutes of Spark) for comparisons the first build already makes.
SECOND_SLICE_DATE, SECOND_SLICE_MODEL = AS_OF_DATE, "dim_customers"
#: ``(as-of date, dbt arguments)`` of each build, in order, on both engines.
BUILDS = [
    (FULL_BUILD_DATE, ["run"]),
    (SECOND_SLICE_DATE, ["run", "--select", SECOND_SLICE_MODEL]),
]
PARITY_DATES = [as_of_date for as_of_date, _ in BUILDS]
REL_TOL = 1e-9
ABS_TOL = 1e-12


#: A relation's content on both engines: ``(columns, rows)`` from DuckDB, then from Spark.
Contents = tuple[tuple[list[str], list[tuple]], tuple[list[str], list[tuple]]]


@dataclasses.dataclass(frozen=True)
class BothWarehouses:
    server: SparkThriftServer
    #: ``{(as-of date, schema.name): contents}``: staging and intermediate tables as the
    #: full build left them, the marts as the last build left them (every slice).
    contents: dict[tuple[dt.date, str], Contents]
    #: ``schema.name`` of every model the project builds, by layer (from dbt's manifest).
    relations: dict[str, list[str]]


@pytest.fixture(scope="module")
def both_warehouses(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BothWarehouses]:
    from orchestration.dbt import run_dbt

    home = tmp_path_factory.mktemp("dbt-spark-parity")
    server = SparkThriftServer(home / "spark").launch()
    try:
        settings = fresh_settings(home / "creditlake")
        write_scenario(settings)
        timings: dict[str, float] = {}
        on_spark = dataclasses.replace(
            settings,
            dbt_target="spark",
            spark_thrift_host=server.host,
            spark_thrift_port=server.port,
        )
        contents: dict[tuple[dt.date, str], Contents] = {}
        relations: dict[str, list[str]] = {}
        for number, (as_of_date, dbt_args) in enumerate(BUILDS):
            started = time.monotonic()
            run_dbt(dbt_args, settings, as_of_date=as_of_date)
            timings[f"duckdb {as_of_date}"] = time.monotonic() - started
            relations = built_relations(json.loads(DBT_MANIFEST_PATH.read_text()))
            if number == 0:
                started = time.monotonic()
                server.wait_until_ready()
                timings["rest of the server start"] = time.monotonic() - started
            started = time.monotonic()
            run_dbt(dbt_args, on_spark, as_of_date=as_of_date)
            timings[f"spark {as_of_date}"] = time.monotonic() - started
            # staging and intermediate as the full build left them, the marts at the end
            layers = ["staging", "intermediate"] if number == 0 else []
            if number == len(BUILDS) - 1:
                layers.append("marts")
            for layer in layers:
                for relation in relations[layer]:
                    contents[(as_of_date, relation)] = (
                        read_duckdb(settings, relation),
                        server.query(f"select * from {relation}"),
                    )
        # Where the module's time goes, in the test log (a Spark build is most of it).
        print("dbt-spark parity timings:", {k: round(v, 1) for k, v in timings.items()})
        yield BothWarehouses(server, contents, relations)
    finally:
        server.stop()


def built_relations(manifest: dict[str, Any]) -> dict[str, list[str]]:
    """``{layer: [schema.name, ...]}`` of the project's models, from dbt's own manifest."""
    layers: dict[str, list[str]] = {}
    for node in manifest["nodes"].values():
        if node["resource_type"] == "model" and node["package_name"] == "creditlake":
            layers.setdefault(node["schema"], []).append(f"{node['schema']}.{node['alias']}")
    return {layer: sorted(names) for layer, names in layers.items()}


# Reading and comparing ----------------------------------------------------------------------------
def canonical(value: Any) -> Any:
    """One engine-independent form per value: PyHive returns dates as text and decimals as
    Decimal, DuckDB returns date objects; timestamps are UTC wall-clock times on both."""
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC).replace(tzinfo=None)
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return value.normalize()
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return decimal.Decimal(value)
    return value


def _sort_key(row: tuple) -> tuple:
    """Orders rows by their exact values, with doubles rounded so that rows equal within the
    tolerance sort to the same position on both sides; None first."""
    return tuple(
        (0, "")
        if value is None
        else (1, f"{value:.6g}")
        if isinstance(value, float)
        else (1, str(value))
        for value in row
    )


def read_duckdb(settings: Settings, relation: str) -> tuple[list[str], list[tuple]]:
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        cursor = con.execute(f"select * from {relation}")
        return [c[0] for c in cursor.description], cursor.fetchall()


def normalised(names: list[str], rows: list[tuple]) -> tuple[list[str], list[tuple]]:
    """Columns sorted by name (Spark stores a partition column last) and rows sorted."""
    order = sorted(range(len(names)), key=lambda i: names[i])
    table = [tuple(canonical(row[i]) for i in order) for row in rows]
    return [names[i] for i in order], sorted(table, key=_sort_key)


def differences(
    relation: str, expected: tuple[list[str], list[tuple]], actual: tuple[list[str], list[tuple]]
) -> list[str]:
    """What differs between DuckDB's (expected) and Spark's (actual) content of a relation."""
    names, rows = normalised(*expected)
    other_names, other_rows = normalised(*actual)
    if names != other_names:
        return [f"{relation}: columns {names} on DuckDB, {other_names} on Spark"]
    if len(rows) != len(other_rows):
        return [f"{relation}: {len(rows)} rows on DuckDB, {len(other_rows)} on Spark"]
    found = []
    for number, (row, other) in enumerate(zip(rows, other_rows, strict=True)):
        for name, left, right in zip(names, row, other, strict=True):
            if isinstance(left, float) and isinstance(right, float | decimal.Decimal):
                same = math.isclose(left, float(right), rel_tol=REL_TOL, abs_tol=ABS_TOL)
            else:
                same = left == right
            if not same:
                found.append(f"{relation} row {number} {name}: DuckDB {left!r}, Spark {right!r}")
    return found


# The tests --------------------------------------------------------------------------------------
@pytest.mark.parametrize("layer", ["staging", "intermediate", "marts"])
def test_every_relation_of_a_layer_holds_the_same_rows_on_spark_as_on_duckdb(
    both_warehouses: BothWarehouses, layer: str
) -> None:
    relations = both_warehouses.relations[layer]
    assert relations, f"no {layer} models in the manifest"
    found, rows = [], dict.fromkeys(relations, 0)
    for (as_of_date, relation), (expected, actual) in both_warehouses.contents.items():
        if relation in rows:
            rows[relation] += len(expected[1])
            found += [f"{as_of_date}: {d}" for d in differences(relation, expected, actual)]
    assert not found, "\n".join(found[:40])
    # An empty relation would compare equal whatever its SQL means.
    assert [name for name, count in rows.items() if count == 0] == []


def test_the_marts_hold_one_slice_per_built_date_on_spark(
    both_warehouses: BothWarehouses,
) -> None:
    """Both dates' snapshot slices are there: the second build wrote only its partition."""
    _, rows = both_warehouses.server.query(
        f"select as_of_date, count(*) from marts.{SECOND_SLICE_MODEL} group by as_of_date"
    )
    assert sorted(str(day) for day, _ in rows) == sorted(d.isoformat() for d in PARITY_DATES)


def test_the_comparison_reports_a_value_that_differs_beyond_the_tolerance() -> None:
    """The comparison itself can fail: a double off by more than 1e-9 relative, a shifted date
    and a missing row are reported; a difference within the tolerance is not."""
    names = ["loan_id", "as_of_date", "ratio"]
    duck = [("L1", dt.date(2026, 1, 4), 0.1), ("L2", dt.date(2026, 1, 4), None)]
    assert (
        differences(
            "t",
            (names, duck),
            (names, [("L2", "2026-01-04", None), ("L1", "2026-01-04", 0.1 + 1e-12)]),
        )
        == []
    )
    drifted = [("L1", "2026-01-04", 0.1 * (1 + 1e-6)), ("L2", "2026-01-04", None)]
    assert differences("t", (names, duck), (names, drifted)) != []
    shifted = [("L1", "2026-01-05", 0.1), ("L2", "2026-01-04", None)]
    assert differences("t", (names, duck), (names, shifted)) != []
    assert differences("t", (names, duck), (names, shifted[:1])) != []
