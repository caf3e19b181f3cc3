"""Scan everything downstream of the landing zone for raw personal identifiers.

The rule "no raw national ID, phone, card number or name passes landing" is checked, not assumed:
every bronze and quarantine table, every warehouse table, every report, log, Airflow and MLflow
store and artifact is searched for

- resident ID numbers: 18 characters with a valid GB 11643 check character,
- mobile numbers: ``1[3-9]`` followed by nine digits,
- bank card numbers: 16–19 digits passing the Luhn check,

each standing alone (not inside a longer run of letters or digits, so a hex token or a timestamp
does not count), plus, when given, exact raw values known to be personal (the test suite passes
the names and numbers it generated).
"""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

from creditlake.pii import is_valid_national_id, luhn_valid
from creditlake.settings import Settings
from expectations.offline_docs import is_vendored_copy

# A "." on the left means decimals of a float, not a standalone number.
_EDGE_L = r"(?:^|[^0-9A-Za-z.])"
_EDGE_R = r"(?:[^0-9A-Za-z]|$)"
PATTERNS: dict[str, str] = {
    "national_id": _EDGE_L + r"([0-9]{17}[0-9Xx])" + _EDGE_R,
    "mobile": _EDGE_L + r"(1[3-9][0-9]{9})" + _EDGE_R,
    "bank_card": _EDGE_L + r"([0-9]{16,19})" + _EDGE_R,
}
_VALIDATORS = {
    "national_id": lambda v: is_valid_national_id(v.upper()),
    "mobile": lambda v: True,
    "bank_card": luhn_valid,
}
_COMPILED = {
    kind: re.compile(p.replace(_EDGE_L, r"(?<![0-9A-Za-z.])").replace(_EDGE_R, r"(?![0-9A-Za-z])"))
    for kind, p in PATTERNS.items()
}
TEXT_SUFFIXES = {
    ".json",
    ".html",
    ".md",
    ".csv",
    ".txt",
    ".log",
    ".yaml",
    ".yml",
    ".py",
    ".mlmodel",
    ".js",
    ".xml",
    "",
}


@dataclass(frozen=True)
class Finding:
    where: str
    kind: str
    value_hint: str  # masked: the finding itself must not leak the identifier
    #: A digest of the value found, to recognise numbers the lake minted (see :func:`lake_ids`).
    value_digest: str = field(default="", repr=False, compare=False)

    def __str__(self) -> str:
        return f"{self.kind} in {self.where}: {self.value_hint}"


def _mask(value: str) -> str:
    return value[:3] + "*" * max(len(value) - 5, 0) + value[-2:]


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def _found(where: str, kind: str, value: str) -> Finding:
    return Finding(where, kind, _mask(value), _digest(value))


def scan_text(text: str, where: str, known: frozenset[str] = frozenset()) -> list[Finding]:
    """Findings in one string (patterns with validation, then exact known values)."""
    findings = []
    for kind, pattern in _COMPILED.items():
        for match in pattern.finditer(text):
            value = match.group(1)
            if _VALIDATORS[kind](value):
                findings.append(_found(where, kind, value))
    findings.extend(Finding(where, "known_value", _mask(v)) for v in known if v in text)
    return findings


def _duckdb_relation_findings(
    con, relation: str, where: str, known: frozenset[str]
) -> list[Finding]:
    """Let DuckDB find candidate matches in a whole table; only candidates come back to Python."""
    columns = [row[0] for row in con.execute(f"describe select * from {relation}").fetchall()]
    if not columns:
        return []
    row_text = "concat_ws(' | ', " + ", ".join(f'cast("{c}" as varchar)' for c in columns) + ")"
    findings: list[Finding] = []
    digit_candidates: set[str] = set()
    for kind, pattern in PATTERNS.items():
        candidates = con.execute(
            f"select distinct unnest(regexp_extract_all({row_text}, ?, 1)) from {relation} "
            f"where regexp_matches({row_text}, ?)",
            [pattern, pattern],
        ).fetchall()
        digit_candidates.update(v for (v,) in candidates)
        findings.extend(_found(where, kind, v) for (v,) in candidates if _VALIDATORS[kind](v))
    if known:
        # Known numbers are among the digit candidates; names are inside runs of non-ASCII text
        # (few distinct ones: cities, merchants), so both checks stay cheap on big tables.
        runs = [
            v
            for (v,) in con.execute(
                f"select distinct unnest(regexp_extract_all({row_text}, '[^\\x01-\\x7f]+')) "
                f"from {relation}"
            ).fetchall()
        ]
        hits = {v for v in known if v in digit_candidates}
        hits |= {v for v in known if not v.isascii() and any(v in run for run in runs)}
        findings.extend(Finding(where, "known_value", _mask(v)) for v in sorted(hits))
    return findings


