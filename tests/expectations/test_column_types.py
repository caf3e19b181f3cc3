"""Each registry type as the two gate engines name it, and the dtype the in-process gate reads."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pyarrow as pa
import pytest

from creditlake.sources import SOURCES, arrow_type, bronze_columns
from expectations.column_types import expected_type, spark_type_class, to_pandas


@pytest.mark.parametrize(
    ("registry_type", "spark_class", "pandas_name"),
    [
        ("string", "StringType", "str"),
        ("int", "IntegerType", "int32"),
        ("bigint", "LongType", "int64"),
        ("double", "DoubleType", "float64"),
        ("boolean", "BooleanType", "bool"),
        ("date", "DateType", "date"),
        ("timestamp", "TimestampType", "Timestamp"),
        ("decimal(12,2)", "DecimalType", "float64"),
        ("decimal(6,4)", "DecimalType", "float64"),
    ],
)
def test_each_registry_type_has_a_name_on_each_engine(
    registry_type: str, spark_class: str, pandas_name: str
) -> None:
    assert expected_type(registry_type, "spark") == spark_class
    assert expected_type(registry_type, "pandas") == pandas_name


def test_every_bronze_column_type_is_mapped_on_both_engines() -> None:
    for source in SOURCES.values():
        for column in bronze_columns(source):
            assert expected_type(column.type, "spark")
            assert expected_type(column.type, "pandas")


def test_unknown_registry_type_names_where_to_map_it() -> None:
    with pytest.raises(ValueError, match=r"'map<string,int>'.*SPARK_TYPE_CLASSES"):
        spark_type_class("map<string,int>")
    with pytest.raises(ValueError, match=r"'map<string,int>'.*ARROW_TYPES"):
        expected_type("map<string,int>", "pandas")
    with pytest.raises(ValueError, match="gate engine must be one of"):
        expected_type("string", "polars")


def test_the_frame_read_keeps_widths_nulls_and_exact_values() -> None:
    """A null integer stays an integer, int stays apart from bigint, a decimal at a policy cap
    compares with it as Spark compares it (as a double)."""
    table = pa.table(
        {
            "term_months": pa.array([12, None], arrow_type("int")),
            "row_number": pa.array([1, 2], arrow_type("bigint")),
            "apr": pa.array([Decimal("0.2400"), None], arrow_type("decimal(6,4)")),
            "due": pa.array([dt.date(2026, 1, 2), None], arrow_type("date")),
            "at": pa.array([dt.datetime(2026, 1, 2, 8, 30), None], arrow_type("timestamp")),
            "name": pa.array(["a", None], arrow_type("string")),
        }
    )
    frame = to_pandas(table)

    assert [frame[c].dtype.type.__name__ for c in frame.columns] == [
        "int32",
        "int64",
        "float64",
        "date",
        "Timestamp",
        "str",
    ]
    assert frame["term_months"].isna().tolist() == [False, True]
    assert frame["apr"][0] <= 0.24  # exactly: Decimal("0.2400") > 0.24, as 0.24 is a hair below
    assert frame["apr"].isna().tolist() == [False, True]
    assert str(frame["at"].dtype) == "datetime64[us, UTC]"
