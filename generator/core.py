"""Generate every source's landing files, the ground truth, and the report.

Determinism: every random draw comes from a numpy generator seeded by (seed, component name), and
Faker is seeded with the same seed, so the same configuration writes byte-identical files; no
wall-clock value reaches any file. A run first removes the previous run's landing, ground-truth
and late-delivery output.
"""

from __future__ import annotations

import datetime as dt
import shutil
import time
import zlib
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from creditlake.landing import Landing, delivery_key
from creditlake.progress import Progress
from creditlake.settings import Settings
from creditlake.sources import SOURCES, Source, get_source
from generator import defects as dfx
from generator import fraud as fraud_mod
from generator import in_loan
from generator.applications import build_applications, build_loans, draw_defaults
from generator.behaviour import (
    APP_SHARE,
    build_app_events,
    build_merchants,
    build_transactions,
)
from generator.collections import build_collection_actions
from generator.config import GenerationReport, GeneratorConfig
from generator.customers import build_bureau, build_customers, logistic
from generator.data import GeneratedData
from generator.dates import Timeline, day_number
from generator.identities import faker_for, ip_addresses
from generator.risk import calibrate_intercept
from generator.servicing import (
    build_repayments,
    build_schedules,
    stop_probabilities,
)
from generator.truth import write_truth
from generator.writer import CONTROL_SUFFIX, line_texts, write_control_file, write_file

LATE_DIR_NAME = "late_deliveries"
#: The column whose date decides a record's delivery (schedules travel with their loan).
DELIVERY_TIME = {
    "customers": "registered_at",
    "applications": "applied_at",
    "loans": "disbursed_at",
    "repayment_schedules": "disbursed_at",
    "repayments": "paid_at",
    "app_events": "event_at",
    "transactions": "transacted_at",
    "bureau_reports": "reported_at",
    "collection_actions": "action_at",
}


def rng_for(seed: int, component: str) -> np.random.Generator:
    """An independent, reproducible stream per component (changing one leaves the rest)."""
    return np.random.default_rng([seed, zlib.crc32(component.encode())])


def late_dir(settings: Settings) -> Path:
    return settings.home / LATE_DIR_NAME


def build_data(
    config: GeneratorConfig, progress: Callable[[str], None] = lambda _: None
) -> GeneratedData:
    """All tables in memory, before defects (except APR-cap breaches, which are real loans)."""
    timeline = Timeline(config.history_start, config.extract_date, config.days)
    seed = config.seed
    fake = faker_for(seed)
    started = time.perf_counter()

    def step(message: str) -> None:
        progress(f"{message} ({time.perf_counter() - started:.1f} s)")

    customers = build_customers(config.customers, timeline, rng_for(seed, "customers"))
    bureau = build_bureau(customers, rng_for(seed, "bureau"))
    fraud_mod.mark_fraudsters(customers, bureau, rng_for(seed, "fraud"))
    step(f"customers: {len(customers):,}, bureau reports: {len(bureau):,}")
    applications = build_applications(customers, bureau, timeline, rng_for(seed, "applications"))
    fraud_mod.draw_fraud(applications, customers, rng_for(seed, "fraud/applications"))
    app_budget = round(config.behaviour_events * APP_SHARE)
    events, devices = build_app_events(
        customers, applications, timeline, app_budget, rng_for(seed, "app_events")
    )
    applications["device_id"] = devices
    applications["ip_address"] = ip_addresses(len(applications), rng_for(seed, "ip"))
    fraud_mod.share_ring_links(applications, events, customers, rng_for(seed, "fraud/links"))
    step(f"applications: {len(applications):,}, app events: {len(events):,}")

    loans = build_loans(applications, timeline, rng_for(seed, "loans"))
    intercept = calibrate_intercept(loans["default_logit"].to_numpy())
    draw_defaults(loans, intercept, rng_for(seed, "defaults"))
    fraud_p = applications["true_fraud_p"].to_numpy()
    credit_pd = logistic(applications["default_logit"].to_numpy() + intercept)
    applications["true_pd"] = fraud_p + (1 - fraud_p) * credit_pd
    if config.defect_rate > 0:
        _breach_apr_cap(applications, loans, config.defect_rate, rng_for(seed, "apr_breach"))
    schedules = build_schedules(loans)
    repayments, stop = build_repayments(loans, schedules, timeline, rng_for(seed, "repayments"))
    loans["default_installment"] = stop
    schedules["disbursed_at"] = loans["disbursed_at"].to_numpy()[schedules["loan_index"]]
    step(
        f"loans: {len(loans):,}, schedule rows: {len(schedules):,}, repayments: {len(repayments):,}"
    )
    collection_actions = build_collection_actions(
        loans, schedules, repayments, customers, timeline, rng_for(seed, "collections")
    )
    step(f"collection actions: {len(collection_actions):,}")
    loan_months = in_loan.b_card_truth(
        loans,
        stop_probabilities(loans),
        stop,
        in_loan.loan_month_ends(loans, schedules, timeline),
        rng_for(seed, "in_loan"),
    )
    transactions = build_transactions(
        customers,
        timeline,
        config.behaviour_events - app_budget,
        build_merchants(fake),
        rng_for(seed, "transactions"),
        distress=in_loan.distress_transactions(loan_months, loans, rng_for(seed, "in_loan/spend")),
    )
    step(f"transactions: {len(transactions):,}")
    return GeneratedData(
        timeline,
        customers,
        bureau,
        applications,
        loans,
        schedules,
        repayments,
        events,
        transactions,
        intercept,
        loan_months,
        collection_actions,
    )


