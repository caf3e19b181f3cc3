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

The lake's own Iceberg snapshot ids are random 64-bit numbers: about one in ten of those with 16
or more digits passes the Luhn check. They are read from the catalog and ignored by value (an
exact allow-list, not a pattern), wherever they appear: table metadata, the ledger, MLflow tags.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from creditlake.pii import is_valid_national_id, luhn_valid
from creditlake.settings import Settings

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

    def __str__(self) -> str:
        return f"{self.kind} in {self.where}: {self.value_hint}"


def _mask(value: str) -> str:
    return value[:3] + "*" * max(len(value) - 5, 0) + value[-2:]


#: Exact values known not to be personal (the lake's snapshot ids), set by :func:`scan_platform`.
_IGNORED: set[str] = set()


def scan_text(text: str, where: str, known: frozenset[str] = frozenset()) -> list[Finding]:
    """Findings in one string (patterns with validation, then exact known values)."""
    findings = []
    for kind, pattern in _COMPILED.items():
        for match in pattern.finditer(text):
            value = match.group(1)
            if value not in _IGNORED and _VALIDATORS[kind](value):
                findings.append(Finding(where, kind, _mask(value)))
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
        findings.extend(
            Finding(where, kind, _mask(v))
            for (v,) in candidates
            if v not in _IGNORED and _VALIDATORS[kind](v)
        )
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


def scan_files(roots: Iterable[Path], known: frozenset[str] = frozenset()) -> list[Finding]:
    """Text, images' metadata and binaries alike: every byte is read as text and searched."""
    findings: list[Finding] = []
    for root in roots:
        for path in _files(root):
            if path.suffix in {".parquet", ".duckdb", ".wal"}:
                continue
            if path.suffix in {".db", ".sqlite"}:
                findings += scan_sqlite_file(path, known)
                continue
            text = path.read_bytes().decode("utf-8", errors="replace")
            findings += scan_text(text, str(path), known)
    return findings


def lake_snapshot_ids(settings: Settings) -> set[str]:
    """Every snapshot id of every table in the lake's catalog, as text."""
    from creditlake.lake import NAMESPACES, Lake

    if not settings.lake_dir.exists() and settings.catalog_type == "sql":
        return set()
    catalog = Lake.from_settings(settings).catalog
    ids: set[str] = set()
    for namespace in NAMESPACES:
        if namespace not in {n[0] for n in catalog.list_namespaces()}:
            continue
        for identifier in catalog.list_tables(namespace):
            ids |= {str(s.snapshot_id) for s in catalog.load_table(identifier).snapshots()}
    return ids


def scan_platform(settings: Settings, known: Iterable[str] = ()) -> list[Finding]:
    """Everything downstream of landing: lake, warehouse, reports, GX, MLflow, Airflow."""
    known_set = frozenset(v for v in known if v)
    _IGNORED.clear()
    _IGNORED.update(lake_snapshot_ids(settings))
    findings = scan_parquet_tables(settings.lake_dir, known_set)
    # The lake's catalog, table metadata and manifests (column bounds are values too).
    findings += scan_files([settings.lake_dir], known_set)
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
    )
    return findings
