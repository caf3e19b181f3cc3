"""End to end at tiny scale: the files honour the contract, defects are where the log says."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest
from generator_helpers import Run, data_lines, iter_files, read_csv, settings_for
from landing_validator import problems

from creditlake.sources import SOURCES, get_source
from generator import GeneratorConfig, GeneratorConfigError, deliver_late, generate
from generator.defects import applicable_kinds
from orchestration.pii_scan import scan_text

POLICY_BREACH = ("apr_above_cap", "apr")
# the date column each source's daily file is cut by (schedules travel with their loan)
DATE_COLUMN = {
    "customers": "registered_at",
    "applications": "applied_at",
    "loans": "disbursed_at",
    "repayments": "paid_at",
    "app_events": "event_at",
    "transactions": "transacted_at",
    "bureau_reports": "reported_at",
}


def _load(run: Run, source: str, include_late: bool = False) -> pd.DataFrame:
    """All clean records of a source across dates, with the delivery date they came in."""
    spec = get_source(source)
    frames = []
    for date in run.report.rows[source]:
        path = run.file(source, date)
        if not path.exists():
            if not include_late:
                continue
            path = run.settings.home / "late_deliveries" / source / date / spec.file_name
        lines = data_lines(path, spec.format == "csv")
        # structurally sound lines (an APR above the cap is a policy breach, not a bad line)
        clean = [line for line in lines if not problems(line, spec) - {POLICY_BREACH}]
        if spec.format == "csv":
            frame = pd.DataFrame(
                [next(csv.reader([line])) for line in clean],
                columns=spec.column_names,
                dtype=str,
            )
        else:
            frame = pd.DataFrame([json.loads(line) for line in clean], columns=spec.column_names)
        frame["delivery_date"] = date
        frames.append(frame)
    return pd.concat(frames, ignore_index=True).drop_duplicates()


def test_csv_headers_and_json_keys_follow_the_registry(defective_run: Run) -> None:
    seen = set()
    for source, _, path in iter_files(defective_run):
        spec = get_source(source)
        seen.add(source)
        if spec.format == "csv":
            header, _ = read_csv(path)
            assert header == spec.column_names, path
        else:
            for line in data_lines(path, has_header=False):
                if ("malformed_json", None) not in problems(line, spec):
                    assert list(json.loads(line)) == spec.column_names, path
    assert seen == set(SOURCES)


def test_defect_log_matches_what_an_independent_reader_finds(defective_run: Run) -> None:
    log = defective_run.defects
    assert set(log) == set(SOURCES) | {"late_files", "config"}
    for source in SOURCES:
        by_date = log[source]
        spec = get_source(source)
        assert list(by_date) == list(defective_run.report.rows[source])
        for date, entry in by_date.items():
            path = Path(entry.get("location") or _held(defective_run, source, date))
            lines = data_lines(path, spec.format == "csv")
            assert len(lines) == entry["data_lines"] == defective_run.report.rows[source][date]
            found: set[tuple[int, str]] = set()
            first_seen: dict[str, int] = {}
            duplicates: set[tuple[int, int]] = set()
            for number, line in enumerate(lines, start=1):
                if line in first_seen:
                    duplicates.add((number, first_seen[line]))
                    continue
                first_seen[line] = number
                found |= {(number, kind) for kind, _ in problems(line, spec)}
            logged = {(d["line_number"], d["kind"]) for d in entry["defects"]}
            assert found == {x for x in logged if x[1] != "duplicate_row"}, (source, date)
            assert duplicates == {
                (d["line_number"], d["duplicate_of"])
                for d in entry["defects"]
                if d["kind"] == "duplicate_row"
            }, (source, date)
            assert entry["duplicates"] == len(duplicates)
            assert entry["records"] == len(lines) - len(duplicates)


def _held(run: Run, source: str, date: str) -> Path:
    return run.settings.home / "late_deliveries" / source / date / get_source(source).file_name


def test_every_defect_kind_occurs_for_every_source_that_allows_it(defective_run: Run) -> None:
    for source in SOURCES:
        kinds = Counter(
            kind
            for by_kind in defective_run.report.defects[source].values()
            for kind, count in by_kind.items()
            for _ in range(count)
        )
        expected = set(applicable_kinds(get_source(source)))
        if source in ("applications", "loans"):
            expected.add("apr_above_cap")
        if source == "transactions":
            expected.add("late_file")
        assert expected <= set(kinds), source
    assert defective_run.report.late_files == [
        {
            "source": "transactions",
            "date": "2026-01-04",
            "held_at": str(_held(defective_run, "transactions", "2026-01-04")),
        }
    ]


def test_apr_breaches_are_consistent_between_application_loan_and_schedule(
    defective_run: Run,
) -> None:
    loans = _load(defective_run, "loans")
    apps = _load(defective_run, "applications").set_index("application_id")
    breached = loans[loans["apr"].astype(float) > 0.24]
    assert len(breached) >= 1
    for _, loan in breached.iterrows():
        assert apps.loc[loan["application_id"], "apr"] == loan["apr"]


def test_clean_run_has_no_defects(clean_run: Run) -> None:
    assert not clean_run.report.late_files
    for source, _, path in iter_files(clean_run):
        spec = get_source(source)
        lines = data_lines(path, spec.format == "csv")
        assert len(set(lines)) == len(lines), path
        assert all(not problems(line, spec) for line in lines), path
    assert all(
        not kinds for by_date in clean_run.report.defects.values() for kinds in by_date.values()
    )


@pytest.mark.parametrize("source", sorted(DATE_COLUMN))
def test_daily_files_hold_only_their_own_date(defective_run: Run, source: str) -> None:
    frame = _load(defective_run, source, include_late=True)
    stamp = pd.to_datetime(frame[DATE_COLUMN[source]]).dt.date
    delivered = pd.to_datetime(frame["delivery_date"]).dt.date
    extract = defective_run.config.extract_date
    assert (stamp[delivered == extract] <= extract).all()
    assert (stamp[delivered != extract] == delivered[delivered != extract]).all()
    assert (stamp >= defective_run.config.history_start).all()


def test_schedules_travel_with_their_loan(defective_run: Run) -> None:
    loans = _load(defective_run, "loans")[["loan_id", "delivery_date"]]
    schedules = _load(defective_run, "repayment_schedules")
    merged = schedules.merge(loans, on="loan_id", suffixes=("", "_loan"))
    assert len(merged) > 0.95 * len(schedules)
    assert (merged["delivery_date"] == merged["delivery_date_loan"]).all()


def test_generation_is_deterministic_and_reruns_replace_output(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = settings_for(tmp_path / "home", monkeypatch)
    config = GeneratorConfig(customers=120, behaviour_events=8_000, defect_rate=0.01, days=2)

    def digest() -> dict[str, str]:
        return {
            str(p.relative_to(settings.home)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(settings.home.rglob("*"))
            if p.is_file()
        }

    first = generate(config, settings, progress=lambda _: None)
    before = digest()
    stray = Path(settings.landing_uri) / "customers" / "2030-01-01" / "customers.csv"
    stray.parent.mkdir(parents=True)
    stray.write_text("left over from an earlier run\n")
    second = generate(config, settings, progress=lambda _: None)
    assert digest() == before
    assert first.rows == second.rows and first.defects == second.defects
    assert json.loads(json.dumps(second.to_dict()))["config"]["customers"] == 120
    other_seed = generate(
        GeneratorConfig(customers=120, behaviour_events=8_000, defect_rate=0.01, days=2, seed=1),
        settings,
        progress=lambda _: None,
    )
    assert other_seed.rows != first.rows or digest() != before


def test_late_file_reaches_landing_only_when_delivered(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = settings_for(tmp_path / "home", monkeypatch)
    config = GeneratorConfig(customers=60, behaviour_events=3_000, days=2, late_source="repayments")
    report = generate(config, settings, progress=lambda _: None)
    landing_file = Path(settings.landing_uri) / "repayments" / "2026-01-03" / "repayments.csv"
    held = settings.home / "late_deliveries" / "repayments" / "2026-01-03" / "repayments.csv"
    assert report.late_files == [
        {"source": "repayments", "date": "2026-01-03", "held_at": str(held)}
    ]
    assert report.defects["repayments"]["2026-01-03"] == {"late_file": 1}
    assert held.is_file() and not landing_file.exists()
    content = held.read_bytes()
    assert content.startswith(b"repayment_id,loan_id,")
    assert (Path(settings.landing_uri) / "repayments" / "2026-01-02" / "repayments.csv").is_file()
    assert deliver_late(settings) == [str(landing_file)]
    assert landing_file.read_bytes() == content
    control = json.loads(Path(f"{landing_file}.ctl.json").read_text(encoding="utf-8"))
    assert control["sha256"] == hashlib.sha256(content).hexdigest()  # delivered with its file
    assert not held.exists()
    assert deliver_late(settings) == []


def test_no_personal_identifier_outside_pii_columns(defective_run: Run) -> None:
    """Names, ID, phone and card numbers appear only in their own (tokenised) columns."""
    customers = _load(defective_run, "customers")
    known = frozenset(
        v for c in ("name", "national_id", "mobile", "bank_card_number") for v in customers[c]
    )
    for source, spec in SOURCES.items():
        frame = _load(defective_run, source, include_late=True)
        public = [c.name for c in spec.columns if not c.tokenised]
        cells = frame[public].astype(object).where(frame[public].notna(), "").astype(str)
        assert not known & set(cells.to_numpy().ravel().tolist()), source
        text = "\n".join(cells.agg("|".join, axis=1))
        assert scan_text(text, source) == [], source


def test_customers_are_adults_with_consistent_ids(defective_run: Run) -> None:
    from creditlake.pii import is_valid_national_id, luhn_valid

    customers = _load(defective_run, "customers")
    apps = _load(defective_run, "applications")
    bureau = _load(defective_run, "bureau_reports")
    assert customers["national_id"].map(is_valid_national_id).all()
    assert customers["bank_card_number"].map(luhn_valid).all()
    assert customers["mobile"].str.fullmatch(r"1[3-9]\d{9}").all()
    birth = pd.to_datetime(customers["national_id"].str.slice(6, 14), format="%Y%m%d")
    registered = pd.to_datetime(customers["registered_at"])
    age = (
        registered.dt.year
        - birth.dt.year
        - (
            (registered.dt.month < birth.dt.month)
            | ((registered.dt.month == birth.dt.month) & (registered.dt.day < birth.dt.day))
        )
    )
    assert age.between(18, 65).all()
    first_app = apps.groupby("customer_id")["applied_at"].min()
    reported = bureau.set_index("customer_id")["reported_at"]
    both = first_app.index.intersection(reported.index)
    assert (reported[both] < first_app[both]).all()
    assert 0.1 < 1 - customers["customer_id"].isin(bureau["customer_id"]).mean() < 0.45


def test_invalid_configuration_names_the_setting(tmp_path: Path, monkeypatch) -> None:
    settings = settings_for(tmp_path, monkeypatch)
    with pytest.raises(GeneratorConfigError, match="late_source 'nope'"):
        generate(GeneratorConfig(late_source="nope"), settings)
    with pytest.raises(GeneratorConfigError, match="defect_rate"):
        generate(GeneratorConfig(defect_rate=0.5), settings)
    with pytest.raises(GeneratorConfigError, match="history_start"):
        generate(GeneratorConfig(history_start=dt.date(2026, 2, 1)), settings)


def test_every_landing_file_ships_a_control_file_that_matches_it(defective_run: Run) -> None:
    """``<file>.ctl.json``: the file's name, data rows (header excluded), bytes and SHA-256."""
    checked = 0
    for source, dates in defective_run.report.defects.items():
        for date, kinds in dates.items():
            if "late_file" in kinds:
                continue
            path = defective_run.file(source, date)
            control = json.loads(Path(f"{path}.ctl.json").read_text(encoding="utf-8"))
            content = path.read_bytes()
            header = 1 if get_source(source).format == "csv" else 0
            assert control == {
                "file": path.name,
                "rows": content.count(b"\n") - header,
                "sha256": hashlib.sha256(content).hexdigest(),
                "bytes": len(content),
            }
            checked += 1
    assert checked == len(SOURCES) * (1 + defective_run.config.days) - 1  # one file is late