def _breach_apr_cap(
    applications: pd.DataFrame, loans: pd.DataFrame, rate: float, rng: np.random.Generator
) -> None:
    """Price a few loans above the cap, as a misconfigured pricing rule would (kept consistent)."""
    if not len(loans):
        return
    count = min(len(loans), max(1, round(rate * len(loans))))
    chosen = np.sort(rng.choice(len(loans), size=count, replace=False))
    breach = dfx.APR_BREACH_UNITS[rng.integers(0, len(dfx.APR_BREACH_UNITS), count)]
    loans.loc[chosen, "apr"] = breach
    loans["apr_breach"] = False
    loans.loc[chosen, "apr_breach"] = True
    position = pd.Series(np.arange(len(applications)), index=applications["application_id"])
    rows = position.loc[loans["application_id"].to_numpy()[chosen]].to_numpy()
    applications.loc[rows, "apr"] = breach
    applications["apr_breach"] = False
    applications.loc[rows, "apr_breach"] = True


def generate(
    config: GeneratorConfig, settings: Settings, progress: Callable[[str], None] = print
) -> GenerationReport:
    """Write every source's landing files (with defects), the ground truth, and a report."""
    started = time.perf_counter()
    config.validate()
    landing = Landing.from_settings(settings)
    _remove_previous_output(settings, landing)
    data = build_data(config, progress)
    report = GenerationReport(config=config.to_dict())
    record: dict[str, dict[str, dict]] = {}
    held: list[dict[str, str]] = []
    steps = Progress(list(SOURCES), progress)
    for name in SOURCES:
        source_started = time.perf_counter()
        record[name] = _write_source(name, data, config, settings, landing, held)
        report.rows[name] = {d: entry["data_lines"] for d, entry in record[name].items()}
        report.defects[name] = {d: _kind_counts(entry) for d, entry in record[name].items()}
        steps.finished(
            name,
            time.perf_counter() - source_started,
            f"wrote {name}: {sum(report.rows[name].values()):,} lines in "
            f"{len(report.rows[name])} files ({time.perf_counter() - started:.1f} s)",
        )
    report.late_files = held
    report.truth = write_truth(data, config, settings, record, held)
    report.wall_seconds = round(time.perf_counter() - started, 2)
    progress(
        f"done in {report.wall_seconds:.1f} s: {report.truth['loans']:,} loans, bad rate of "
        f"matured loans {report.truth['matured_bad_rate']}, oracle AUC "
        f"{report.truth['matured_oracle_auc']}; {report.truth['fraud_loans']:,} fraud loans, "
        f"first-payment default rate {report.truth['fpd_rate']}, oracle AUC "
        f"{report.truth['fpd_oracle_auc']}"
    )
    return report


def _kind_counts(entry: dict) -> dict[str, int]:
    counts: dict[str, int] = {}
    for defect in entry["defects"]:
        counts[defect["kind"]] = counts.get(defect["kind"], 0) + 1
    if entry.get("late"):
        counts[dfx.LATE_FILE] = 1
    return counts


