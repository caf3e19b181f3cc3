"""The ingest transform on in-process DuckDB: a delivery → scratch Parquet for bronze, quarantine
and key drift, the same rows, values and Arrow schemas as the Spark transform writes.

The embedded default pays Spark's start-up and planning for every source and day (38 s for a
daily file of a few thousand lines); DuckDB does the same parse, type, check, de-duplicate and
split in the job's own process. Spark stays the cluster path (``Settings.ingest_engine``), and the
two must never diverge silently: the rules are SQL built from the registry
(:mod:`spark_jobs.duckdb_rules`, mirroring :mod:`spark_jobs.row_rules`) and the parity tests run
both engines on the same deliveries.

DuckDB reads and numbers the lines and splits CSV fields itself (:mod:`spark_jobs.duckdb_extract`;
a multi-line record is already marked by the scan); JSON Lines are parsed by DuckDB's JSON
functions, twice per line (its keys, and the registry's values by their paths).

Known differences from Spark, found in review and not exercised by the generator or the tests
(a delivery that hits one can land differently on the two engines): Spark's lenient JSON (single
quotes, ``NaN``), numbers re-printed in a quarantine record (``1.50`` as ``1.5``; doubles from
1e7 up), Spark-only literal forms (``1.5d``, zone names, a year or an hour alone as a timestamp)
and rare CSV quoting such as ``"ab"c``. Closing one means a hostile-delivery test on both engines.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

from creditlake.pii import LONG_DIGITS
from creditlake.sources import CUSTOMER_DERIVED_COLUMNS, Source, arrow_type, bronze_columns
from spark_jobs.contract import (
    DUPLICATE_KEY,
    MALFORMED_JSON,
    MALFORMED_ROW,
    MULTILINE,
    MULTILINE_DETAIL,
    QUARANTINE_COLUMNS,
    REDACTED,
    REPEATED_KEY_DETAIL,
    TRUNCATED,
    TRUNCATED_DETAIL,
    ScratchOutput,
    screened_columns,
)
from spark_jobs.delivery_gate import EXTRA_FIELDS, KEY_CENSUS_COLUMNS, QUARANTINE_PREFIX
from spark_jobs.duckdb_extract import (
    csv_split_sql,
    lines_sql,
    marks_table,
    odd_csv_lines,
    python_lines,
    records_sql,
)
from spark_jobs.duckdb_rules import (
    EARLIEST_BIRTH_DATE,
    as_text_sql,
    cast_sql,
    first_failure_sql,
    hmac_sha256_sql,
    ident,
    literal,
    looks_personal_sql,
    national_id_facts_sql,
    parts_sql,
    personal_ref,
    quoted_sql,
    text_ref,
    typed_ref,
    validation_checks_sql,
)

if TYPE_CHECKING:
    import duckdb
    import pyarrow as pa

    from spark_jobs.contract import Batch
    from spark_jobs.delivery import Delivery

#: Java's ``\\s`` (RE2's lacks the vertical tab).
_BLANK = r"[ \t\n\x0B\f\r]*"
#: Rows per Parquet row group and per Arrow batch read back from DuckDB.
BATCH_ROWS = 256 * 1024

#: Columns the Spark transform fills from a literal, which Spark declares not nullable.
LITERAL_LINEAGE = frozenset({"_source_file", "_batch_id", "_ingested_at"})
LITERAL = frozenset({"source", "source_file"})


# Schemas ----------------------------------------------------------------------------------------
def bronze_schema(source: Source) -> pa.Schema:
    """What ``to_arrow_schema`` gives for the Spark transform's bronze frame."""
    import pyarrow as pa

    fields = [
        pa.field(c.name, arrow_type(c.type), nullable=c.name not in LITERAL_LINEAGE)
        for c in bronze_columns(source)
    ]
    if source.format != "csv":
        fields.append(pa.field(EXTRA_FIELDS, pa.map_(pa.string(), pa.string())))
    return pa.schema(fields)


def quarantine_schema() -> pa.Schema:
    """What ``to_arrow_schema`` gives for the Spark transform's quarantine frame."""
    import pyarrow as pa

    return pa.schema(
        [
            pa.field(name, arrow_type(kind), nullable=name not in LITERAL)
            for name, kind in QUARANTINE_COLUMNS
        ]
    )


# Transform: SQL built from the registry ---------------------------------------------------------
def _blank_to_null(ref: str) -> str:
    return f"CASE WHEN length(trim({ref})) > 0 THEN {ref} END"