def scan_parquet_tables(root: Path, known: frozenset[str] = frozenset()) -> list[Finding]:
    """Every Parquet dataset under ``root`` (one per folder holding partitions).

    Every file on disk is read, including those of rejected stages and replaced snapshots: a
    personal value must not be anywhere in the lake, published or not.
    """
    import duckdb

    findings: list[Finding] = []
    con = duckdb.connect()
    tables = sorted(
        {
            p.parent.parent if p.parent.name.startswith("ingest_date=") else p.parent
            for p in root.rglob("*.parquet")
            if not any(part.startswith(("_", ".")) for part in p.relative_to(root).parts)
        }
    )
    for table in tables:
        relation = (
            f"read_parquet('{table}/**/*.parquet', hive_partitioning = true, union_by_name = true)"
        )
        findings += _duckdb_relation_findings(con, relation, str(table), known)
    return findings


def scan_duckdb_file(path: Path, known: frozenset[str] = frozenset()) -> list[Finding]:
    import duckdb

    findings: list[Finding] = []
    con = duckdb.connect(str(path), read_only=True)
    try:
        relations = con.execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_schema not in ('information_schema', 'pg_catalog')"
        ).fetchall()
        for schema, name in relations:
            findings += _duckdb_relation_findings(
                con, f'"{schema}"."{name}"', f"{path}:{schema}.{name}", known
            )
    finally:
        con.close()
    return findings


def scan_sqlite_file(path: Path, known: frozenset[str] = frozenset()) -> list[Finding]:
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return scan_text("\n".join(con.iterdump()), str(path), known)
    finally:
        con.close()


def _files(root: Path) -> Iterator[Path]:
    if root.is_file():
        yield root
    elif root.is_dir():
        yield from (p for p in root.rglob("*") if p.is_file())


def scan_files(
    roots: Iterable[Path],
    known: frozenset[str] = frozenset(),
    third_party: Callable[[Path], bool] = lambda path: False,
) -> list[Finding]:
    """Text, images' metadata and binaries alike: every byte is read as text and searched.

    ``third_party`` says which files are verified copies of installed third-party files (the
    Data Docs' fonts and scripts, :func:`expectations.offline_docs.is_vendored_copy`): skipped.
    """
    findings: list[Finding] = []
    for root in roots:
        for path in _files(root):
            if path.suffix in {".parquet", ".duckdb", ".wal"} or third_party(path):
                continue
            if path.suffix in {".db", ".sqlite"}:
                findings += scan_sqlite_file(path, known)
                continue
            text = path.read_bytes().decode("utf-8", errors="replace")
            findings += scan_text(text, str(path), known)
    return findings


def scan_lake(settings: Settings, known: frozenset[str] = frozenset()) -> list[Finding]:
    """The lake's tables, table metadata and manifests (column bounds are values too), and its
    catalog.

    A local lake is scanned where it lies. A lake in S3 (``CREDITLAKE_CATALOG_WAREHOUSE=s3://...``)
    is copied, every object under the warehouse prefix and under each table's location, to a
    temporary folder under the local scratch space and scanned there (DuckDB here has no S3
    reader), one prefix at a time; findings name the S3 object. With the Glue catalog, its table
    definitions for the lake's databases are scanned too; a catalog in PostgreSQL is not scanned
    (it holds only table names and metadata locations). The lake's own snapshot ids are not
    findings (:func:`lake_ids`).
    """
    findings, minted = _scan_lake_unfiltered(settings, known)
    return without_lake_ids(findings, minted)


def _scan_lake_unfiltered(
    settings: Settings, known: frozenset[str]
) -> tuple[list[Finding], frozenset[str]]:
    """:func:`scan_lake`'s findings before the lake's own ids are taken out, and those ids (with
    those named by the metadata of a lake in S3, read from the copy scanned)."""
    import tempfile

    from creditlake import objectstore

    findings = scan_parquet_tables(settings.lake_dir, known)
    findings += scan_files([settings.lake_dir], known)
    minted = set(lake_ids(settings))
    for prefix in _s3_prefixes(settings):
        settings.staging_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix="pii-scan-", dir=settings.staging_dir) as folder:
            objectstore.download_prefix(settings, prefix, Path(folder))
            copied = scan_parquet_tables(Path(folder), known) + scan_files([Path(folder)], known)
            minted |= metadata_ids(Path(folder))
        findings += [replace(f, where=f.where.replace(folder, prefix, 1)) for f in copied]
    if settings.catalog_type == "glue":
        findings += scan_glue_tables(settings, known)
    return findings, frozenset(minted)


