"""The DuckDB ingest engine on its own: a process that ingests with it never imports pyspark, and
its CSV split agrees with Python's ``csv`` module on the lines the SQL path splits."""

from __future__ import annotations

import csv

import duckdb
import pytest
from child_python import run_python
from spark_job_helpers import customer_line, deliver

from creditlake.settings import Settings
from spark_jobs.duckdb_extract import csv_fields_sql

CHILD = """
import json, sys
from spark_jobs import ingest
result = ingest.main("customers", "2026-01-01")
print(json.dumps({"pyspark": sorted(m for m in sys.modules if m.split(".")[0] == "pyspark"),
                  "bronze_rows": result.bronze_rows}))
"""


def test_a_duckdb_ingest_never_imports_pyspark(settings: Settings):
    deliver(settings, "customers", [customer_line(1), customer_line(2)])
    found = run_python(CHILD, CREDITLAKE_INGEST_ENGINE="duckdb")
    assert found == {"pyspark": [], "bronze_rows": 2}


@pytest.mark.parametrize(
    "line",
    ["", " ", "a", ",a", "a,", ",", "a,,b", '"x,y",z', '"q""x",', ',"",', '"a"', '""', '"",""'],
)
def test_sql_split_agrees_with_the_csv_module(line: str):
    fields = duckdb.execute(f"SELECT {csv_fields_sql('$1')}", [line]).fetchone()[0]
    assert fields == next(csv.reader((line,)), [])


@pytest.mark.parametrize("line", ['a"b,c', '"a" ,b', '"a', '"a""'])
def test_lines_with_a_quote_inside_a_field_are_left_to_the_csv_module(line: str):
    assert duckdb.execute(f"SELECT {csv_fields_sql('$1')}", [line]).fetchone()[0] is None