def _registry_list(source: Source) -> str:
    return "[" + ", ".join(literal(name) for name in source.column_names) + "]"


def _parsed_sql(source: Source) -> str:
    """:func:`spark_jobs.parsing.transform_parse`: the lines → text fields or a malformed reason."""
    names = source.column_names
    registry = _registry_list(source)
    if source.format == "csv":
        inner = f"""
            SELECT *, NULL::VARCHAR[] AS _keys, NULL::MAP(VARCHAR, VARCHAR) AS _extra_record,
                _no_record OR _corrupt AS _unparsable, false AS _repeated,
                {", ".join(f"{ident('c__' + n)} AS {ident('r__' + n)}" for n in names)}
            FROM lines"""
        reason = literal(MALFORMED_ROW)
        unquoted = "regexp_replace(_raw_line, '\"([^\"]|\"\")*\"', '', 'g')"
        found = f"length({unquoted}) - length(replace({unquoted}, ',', '')) + 1"
        detail = (
            literal(f"expected {len(source.columns)} comma-separated fields (RFC 4180), found ")
            + f" || CAST({found} AS VARCHAR)"
        )
    else:
        # Each JSON function sees only lines the previous test admitted (a CASE branch is not
        # spared evaluation in a vectorised engine, and a malformed line raises).
        valid = "CASE WHEN json_valid(_raw_line) THEN _raw_line END"
        is_object = f"coalesce(json_type({valid}) = 'OBJECT', false)"
        exact = f"(len(_all_keys) = {len(names)} AND list_has_all(_all_keys, {registry}))"
        undeclared = (
            "map_from_entries(list_filter(map_entries(_record), "
            f"lambda e: NOT list_contains({registry}, e.key)))"
        )
        paths = "[" + ", ".join(literal(f'$."{n}"') for n in names) + "]"
        values = ", ".join(f"_values[{i}] AS {ident('r__' + n)}" for i, n in enumerate(names, 1))
        # One parse for the keys and one for the registry's values (a list of paths); the map of
        # every field is built only for the rare record whose keys are not the registry's.
        inner = f"""
            SELECT *, _no_record AS _unparsable,
                coalesce(len(list_distinct(_keys)) < len(_keys), false) AS _repeated,
                CASE WHEN _keys IS NOT NULL AND len(list_distinct(_keys)) = len(_keys)
                    THEN {undeclared} END AS _extra_record,
                {values}
            FROM (
                SELECT *, json_extract_string(_object, {paths}) AS _values,
                    CASE WHEN _keys IS NOT NULL
                        THEN json_transform(_object, '"MAP(VARCHAR, VARCHAR)"') END AS _record
                FROM (
                    SELECT *, CASE WHEN NOT {exact} THEN _all_keys END AS _keys
                    FROM (
                        SELECT _row_number, _raw_line, _line_flag, NOT _is_object AS _no_record,
                            _object, json_keys(_object) AS _all_keys
                        FROM (
                            SELECT *, CASE WHEN _is_object THEN _raw_line END AS _object
                            FROM (SELECT *, {is_object} AS _is_object FROM lines)
                        )
                    )
                )
            )"""
        reason = literal(MALFORMED_JSON)
        detail = "'line is not a JSON object'"
    first_field = _blank_to_null(ident("r__" + names[0]))
    is_blank = (
        f"(_no_record OR {first_field} IS NULL) AND regexp_full_match(_raw_line, {literal(_BLANK)})"
    )
    cases = [
        (f"_line_flag = {literal(TRUNCATED)}", literal(TRUNCATED), literal(TRUNCATED_DETAIL)),
        (f"_line_flag = {literal(MULTILINE)}", literal(MULTILINE), literal(MULTILINE_DETAIL)),
        (is_blank, reason, "'blank line'"),
        ("_unparsable", reason, detail),
        ("_repeated", reason, literal(REPEATED_KEY_DETAIL)),
    ]
    extra_keys = f"list_distinct(list_filter(_keys, lambda k: NOT list_contains({registry}, k)))"
    absent_keys = f"list_filter({registry}, lambda k: NOT list_contains(_keys, k))"
    fields = ", ".join(
        f"CASE WHEN _malformed_reason IS NULL THEN {_blank_to_null(ident('r__' + n))} END "
        f"AS {text_ref(n)}"
        for n in names
    )
    extra = (
        f", CASE WHEN _malformed_reason IS NULL AND cardinality(_extra_record) > 0 "
        f"THEN _extra_record END AS {EXTRA_FIELDS}"
        if source.format != "csv"
        else ""
    )
    return f"""
        SELECT _row_number, _raw_line, _malformed_reason, _malformed_detail, {fields},
            CASE WHEN len({extra_keys}) > 0 THEN {extra_keys} END AS _extra_keys,
            CASE WHEN len({absent_keys}) > 0 THEN {absent_keys} END AS _absent_keys
            {extra}
        FROM (
            SELECT *,
                {first_failure_sql(cases)} AS _malformed_reason,
                {first_failure_sql(cases, detail=True)} AS _malformed_detail
            FROM ({inner})
        )"""