def lake_ids(settings: Settings) -> frozenset[str]:
    """Digests of the snapshot ids of the lake's tables.

    Iceberg snapshot ids are random 63-bit numbers, mostly 19 digits long: one in ten passes the
    Luhn check of a card number, and an 18-digit one has its national-ID check character one time
    in eleven. They appear in table metadata, manifests, the ledger and the orchestrator's records
    of what was staged. They are numbers the lake minted, not personal data.
    """
    from creditlake.catalog import catalog_exists
    from creditlake.lake import NAMESPACES, Lake

    # expired snapshots (creditlake.maintenance) live on in the metadata files written before
    ids: set[str] = metadata_ids(settings.lake_dir)
    if not catalog_exists(settings):
        return frozenset(ids)
    catalog = Lake.from_settings(settings).catalog
    for namespace in NAMESPACES:
        if catalog.namespace_exists(namespace):
            for identifier in catalog.list_tables(namespace):
                snapshots = catalog.load_table(identifier).metadata.snapshots
                ids |= {_digest(str(snapshot.snapshot_id)) for snapshot in snapshots}
    return frozenset(ids)


def metadata_ids(folder: Path) -> set[str]:
    """Digests of every snapshot id in the Iceberg table metadata files under ``folder``: the
    ids the lake minted, including those of snapshots expired since, which the metadata, the
    manifest lists and the records written before still name."""
    ids: set[str] = set()
    for path in folder.rglob("*.metadata.json") if folder.is_dir() else ():
        try:
            metadata = json.loads(path.read_text())
        except (OSError, ValueError):
            continue  # not a metadata file after all; scan_files still reads its text
        snapshots = metadata.get("snapshots", []) + metadata.get("snapshot-log", [])
        for entry in snapshots + list(metadata.get("refs", {}).values()):
            for key in ("snapshot-id", "parent-snapshot-id"):
                if entry.get(key) is not None:
                    ids.add(_digest(str(entry[key])))
    return ids


def without_lake_ids(findings: list[Finding], ids: frozenset[str]) -> list[Finding]:
    """The findings that are not one of the lake's own snapshot ids (read as a card number or a
    national ID: the match is the whole id)."""
    return [f for f in findings if f.value_digest not in ids]


def _s3_prefixes(settings: Settings) -> list[str]:
    """The S3 prefixes holding the lake: the warehouse, and every table's own location (a
    database with a location, as infra/terraform provisions them, puts its tables there)."""
    from creditlake import objectstore
    from creditlake.catalog import catalog_exists
    from creditlake.lake import NAMESPACES, Lake

    prefixes = {settings.catalog_warehouse.rstrip("/")}
    if catalog_exists(settings):
        catalog = Lake.from_settings(settings).catalog
        for namespace in NAMESPACES:
            if catalog.namespace_exists(namespace):
                for identifier in catalog.list_tables(namespace):
                    prefixes.add(catalog.load_table(identifier).location().rstrip("/"))
    s3 = sorted(p for p in prefixes if objectstore.is_s3(p))
    return [p for p in s3 if not any(p.startswith(f"{other}/") for other in s3)]


def scan_glue_tables(settings: Settings, known: frozenset[str] = frozenset()) -> list[Finding]:
    """The Glue definitions (columns, parameters) of the tables in the lake's databases."""
    import json

    import boto3

    from creditlake.lake import NAMESPACES

    glue = boto3.client(
        "glue", endpoint_url=settings.s3_endpoint_url, region_name=settings.catalog_region
    )
    findings: list[Finding] = []
    for database in NAMESPACES:
        try:
            pages = glue.get_paginator("get_tables").paginate(DatabaseName=database)
            tables = [table for page in pages for table in page["TableList"]]
        except glue.exceptions.EntityNotFoundException:
            continue
        text = json.dumps(tables, default=str, ensure_ascii=False)
        findings += scan_text(text, f"glue:{settings.catalog_region}/{database}", known)
    return findings


def scan_platform(settings: Settings, known: Iterable[str] = ()) -> list[Finding]:
    """Everything downstream of landing: lake, warehouse, reports, GX, MLflow, Airflow."""
    known_set = frozenset(v for v in known if v)
    findings, minted = _scan_lake_unfiltered(settings, known_set)
    if settings.warehouse_path.is_file():
        findings += scan_duckdb_file(settings.warehouse_path, known_set)
    findings += scan_files(
        [
            settings.reports_dir,
            settings.gx_dir,
            settings.home / "mlflow",
            settings.airflow_home,
            settings.warehouse_path.parent,
        ],
        known_set,
        lambda path: is_vendored_copy(path, settings),
    )
    return without_lake_ids(findings, minted)
