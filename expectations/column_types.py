"""What a bronze column's type looks like to each gate engine, from the registry in one place.

The bronze write contract says every column has its registry type. GX checks a type by the
engine's own vocabulary: a ``pyspark.sql.types`` class name on Spark, the scalar type of the
column's dtype on pandas. Both are derived here from the registry type, and the pandas one from
the very dtype :func:`to_pandas` gives the column, so the Spark gate, the in-process gate and the
frame the in-process gate reads cannot drift apart.

Why these pandas dtypes: a type rule is only as sharp as the dtype. NumPy's defaults would turn an
integer column with a null into floats and every date into ``object`` (checked value by value,
with counts Spark does not report), so integers, doubles and booleans become pandas' nullable
dtypes (``int32`` stays apart from ``int64``, as ``IntegerType`` from ``LongType``), strings
pandas' string dtype, dates an Arrow-backed dtype whose scalars are ``date``, and timestamps with
a zone ``datetime64[us, UTC]`` (a zone-less one would be ``datetime64``, and fail, as Spark's
``TimestampNTZType`` fails ``TimestampType``).

Decimals are read as ``float64``, because that is how Spark compares them with a policy cap (it
casts the decimal to double): as exact ``Decimal`` values, an APR of exactly ``0.2400`` would
exceed the cap ``0.24`` (the double nearest 0.24 is a hair below it) and the two engines would
disagree on every record at the cap. The cost: on pandas a decimal column's type rule cannot
tell it from a double. The lake refuses a column whose type changes
(:meth:`creditlake.lake.Lake.ensure_table`) and the DuckDB transform writes the registry's Arrow
schema, so only the very first delivery of a table could carry that difference.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from creditlake.sources import arrow_type

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

#: The gate engines: GX on a Spark DataFrame (the cluster path) or on pandas (in-process).
SPARK = "spark"
PANDAS = "pandas"
GATE_ENGINES = (SPARK, PANDAS)

#: Registry (Spark SQL) type → the pyspark.sql.types class GX compares the column type with.
SPARK_TYPE_CLASSES: dict[str, str] = {
    "string": "StringType",
    "int": "IntegerType",
    "bigint": "LongType",
    "double": "DoubleType",
    "boolean": "BooleanType",
    "date": "DateType",
    "timestamp": "TimestampType",
}


def spark_type_class(registry_type: str) -> str:
    """The pyspark type class name for a registry type (``decimal(p,s)`` → ``DecimalType``)."""
    if registry_type.startswith("decimal("):
        return "DecimalType"
    try:
        return SPARK_TYPE_CLASSES[registry_type]
    except KeyError:
        raise ValueError(
            f"registry type {registry_type!r} has no Spark type mapping in "
            "expectations/column_types.py SPARK_TYPE_CLASSES; add it there"
        ) from None


def pandas_dtype(arrow: pa.DataType) -> Any:
    """The pandas dtype a column of Arrow type ``arrow`` is read as (None: pyarrow's default).

    Used as ``types_mapper`` by :func:`to_pandas`, so it decides the dtype of every column read.
    """
    import pandas as pd
    import pyarrow as pa

    types = pa.types
    if types.is_boolean(arrow):
        return pd.BooleanDtype()
    if types.is_integer(arrow) or types.is_floating(arrow):
        # Int32Dtype, Int64Dtype, Float64Dtype, ...: the width is kept and nulls stay nulls
        return pd.api.types.pandas_dtype(arrow.to_pandas_dtype().__name__.capitalize())
    if types.is_string(arrow) or types.is_large_string(arrow):
        return pd.StringDtype()
    if types.is_decimal(arrow):
        return pd.Float64Dtype()  # compared as Spark compares them: see the module's docstring
    if types.is_date(arrow):
        return pd.ArrowDtype(arrow)
    if types.is_timestamp(arrow) and arrow.tz is not None:
        return pd.DatetimeTZDtype(unit=arrow.unit, tz=arrow.tz)
    return None


def pandas_type_name(registry_type: str) -> str:
    """The name GX resolves to the scalar type of the dtype a registry-typed column is read as:
    ``int32``, ``int64``, ``float64`` (doubles and decimals), ``bool``, ``str``, ``date``,
    ``Timestamp``."""
    dtype = pandas_dtype(arrow_type(registry_type))
    if dtype is None:
        raise ValueError(
            f"registry type {registry_type!r} has no pandas dtype in "
            "expectations/column_types.py pandas_dtype; add it there"
        )
    return dtype.type.__name__


def expected_type(registry_type: str, engine: str) -> str:
    """What ``ExpectColumnValuesToBeOfType(type_=...)`` says for a registry type on ``engine``."""
    if engine == SPARK:
        return spark_type_class(registry_type)
    if engine == PANDAS:
        return pandas_type_name(registry_type)
    raise ValueError(f"gate engine must be one of {GATE_ENGINES}, not {engine!r}")


def to_pandas(table: pa.Table) -> pd.DataFrame:
    """An Arrow table as the in-process gate validates it (dtypes of :func:`pandas_dtype`)."""
    import pyarrow as pa

    for index, field in enumerate(table.schema):
        if pa.types.is_decimal(field.type):
            # through the decimal's text, which parses to the nearest double as Spark's cast
            # gives it (Arrow's direct cast gives 0.24000000000000002 for 0.2400)
            exact = table.column(index).cast(pa.string()).cast(pa.float64())
            table = table.set_column(index, field.with_type(pa.float64()), exact)
    return table.to_pandas(types_mapper=pandas_dtype)