def _typed_sql(source: Source, as_of_date: dt.date) -> str:
    """Typed values, personal-identifier flags and (customers) the national-ID facts."""
    parts = [
        f"{parts_sql(text_ref(c.name), c.type)} AS {ident('m__' + c.name)}"
        for c in source.columns
        if not c.tokenised and parts_sql(text_ref(c.name), c.type)
    ]
    typed = [
        f"{cast_sql(text_ref(c.name), c.type, ident('m__' + c.name))} AS {typed_ref(c.name)}"
        for c in source.columns
        if not c.tokenised
    ]
    typed += [
        f"{looks_personal_sql(c)} AS {personal_ref(c.name)}" for c in screened_columns(source)
    ]
    facts = national_id_facts_sql() if source.name == "customers" else []
    birth = (
        [
            f"coalesce(_id_birth_date BETWEEN DATE '{EARLIEST_BIRTH_DATE}' AND _as_of_date, false)"
            " AS _id_birth_possible"
        ]
        if facts
        else []
    )
    return f"""
        SELECT *, {", ".join([*typed, *birth])}
        FROM (
            SELECT *, DATE '{as_of_date.isoformat()}' AS _as_of_date
                {"".join(", " + item for item in [*parts, *facts])}
            FROM parsed
        )"""


def _checked_sql(source: Source, pii_key: bytes) -> str:
    """The first failing check, tokens, derived columns and the quarantine record's JSON."""
    checks = validation_checks_sql(source, extra_fields=source.format != "csv")
    screened = {c.name for c in screened_columns(source)}

    def shown(name: str) -> str:
        hidden = (
            personal_ref(name)
            if name in screened
            else f"regexp_matches({text_ref(name)}, {literal(LONG_DIGITS)})"
        )
        return f"CASE WHEN {hidden} THEN {literal(REDACTED)} ELSE {text_ref(name)} END"

    record = ", ".join(
        f"{literal(c.bronze_name if c.tokenised else c.name)}, "
        + (ident(c.bronze_name) if c.tokenised else shown(c.name))
        for c in source.columns
    )
    tokens = [
        f"{hmac_sha256_sql(text_ref(c.name), pii_key)} AS {ident(c.bronze_name)}"
        for c in source.pii_columns
    ]
    derived = []
    if source.name == "customers":
        id_ok = "(_id_well_formed AND _id_check_ok AND _id_birth_possible)"
        sex_digit = f"TRY_CAST(substring({text_ref('national_id')}, 17, 1) AS INTEGER)"
        derived = [
            f"CASE WHEN {id_ok} THEN _id_birth_date END AS birth_date",
            f"CASE WHEN {id_ok} THEN (CASE WHEN {sex_digit} % 2 = 1 THEN 'M' ELSE 'F' END) END"
            " AS sex",
        ]
    return f"""
        SELECT *,
            CASE WHEN _check_reason IS NOT NULL AND _malformed_reason IS NULL
                THEN json_object({record})::VARCHAR END AS _record_json
        FROM (
            SELECT *, {first_failure_sql(checks)} AS _check_reason,
                {first_failure_sql(checks, detail=True)} AS _check_detail,
                {text_ref(source.key)} AS _key,
                _malformed_reason IS NULL AS _is_record
                {"".join(", " + item for item in [*tokens, *derived])}
            FROM typed
        )"""


def _value_columns(source: Source) -> list[tuple[str, str]]:
    """(bronze name, the validated frame's column) of the registry and derived columns."""
    values = [
        (c.bronze_name, ident(c.bronze_name) if c.tokenised else typed_ref(c.name))
        for c in source.columns
    ]
    if source.name == "customers":
        values += [(c.name, c.name) for c in CUSTOMER_DERIVED_COLUMNS]
    return values