def _write_source(
    name: str,
    data: GeneratedData,
    config: GeneratorConfig,
    settings: Settings,
    landing: Landing,
    held: list[dict[str, str]],
) -> dict[str, dict]:
    """Every delivery date's file of one source; a late file is held back, not delivered."""
    source = get_source(name)
    frame = data.table(name)
    timeline = data.timeline
    delivery = timeline.delivery_day(frame[DELIVERY_TIME[name]].to_numpy())
    dates = timeline.delivery_dates
    files = {d.isoformat(): np.flatnonzero(delivery == day_number(d)) for d in dates}
    rng = rng_for(config.seed, f"defects/{name}")
    kinds = dfx.allocate(
        {k: len(v) for k, v in files.items()},
        dfx.applicable_kinds(source),
        config.defect_rate,
        rng,
    )
    late_date = dates[-1].isoformat() if config.days > 0 else None
    out: dict[str, dict] = {}
    for date_text, rows in files.items():
        part = frame.iloc[rows].reset_index(drop=True)
        apr_rows = (
            np.flatnonzero(part["apr_breach"].to_numpy()).tolist()
            if name in dfx.APR_SOURCES and "apr_breach" in part
            else []
        )
        plan = dfx.plan_file(part, source, kinds[date_text], apr_rows, rng)
        day = dt.date.fromisoformat(date_text)
        is_late = name == config.late_source and date_text == late_date
        key = delivery_key(name, day, source.file_name)
        if is_late:
            path = late_dir(settings) / key
        elif landing.is_s3:
            path = settings.staging_dir / "generator" / key
        else:
            path = Path(landing.uri) / key
        entry = _write_with_defects(path, part, source, plan, rng)
        control = write_control_file(path, entry["data_lines"])
        if is_late:
            entry["late"] = True
            held.append({"source": name, "date": date_text, "held_at": str(path)})
        else:
            entry["location"] = landing.put(path, name, day)
            landing.put(control, name, day)
            if landing.is_s3:
                path.unlink()
                control.unlink()
        out[date_text] = entry
    return out


def _write_with_defects(
    path: Path, frame: pd.DataFrame, source: Source, plan: dfx.FilePlan, rng: np.random.Generator
) -> dict:
    """Write one file with its planned defects; returns its defect-log entry."""
    needed = sorted({d.row for d in plan.edits} | {r for r, _ in plan.duplicates})
    clean = line_texts(frame, source, needed)
    replacements = {d.row: dfx.apply_edit(clean[d.row], d, source, rng) for d in plan.edits}
    insertions: dict[int, list[str]] = {}
    for row, after in plan.duplicates:
        insertions.setdefault(after, []).append(clean[row])
    lines = write_file(path, frame, source, replacements, insertions)
    row_line, duplicate_lines = dfx.final_line_numbers(len(frame), plan)
    found = [
        {"kind": d.kind, "line_number": int(row_line[d.row]), "column": d.column}
        for d in plan.edits
    ]
    found += [
        {"kind": dfx.APR_ABOVE_CAP, "line_number": int(row_line[r]), "column": "apr"}
        for r in plan.apr_rows
    ]
    found += [
        {"kind": dfx.DUPLICATE, "line_number": line, "duplicate_of": int(row_line[row])}
        for (row, _), line in zip(plan.duplicates, duplicate_lines, strict=True)
    ]
    found.sort(key=lambda d: d["line_number"])
    return {
        "data_lines": lines,
        "records": len(frame),
        "duplicates": len(plan.duplicates),
        "defects": found,
    }


def _remove_previous_output(settings: Settings, landing: Landing) -> None:
    """Delete what an earlier run wrote: every source's landing folder, truth, late files."""
    for name in SOURCES:
        if landing.is_s3:
            _delete_s3_prefix(landing, name)
        else:
            shutil.rmtree(Path(landing.uri) / name, ignore_errors=True)
    for path in (settings.oracle_dir, late_dir(settings), settings.staging_dir / "generator"):
        shutil.rmtree(path, ignore_errors=True)


def _delete_s3_prefix(landing: Landing, source: str) -> None:
    bucket, _ = landing._bucket_prefix()
    client = landing._s3()
    prefix = landing._s3_key(source) + "/"
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        keys = [{"Key": item["Key"]} for item in page.get("Contents", [])]
        if keys:
            client.delete_objects(Bucket=bucket, Delete={"Objects": keys})


def deliver_late(settings: Settings) -> list[str]:
    """Deliver the held-back files into landing (then drop them); returns their locations.

    Each data file goes first and its control file after it, as a feed signals a complete
    delivery; only the data files' locations are returned.
    """
    root = late_dir(settings)
    if not root.is_dir():
        return []
    landing = Landing.from_settings(settings)
    delivered = []
    for path in sorted(p for p in root.glob("*/*/*") if p.is_file()):
        source, date_text = path.parent.parent.name, path.parent.name
        location = landing.put(path, source, dt.date.fromisoformat(date_text))
        if not path.name.endswith(CONTROL_SUFFIX):
            delivered.append(location)
        path.unlink()
    shutil.rmtree(root, ignore_errors=True)
    return delivered


__all__ = [
    "GeneratedData",
    "build_data",
    "deliver_late",
    "generate",
]
