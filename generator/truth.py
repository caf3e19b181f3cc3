"""The ground truth the generator keeps apart from landing, and the figures it reports from it.

``write_truth`` writes the oracle folder (per loan, application, instalment and loan month end:
the true probabilities the models are measured against) and ``defects.json``, and returns the
report's ``truth`` section: bad rates and oracle AUCs. Only the summary reads these files; the
pipeline never does.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from creditlake.policy import DEFAULT_POLICY
from creditlake.settings import Settings
from generator import fraud as fraud_mod
from generator.config import GeneratorConfig
from generator.data import GeneratedData
from generator.dates import DAY, Timeline, add_months, day_number
from generator.servicing import cure_probabilities, stop_weights
from ml.metrics import MetricInputError, auc


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


def write_truth(
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