def _outcome_sql(source: Source) -> str:
    """:func:`spark_jobs.transforms.transform_find_duplicates` and ``transform_deduplicate``."""
    key = source.column(source.key)
    shown_key = "''" if key.tokenised else quoted_sql("_key")
    clash_detail = (
        f"{literal(source.key + ' ')} || {shown_key} || ' was first loaded from row ' || "
        "CAST(_first_valid_row AS VARCHAR)"
    )
    types = {c.bronze_name: c.type for c in source.columns}
    typed_record = ", ".join(
        f"{literal(name)}, {as_text_sql(ref, 'string' if name.endswith('_token') else types[name])}"
        for name, ref in _value_columns(source)
        if name in types
    )
    raw_line = "NULL::VARCHAR" if source.pii_columns else "_raw_line"
    return f"""
        SELECT *,
            CASE WHEN _is_copy THEN 'duplicate'
                WHEN _is_clash OR _check_reason IS NOT NULL THEN 'quarantine'
                ELSE 'bronze' END AS _outcome,
            CASE WHEN _is_clash THEN {literal(DUPLICATE_KEY)} ELSE _check_reason END AS _reason,
            CASE WHEN _is_clash THEN {clash_detail} ELSE _check_detail END AS _reason_detail,
            CASE WHEN _is_clash THEN json_object({typed_record})::VARCHAR
                ELSE _record_json END AS _quarantine_json,
            CASE WHEN NOT regexp_matches(_raw_line, {literal(LONG_DIGITS)}) THEN {raw_line} END
                AS _shown_line
        FROM (
            SELECT checked.*, coalesce(_is_copy, false) AS _is_copy, _first_valid_row,
                NOT coalesce(_is_copy, false) AND _check_reason IS NULL
                    AND coalesce(checked._row_number > _first_valid_row, false) AS _is_clash
            FROM checked LEFT JOIN repeated_keys USING (_row_number)
        )"""


def _repeated_keys_sql() -> str:
    """Exact copies and the first valid row of every key that more than one row has (the rare
    rows :func:`spark_jobs.transforms.transform_find_duplicates` looks at); a key seen once is
    neither a copy nor a clash, so no window runs over the whole file."""
    return """
        SELECT _row_number,
            _is_record AND _row_number > min(_row_number)
                OVER (PARTITION BY _key, _raw_line) AS _is_copy,
            min(CASE WHEN _check_reason IS NULL THEN _row_number END)
                OVER (PARTITION BY _key) AS _first_valid_row
        FROM checked SEMI JOIN (
            SELECT _key FROM checked GROUP BY _key HAVING count(*) > 1
        ) AS seen_twice ON checked._key IS NOT DISTINCT FROM seen_twice._key"""


def _utc(moment: dt.datetime) -> str:
    """A moment as naive UTC text (timestamps are UTC without a zone until the Arrow cast)."""
    return moment.astimezone(dt.UTC).replace(tzinfo=None).isoformat(sep=" ")


def _output_sql(source: Source, batch: Batch) -> dict[str, str]:
    lineage = {
        "_source_file": literal(batch.source_file),
        "_row_number": "_row_number",
        "_batch_id": literal(batch.batch_id),
        "_ingested_at": f"TIMESTAMP '{_utc(batch.ingested_at)}'",
    }
    values = dict(_value_columns(source))
    bronze = [
        f"{lineage.get(c.name, values.get(c.bronze_name, ident(c.name)))} AS {ident(c.name)}"
        for c in bronze_columns(source)
    ]
    if source.format != "csv":
        bronze.append(EXTRA_FIELDS)
    quarantine = {
        "source": literal(source.name),
        "source_file": literal(batch.source_file),
        "row_number": "_row_number",
        "reason": "_reason",
        "reason_detail": "_reason_detail",
        "record_json": "_quarantine_json",
        "raw_line": "_shown_line",
    }
    census = ", ".join(KEY_CENSUS_COLUMNS)
    return {
        "bronze": f"SELECT {', '.join(bronze)} FROM outcomes WHERE _outcome = 'bronze'",
        "quarantine": "SELECT "
        + ", ".join(f"{sql} AS {QUARANTINE_PREFIX}{name}" for name, sql in quarantine.items())
        + " FROM outcomes WHERE _outcome = 'quarantine'",
        "keys": f"SELECT {census} FROM outcomes "
        "WHERE _extra_keys IS NOT NULL OR _absent_keys IS NOT NULL",
    }


