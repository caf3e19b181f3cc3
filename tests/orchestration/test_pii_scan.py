"""The PII scanner finds real identifiers and ignores look-alikes (tokens, timestamps, amounts)."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from creditlake.pii import tokenise
from orchestration.pii_scan import scan_duckdb_file, scan_files, scan_parquet_tables, scan_text

VALID_ID = "11010519491231002X"
PHONE = "13812345678"
CARD = "4111111111111111"


@pytest.mark.parametrize(
    ("text", "kinds"),
    [
        (f'{{"national_id": "{VALID_ID}"}}', {"national_id"}),
        (f"call {PHONE} now", {"mobile"}),
        (f"card={CARD};", {"bank_card"}),
        ("id 110105194912310021 has a wrong check digit", set()),
        ("card 4111111111111112 fails Luhn", set()),
        ("epoch ms 1767225600000 and amount 13800000.00", set()),
        (f"token {tokenise(PHONE, b'k' * 40)}", set()),
        (f"inside a hex run a{PHONE}b is not a standalone number", set()),
    ],
)
def test_scan_text(text: str, kinds: set[str]) -> None:
    assert {f.kind for f in scan_text(text, "t")} == kinds


def test_findings_never_print_the_identifier() -> None:
    (finding,) = scan_text(PHONE, "t")
    assert PHONE not in str(finding)


def test_known_values_are_found_verbatim() -> None:
    assert [f.kind for f in scan_text("客户 张三丰 申请", "t", frozenset({"张三丰"}))] == [
        "known_value"
    ]


def test_parquet_and_duckdb_tables_are_scanned(tmp_path: Path) -> None:
    con = duckdb.connect()
    table = tmp_path / "lake" / "bronze" / "customers" / "ingest_date=2026-01-01"
    table.mkdir(parents=True)
    con.execute(
        f"copy (select 'C1' as customer_id, '{PHONE}' as note, 12.5 as amount_cny) "
        f"to '{table / 'part-0.parquet'}' (format parquet)"
    )
    clean = tmp_path / "lake" / "bronze" / "loans" / "ingest_date=2026-01-01"
    clean.mkdir(parents=True)
    con.execute(f"copy (select 'L1' as loan_id) to '{clean / 'part-0.parquet'}' (format parquet)")
    findings = scan_parquet_tables(tmp_path / "lake")
    assert [(Path(f.where).name, f.kind) for f in findings] == [("customers", "mobile")]

    warehouse = tmp_path / "w.duckdb"
    with duckdb.connect(str(warehouse)) as db:
        db.execute("create schema marts")
        db.execute(f"create table marts.t as select '{CARD}' as c, '张三丰' as n")
    kinds = {f.kind for f in scan_duckdb_file(warehouse, frozenset({"张三丰"}))}
    assert kinds == {"bank_card", "known_value"}


def test_files_are_scanned_including_sqlite(tmp_path: Path) -> None:
    import sqlite3

    (tmp_path / "report.html").write_text(f"<td>{VALID_ID}</td>")
    with sqlite3.connect(tmp_path / "store.db") as db:
        db.execute("create table params (v text)")
        db.execute("insert into params values (?)", (PHONE,))
    assert sorted(f.kind for f in scan_files([tmp_path])) == ["mobile", "national_id"]


def test_the_lakes_own_snapshot_ids_are_not_findings() -> None:
    """An Iceberg snapshot id can pass the Luhn check or a national ID's check character; one the
    lake minted is not a finding, whichever it looks like."""
    import hashlib

    from orchestration.pii_scan import without_lake_ids

    id_like = "550102199001010013"  # 18 digits with a valid check character
    minted = frozenset(hashlib.sha256(v.encode()).hexdigest() for v in (CARD, id_like))
    text = f'{{"snapshot-id": {CARD}, "parent-snapshot-id": {id_like}, "note": "{PHONE}"}}'
    findings = scan_text(text, "t")
    assert sorted(f.kind for f in findings) == ["bank_card", "mobile", "national_id"]
    assert [f.kind for f in without_lake_ids(findings, minted)] == ["mobile"]


def test_snapshot_ids_in_old_metadata_files_are_the_lakes_own(tmp_path) -> None:
    """An expired snapshot (``creditlake.maintenance``) is no longer in the table's current
    metadata, but the metadata files written before still name it: its id is still minted."""
    import hashlib
    import json

    from orchestration.pii_scan import metadata_ids, without_lake_ids

    folder = tmp_path / "lake" / "bronze" / "loans" / "metadata"
    folder.mkdir(parents=True)
    old = {"snapshots": [{"snapshot-id": int(CARD), "parent-snapshot-id": None}], "refs": {}}
    (folder / "00001-a.metadata.json").write_text(json.dumps(old))
    ids = metadata_ids(tmp_path / "lake")
    assert hashlib.sha256(CARD.encode()).hexdigest() in ids
    findings = scan_text(f"manifest list of snapshot {CARD}", "snap-1.avro")
    assert without_lake_ids(findings, frozenset(ids)) == []
