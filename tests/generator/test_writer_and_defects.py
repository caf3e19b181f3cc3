"""Line formatting, defect editing and line numbering, on a few inline rows."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from creditlake.sources import Column, Source
from generator import defects as dfx
from generator.writer import format_lines, scaled_to_text, write_file

CSV_SOURCE = Source(
    name="things",
    domain="test",
    format="csv",
    key="thing_id",
    description="",
    columns=(
        Column("thing_id", "string", required=True),
        Column("label", "string", pii="C2"),
        Column("made_at", "timestamp", required=True),
        Column("made_on", "date"),
        Column("amount_cny", "decimal(12,2)", required=True, positive=True),
        Column("rate", "decimal(6,4)"),
        Column("count", "int", required=True),
        Column("latitude", "double"),
    ),
)
JSON_SOURCE = Source(**{**CSV_SOURCE.__dict__, "format": "jsonl"})


def _frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "thing_id": ["T1", "T2", "T3"],
            "label": ['say "hi", ok', None, "王伟"],
            "made_at": [0, 1_767_225_599, 86_400 + 3_661],
            "made_on": [0, 20_454, 1],
            "amount_cny": [12_345, 5, 100],
            "rate": pd.array([2373, None, 0], dtype="Int64"),
            "count": [3, 0, -1],
            "latitude": [30.5, np.nan, -0.000001],
        }
    )


@pytest.mark.parametrize(
    ("value", "scale", "text"),
    [(12345, 2, "123.45"), (5, 2, "0.05"), (-250, 2, "-2.50"), (2373, 4, "0.2373"), (7, 0, "7")],
)
def test_scaled_to_text(value: int, scale: int, text: str) -> None:
    assert scaled_to_text(np.array([value]), scale).tolist() == [text]


def test_csv_lines_parse_back_with_the_csv_module() -> None:
    lines = format_lines(_frame(), CSV_SOURCE).to_pylist()
    rows = list(csv.reader(io.StringIO("".join(lines))))
    assert rows == [
        [
            "T1",
            'say "hi", ok',
            "1970-01-01 00:00:00",
            "1970-01-01",
            "123.45",
            "0.2373",
            "3",
            "30.5",
        ],
        ["T2", "", "2025-12-31 23:59:59", "2026-01-01", "0.05", "", "0", ""],
        ["T3", "王伟", "1970-01-02 01:01:01", "1970-01-02", "1.00", "0.0000", "-1", "-0.000001"],
    ]


def test_json_lines_parse_back_with_the_json_module() -> None:
    lines = format_lines(_frame(), JSON_SOURCE).to_pylist()
    records = [json.loads(line) for line in lines]
    assert [list(r) for r in records] == [JSON_SOURCE.column_names] * 3
    assert records[0]["label"] == 'say "hi", ok'
    assert records[1]["label"] is None and records[1]["rate"] is None
    assert records[1]["latitude"] is None
    assert records[0]["amount_cny"] == 123.45 and records[0]["made_at"] == "1970-01-01 00:00:00"
    assert '"label":"王伟"' in lines[2]


def test_categorical_columns_format_like_plain_ones() -> None:
    plain = _frame()
    coded = plain.copy()
    coded["thing_id"] = pd.Categorical(plain["thing_id"])
    coded["label"] = pd.Categorical(plain["label"])
    for source in (CSV_SOURCE, JSON_SOURCE):
        assert format_lines(coded, source).to_pylist() == format_lines(plain, source).to_pylist()


def test_write_file_splices_edits_and_duplicates(tmp_path: Path) -> None:
    frame = pd.concat([_frame()] * 4, ignore_index=True)  # 12 rows
    frame["thing_id"] = [f"T{i}" for i in range(12)]
    clean = format_lines(frame, CSV_SOURCE).to_pylist()
    plan = dfx.FilePlan(
        edits=[dfx.LineDefect(4, dfx.MISSING_REQUIRED, "count")],
        duplicates=[(1, 1), (2, 6), (0, 6)],
    )
    plan.duplicates.sort()
    rng = np.random.default_rng(0)
    replacements = {4: dfx.apply_edit(clean[4], plan.edits[0], CSV_SOURCE, rng)}
    insertions: dict[int, list[str]] = {}
    for row, after in plan.duplicates:
        insertions.setdefault(after, []).append(clean[row])
    path = tmp_path / "things.csv"
    written = write_file(path, frame, CSV_SOURCE, replacements, insertions)
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)[1:]
    assert written == len(lines) == 15
    row_line, duplicate_lines = dfx.final_line_numbers(12, plan)
    for row in range(12):
        expected = replacements.get(row, clean[row])
        assert lines[row_line[row] - 1] == expected
    for (row, _), line in zip(plan.duplicates, duplicate_lines, strict=True):
        assert lines[line - 1] == clean[row]
    assert row_line.tolist() == [1, 2, 4, 5, 6, 7, 8, 11, 12, 13, 14, 15]
    assert duplicate_lines == [9, 3, 10]  # plan order: (0, 6), (1, 1), (2, 6)
    assert next(csv.reader([lines[5]]))[6] == ""


def test_chunked_writing_gives_the_same_bytes(tmp_path: Path, monkeypatch) -> None:
    import generator.writer as writer

    frame = pd.concat([_frame()] * 7, ignore_index=True)
    write_file(tmp_path / "one.jsonl", frame, JSON_SOURCE, {5: "X\n"}, {20: ["Y\n"]})
    monkeypatch.setattr(writer, "CHUNK_ROWS", 4)
    write_file(tmp_path / "many.jsonl", frame, JSON_SOURCE, {5: "X\n"}, {20: ["Y\n"]})
    assert (tmp_path / "one.jsonl").read_bytes() == (tmp_path / "many.jsonl").read_bytes()


@pytest.mark.parametrize(
    ("kind", "column", "value", "check"),
    [
        (dfx.MISSING_REQUIRED, "count", None, lambda r: r["count"] is None),
        (dfx.WRONG_TYPE, "amount_cny", "abc", lambda r: r["amount_cny"] == "abc"),
        (dfx.NEGATIVE_AMOUNT, "amount_cny", None, lambda r: r["amount_cny"] == -123.45),
        (dfx.WRONG_TYPE, "made_at", "not a date", lambda r: r["made_at"] == "not a date"),
    ],
)
def test_json_edits_touch_only_their_field(kind, column, value, check) -> None:
    line = format_lines(_frame(), JSON_SOURCE).to_pylist()[0]
    edited = dfx.apply_edit(line, dfx.LineDefect(0, kind, column, value), JSON_SOURCE, None)
    before, after = json.loads(line), json.loads(edited)
    assert check(after)
    assert {k: v for k, v in after.items() if k != column} == {
        k: v for k, v in before.items() if k != column
    }


def test_malformed_json_never_cuts_a_personal_value() -> None:
    line = format_lines(_frame(), JSON_SOURCE).to_pylist()[2]
    rng = np.random.default_rng(0)
    for _ in range(200):
        cut = dfx.apply_edit(line, dfx.LineDefect(0, dfx.MALFORMED_JSON), JSON_SOURCE, rng)
        with pytest.raises(json.JSONDecodeError):
            json.loads(cut)
        assert '"label":"王伟"' in cut  # the personal field stays whole
        assert line.startswith(cut.rstrip("\n"))


def test_allocate_guarantees_every_kind_once() -> None:
    rng = np.random.default_rng(0)
    kinds = dfx.applicable_kinds(JSON_SOURCE)
    assert kinds == [
        dfx.DUPLICATE,
        dfx.MISSING_REQUIRED,
        dfx.MALFORMED_JSON,
        dfx.WRONG_TYPE,
        dfx.NEGATIVE_AMOUNT,
    ]
    plan = dfx.allocate({"2026-01-01": 900, "2026-01-02": 3, "2026-01-03": 0}, kinds, 0.001, rng)
    assert set(plan["2026-01-01"]) == set(kinds)
    assert plan["2026-01-03"] == []
    assert dfx.allocate({"d": 900}, kinds, 0.0, rng) == {"d": []}


def test_wrong_type_never_targets_personal_columns() -> None:
    assert "label" not in {c.name for c in dfx.wrong_type_columns(CSV_SOURCE)}
    assert {c.name for c in dfx.wrong_type_columns(CSV_SOURCE)} == {
        "made_at",
        "amount_cny",
        "count",
    }