def _write(con: duckdb.DuckDBPyConnection, sql: str, schema: pa.Schema, path: Path) -> None:
    """Query → Parquet in bounded batches, cast to the schema the Spark engine would write."""
    import pyarrow.parquet as pq

    path.parent.mkdir(parents=True, exist_ok=True)
    with con.sql(sql).to_arrow_reader(BATCH_ROWS) as reader, pq.ParquetWriter(path, schema) as out:
        for batch in reader:
            out.write_batch(batch.rename_columns(schema.names).cast(schema))


def _connect(scratch: Path, memory_limit: str) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB bounded to ``memory_limit`` that spills to ``scratch``, on every core;
    insertion order is kept (the lines are numbered in file order)."""
    import duckdb

    spill = scratch / "_duckdb_spill"
    spill.mkdir(parents=True, exist_ok=True)
    return duckdb.connect(
        config={
            "memory_limit": memory_limit,
            "threads": os.cpu_count() or 1,
            "temp_directory": str(spill),
            "preserve_insertion_order": True,
        }
    )


def transform_to_scratch(
    delivery: Delivery,
    as_of_date: dt.date,
    batch: Batch,
    pii_key: bytes,
    scratch: Path,
    memory_limit: str = "2GB",
) -> ScratchOutput:
    """The Spark transform's seam on DuckDB: scratch Parquet for ``bronze``, ``quarantine`` and
    ``keys`` (the ``_q_`` prefix and the parts as :func:`spark_jobs.load.write_scratch` lays them
    out), their schemas and the count of exact copies dropped.

    DuckDB reads the file, parses, types and checks every line in one streaming pass into a
    Parquet file of checked rows (bounded by ``memory_limit``; DuckDB spills beyond it); the keys
    seen more than once are then settled from it, and the three outputs are read from it."""
    import pyarrow as pa

    source, scan = delivery.source, delivery.scan
    con = _connect(scratch, memory_limit)
    try:
        if scan.line_ending is None:
            con.register("raw", python_lines(delivery.path))
        else:
            con.execute(f"CREATE TEMP VIEW raw AS {lines_sql(delivery.path, scan.line_ending)}")
        con.register("marks", marks_table(scan.line_marks()))
        con.execute(f"CREATE TEMP VIEW records AS {records_sql(source)}")
        if source.format == "csv":
            con.register("odd", odd_csv_lines(con))
            con.execute(f"CREATE TEMP VIEW lines AS {csv_split_sql(source)}")
        else:
            con.execute("CREATE TEMP VIEW lines AS SELECT * FROM records")
        con.execute(f"CREATE TEMP VIEW parsed AS {_parsed_sql(source)}")
        con.execute(f"CREATE TEMP VIEW typed AS {_typed_sql(source, as_of_date)}")
        con.execute(f"CREATE TEMP VIEW checking AS {_checked_sql(source, pii_key)}")
        checked_path = scratch / "_checked.parquet"
        parts = [ident("m__" + c.name) for c in source.columns if parts_sql("x", c.type)]
        kept = f"* EXCLUDE ({', '.join(parts)})" if parts else "*"
        con.execute(
            f"COPY (SELECT {kept} FROM checking) TO {literal(str(checked_path))} "
            f"(FORMAT parquet, ROW_GROUP_SIZE {BATCH_ROWS})"
        )
        con.execute(f"CREATE TEMP VIEW checked AS SELECT * FROM {literal(str(checked_path))}")
        con.execute(f"CREATE TEMP TABLE repeated_keys AS {_repeated_keys_sql()}")
        con.execute(f"CREATE TEMP VIEW outcomes AS {_outcome_sql(source)}")
        copies = con.execute("SELECT count(*) FROM repeated_keys WHERE _is_copy").fetchall()[0][0]
        schemas = {
            "bronze": bronze_schema(source),
            "quarantine": pa.schema(
                [f.with_name(QUARANTINE_PREFIX + f.name) for f in quarantine_schema()]
            ),
            "keys": pa.schema(
                [pa.field(name, pa.list_(pa.string())) for name in KEY_CENSUS_COLUMNS]
            ),
        }
        files = {}
        for part, sql in _output_sql(source, batch).items():
            path = scratch / f"_scratch_part={part}" / "part-0.parquet"
            _write(con, sql, schemas[part], path)
            files[part] = [str(path)]
    finally:
        con.close()
    shutil.rmtree(scratch / "_duckdb_spill", ignore_errors=True)
    (scratch / "_checked.parquet").unlink(missing_ok=True)
    return ScratchOutput(files, schemas["bronze"], quarantine_schema(), copies)
