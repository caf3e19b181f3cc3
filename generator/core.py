"""Generate every source's landing files, the ground truth, and the report.

Determinism: every random draw comes from a numpy generator seeded by (seed, component name), and
Faker is seeded with the same seed, so the same configuration writes byte-identical files; no
wall-clock value reaches any file. A run first removes the previous run's landing, ground-truth
and late-delivery output.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from creditlake.landing import Landing, delivery_key
from creditlake.policy import DEFAULT_POLICY
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
from generator.dates import DAY, Timeline, add_months, day_number
from generator.identities import faker_for, ip_addresses
from generator.risk import calibrate_intercept
from generator.servicing import (
    build_repayments,
    build_schedules,
    cure_probabilities,
    stop_probabilities,
    stop_weights,
)
from generator.writer import CONTROL_SUFFIX, line_texts, write_control_file, write_file
from ml.metrics import MetricInputError, auc

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


@dataclass
class GeneratedData:
    """Every generated table, in landing columns plus internal helper columns."""

    timeline: Timeline
    customers: pd.DataFrame
    bureau_reports: pd.DataFrame
    applications: pd.DataFrame
    loans: pd.DataFrame
    repayment_schedules: pd.DataFrame
    repayments: pd.DataFrame
    app_events: pd.DataFrame
    transactions: pd.DataFrame
    intercept: float
    #: per loan and complete month end: the B-card truth (generator.in_loan)
    loan_months: pd.DataFrame
    collection_actions: pd.DataFrame

    def table(self, source: str) -> pd.DataFrame:
        return getattr(self, source)


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
    for name in SOURCES:
        record[name] = _write_source(name, data, config, settings, landing, held)
        report.rows[name] = {d: entry["data_lines"] for d, entry in record[name].items()}
        report.defects[name] = {d: _kind_counts(entry) for d, entry in record[name].items()}
        progress(
            f"wrote {name}: {sum(report.rows[name].values()):,} lines in "
            f"{len(report.rows[name])} files ({time.perf_counter() - started:.1f} s)"
        )
    report.late_files = held
    report.truth = _write_truth(data, config, settings, record, held)
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


def auc_or_none(risk: np.ndarray, label: np.ndarray) -> float | None:
    """AUC (the platform's one implementation, ``ml.metrics.auc``); None with only one class."""
    try:
        return auc(np.asarray(label, dtype=float), risk)
    except MetricInputError:
        return None


def matured_mask(loans: pd.DataFrame, timeline: Timeline) -> np.ndarray:
    """Loans whose whole performance window (lending policy) lies before the last generated date."""
    disbursed_day = loans["disbursed_at"].to_numpy() // DAY
    window = DEFAULT_POLICY.performance_window_months
    return add_months(disbursed_day, window) <= day_number(timeline.last_date)


def fpd_observed_mask(loans: pd.DataFrame, timeline: Timeline) -> np.ndarray:
    """Loans whose first instalment was due long enough ago (lending policy) to tell an FPD."""
    first_due = loans["first_due_date"].to_numpy()
    return first_due + DEFAULT_POLICY.bad_days_past_due <= day_number(timeline.last_date)


def first_payment_default_p(loans: pd.DataFrame) -> np.ndarray:
    """The chance of a first-payment default: fraud, or a genuine default at instalment one."""
    fraud_p = loans["true_fraud_p"].to_numpy()
    return fraud_p + (1 - fraud_p) * loans["credit_pd"].to_numpy() * stop_weights(loans)[:, 0]


def _write_truth(
    data: GeneratedData,
    config: GeneratorConfig,
    settings: Settings,
    record: dict[str, dict[str, dict]],
    held: list[dict[str, str]],
) -> dict:
    import pyarrow as pa
    import pyarrow.parquet as pq

    loans = data.loans
    settings.oracle_dir.mkdir(parents=True, exist_ok=True)
    disbursed = (loans["disbursed_at"].to_numpy() // DAY).astype("int32")
    table = pa.table(
        {
            "loan_id": pa.array(loans["loan_id"].to_numpy(dtype=str), pa.string()),
            "application_id": pa.array(loans["application_id"].to_numpy(dtype=str), pa.string()),
            "customer_id": pa.array(loans["customer_id"].to_numpy(dtype=str), pa.string()),
            "true_pd": pa.array(loans["true_pd"].to_numpy(), pa.float64()),
            "defaulted": pa.array(loans["defaulted"].to_numpy(), pa.bool_()),
            "disbursed_date": pa.array(disbursed, pa.int32()).cast(pa.date32()),
            "credit_pd": pa.array(loans["credit_pd"].to_numpy(), pa.float64()),
            "is_fraud": pa.array(loans["is_fraud"].to_numpy(), pa.bool_()),
            "true_fpd_p": pa.array(first_payment_default_p(loans), pa.float64()),
            "first_payment_default": pa.array(
                loans["default_installment"].to_numpy() == 1, pa.bool_()
            ),
            "first_due_date": pa.array(
                loans["first_due_date"].to_numpy().astype("int32"), pa.int32()
            ).cast(pa.date32()),
        }
    )
    pq.write_table(table, settings.oracle_dir / "loan_truth.parquet")
    apps = data.applications
    pq.write_table(
        pa.table(
            {
                "application_id": pa.array(apps["application_id"].to_numpy(dtype=str)),
                "fraud_kind": pa.array(
                    np.array(fraud_mod.KIND_NAMES)[apps["fraud_kind"].to_numpy()]
                ),
                "true_fraud_p": pa.array(apps["true_fraud_p"].to_numpy(), pa.float64()),
                "is_fraud": pa.array(apps["is_fraud"].to_numpy(), pa.bool_()),
                "true_pd": pa.array(apps["true_pd"].to_numpy(), pa.float64()),
            }
        ),
        settings.oracle_dir / "application_truth.parquet",
    )
    schedules = data.repayment_schedules
    pq.write_table(
        pa.table(
            {
                "loan_id": pa.array(schedules["loan_id"].to_numpy(dtype=str)),
                "installment_number": pa.array(
                    schedules["installment_number"].to_numpy(), pa.int32()
                ),
                "partial_at_due": pa.array(schedules["partial_at_due"].to_numpy(), pa.bool_()),
                "true_cure_p": pa.array(cure_probabilities(loans, schedules), pa.float64()),
            }
        ),
        settings.oracle_dir / "installment_truth.parquet",
    )
    months = data.loan_months
    month_loans = months["loan_index"].to_numpy()
    pq.write_table(
        pa.table(
            {
                "loan_month_id": pa.array(
                    np.strings.add(
                        np.strings.add(loans["loan_id"].to_numpy(dtype=str)[month_loans], ":"),
                        np.datetime_as_string(
                            months["month_end"].to_numpy().astype("datetime64[D]"), unit="M"
                        ),
                    )
                ),
                "loan_id": pa.array(loans["loan_id"].to_numpy(dtype=str)[month_loans]),
                "month_end": pa.array(months["month_end"].to_numpy().astype("int32")).cast(
                    pa.date32()
                ),
                "survived": pa.array(months["survived"].to_numpy(), pa.bool_()),
                "distressed": pa.array(months["distressed"].to_numpy(), pa.bool_()),
                "true_bcard_p": pa.array(months["true_bcard_p"].to_numpy(), pa.float64()),
                "bad": pa.array(months["bad"].to_numpy(), pa.bool_()),
            }
        ),
        settings.oracle_dir / "loan_month_truth.parquet",
    )
    # per source, then date (as the contract says); the two other keys are not source names
    defects = {
        **record,
        "late_files": held,
        "config": {
            **config.to_dict(),
            "line_numbers": "1-based data lines of the landing file, header excluded",
        },
    }
    (settings.oracle_dir / "defects.json").write_text(
        json.dumps(defects, indent=1, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    matured = matured_mask(loans, data.timeline)
    matured_auc = auc_or_none(
        loans["true_pd"].to_numpy()[matured], loans["defaulted"].to_numpy()[matured]
    )
    fpd_seen = fpd_observed_mask(loans, data.timeline)
    fpd = loans["default_installment"].to_numpy() == 1
    fpd_auc = auc_or_none(first_payment_default_p(loans)[fpd_seen], fpd[fpd_seen])
    return {
        "customers": len(data.customers),
        "thin_file_share": round(1 - len(data.bureau_reports) / max(len(data.customers), 1), 4),
        "applications": len(apps),
        "approval_rate": round(float(apps["is_approved"].mean()), 4) if len(apps) else None,
        "loans": len(loans),
        "matured_loans": int(matured.sum()),
        "matured_bad_rate": round(float(loans["defaulted"][matured].mean()), 4)
        if matured.any()
        else None,
        "mean_true_pd": round(float(loans["true_pd"].mean()), 4) if len(loans) else None,
        "matured_oracle_auc": round(matured_auc, 4) if matured_auc is not None else None,
        "fraud_applications": int(apps["is_fraud"].sum()),
        "fraud_loans": int(loans["is_fraud"].sum()),
        "fpd_observed_loans": int(fpd_seen.sum()),
        "fpd_rate": round(float(fpd[fpd_seen].mean()), 4) if fpd_seen.any() else None,
        "fpd_oracle_auc": round(fpd_auc, 4) if fpd_auc is not None else None,
        **_b_card_summary(months, data.timeline),
        "app_events": len(data.app_events),
        "transactions": len(data.transactions),
        "intercept": round(data.intercept, 4),
    }


def _b_card_summary(months: pd.DataFrame, timeline: Timeline) -> dict:
    """Matured month ends of loans still paying: how many, their bad rate, the oracle's AUC."""
    seen = months["survived"].to_numpy() & (
        months["label_end"].to_numpy() < day_number(timeline.last_date)
    )
    oracle = auc_or_none(months["true_bcard_p"].to_numpy()[seen], months["bad"].to_numpy()[seen])
    return {
        "b_card_matured_months": int(seen.sum()),
        "b_card_bad_rate": round(float(months["bad"][seen].mean()), 4) if seen.any() else None,
        "b_card_distressed_share": round(float(months["distressed"][seen].mean()), 4)
        if seen.any()
        else None,
        "b_card_oracle_auc": round(oracle, 4) if oracle is not None else None,
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
    "first_payment_default_p",
    "fpd_observed_mask",
    "generate",
]
