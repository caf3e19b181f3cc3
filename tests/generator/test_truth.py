"""The ground truth agrees with what the landing files show."""

from __future__ import annotations

import datetime as dt

import pandas as pd
from generator_helpers import Run, read_csv


def _csv_frame(run: Run, source: str) -> pd.DataFrame:
    frames = []
    for date in run.report.rows[source]:
        header, rows = read_csv(run.file(source, date))
        frames.append(pd.DataFrame(rows, columns=header))
    return pd.concat(frames, ignore_index=True)


def test_label_is_exactly_realised_for_matured_loans(clean_run: Run) -> None:
    """Ever 30+ days past due within 6 months on book, recomputed from schedules and payments."""
    loans = _csv_frame(clean_run, "loans")
    schedules = _csv_frame(clean_run, "repayment_schedules")
    payments = _csv_frame(clean_run, "repayments")
    truth = pd.read_parquet(clean_run.settings.oracle_dir / "loan_truth.parquet")
    last_date = pd.Timestamp(clean_run.config.extract_date + dt.timedelta(clean_run.config.days))

    loans["disbursed"] = pd.to_datetime(loans["disbursed_at"]).dt.normalize()
    loans["window_end"] = loans["disbursed"] + pd.DateOffset(months=6)
    matured = loans[loans["window_end"] <= last_date]
    assert len(matured) >= 50

    schedules["due"] = pd.to_datetime(schedules["due_date"])
    schedules["total"] = schedules["total_due_cny"].astype(float)
    payments["paid"] = pd.to_datetime(payments["paid_at"]).dt.normalize()
    payments["amount"] = payments["amount_cny"].astype(float)
    payments = payments.sort_values("paid")
    payments["cumulative"] = payments.groupby(["loan_id", "installment_number"])["amount"].cumsum()
    inst = schedules.merge(matured[["loan_id", "window_end"]], on="loan_id")
    settled = payments.merge(
        inst[["loan_id", "installment_number", "total"]], on=["loan_id", "installment_number"]
    )
    settled = settled[settled["cumulative"] >= settled["total"] - 0.005]
    paid_in_full = settled.groupby(["loan_id", "installment_number"])["paid"].min()
    inst = inst.join(paid_in_full, on=["loan_id", "installment_number"])
    reaches_30 = inst["due"] + pd.Timedelta(days=30) <= inst["window_end"]
    unpaid_at_30 = inst["paid"].isna() | (inst["paid"] >= inst["due"] + pd.Timedelta(days=30))
    inst["bad"] = reaches_30 & unpaid_at_30
    observed = inst.groupby("loan_id")["bad"].any()

    expected = truth.set_index("loan_id").loc[observed.index, "defaulted"]
    assert observed.sum() > 0
    assert (observed == expected).all()


def test_loan_truth_matches_the_loans_file(clean_run: Run) -> None:
    loans = _csv_frame(clean_run, "loans")
    truth = pd.read_parquet(clean_run.settings.oracle_dir / "loan_truth.parquet")
    assert list(truth.columns) == [
        "loan_id",
        "application_id",
        "customer_id",
        "true_pd",
        "defaulted",
        "disbursed_date",
        "credit_pd",
        "is_fraud",
        "true_fpd_p",
        "first_payment_default",
        "first_due_date",
    ]
    assert sorted(truth["loan_id"]) == sorted(loans["loan_id"])
    merged = truth.merge(loans, on="loan_id", suffixes=("", "_file"))
    assert (merged["application_id"] == merged["application_id_file"]).all()
    assert (merged["customer_id"] == merged["customer_id_file"]).all()
    assert (
        pd.to_datetime(merged["disbursed_date"])
        == pd.to_datetime(merged["disbursed_at"]).dt.normalize()
    ).all()
    assert truth["true_pd"].between(0, 1).all()
    # the intercept is calibrated so the mean credit PD of loans is 15%; fraud only adds to it
    assert abs(truth["credit_pd"].mean() - 0.15) < 1e-6
    assert (truth["true_pd"] >= truth["credit_pd"]).all()
    assert (truth["true_fpd_p"] <= truth["true_pd"]).all()
    assert truth.loc[truth["is_fraud"], "defaulted"].all()
    assert (
        pd.to_datetime(merged["first_due_date"]) == pd.to_datetime(merged["first_due_date_file"])
    ).all()


def test_first_payment_defaults_are_exactly_realised(clean_run: Run) -> None:
    """FPD: the first instalment still unpaid 30 days after its due date, as the files show it,
    for every loan whose first due date is 30 days before the last date; fraud loans never pay."""
    schedules = _csv_frame(clean_run, "repayment_schedules")
    payments = _csv_frame(clean_run, "repayments")
    truth = pd.read_parquet(clean_run.settings.oracle_dir / "loan_truth.parquet")
    last_date = pd.Timestamp(clean_run.config.extract_date + dt.timedelta(clean_run.config.days))
    first = schedules[schedules["installment_number"] == "1"].set_index("loan_id")
    due = pd.to_datetime(first["due_date"])
    observed = due[due + pd.Timedelta(days=30) <= last_date]
    payments = payments[payments["installment_number"] == "1"].assign(
        paid=pd.to_datetime(payments["paid_at"]).dt.normalize(),
        amount=payments["amount_cny"].astype(float),
    )
    payments = payments.sort_values("paid")
    payments["cumulative"] = payments.groupby("loan_id")["amount"].cumsum()
    total = first["total_due_cny"].astype(float)
    settled = payments[payments["cumulative"] >= total.loc[payments["loan_id"]].to_numpy() - 0.005]
    paid_off = settled.groupby("loan_id")["paid"].min().reindex(observed.index)
    fpd = paid_off.isna() | (paid_off >= observed + pd.Timedelta(days=30))
    expected = truth.set_index("loan_id").loc[observed.index, "first_payment_default"]
    assert len(observed) >= 50 and fpd.sum() > 0
    assert (fpd == expected).all()
    fraud_loans = set(truth.loc[truth["is_fraud"], "loan_id"])
    assert fraud_loans and not fraud_loans & set(payments["loan_id"])


def test_schedules_add_up_on_every_row_and_loan(clean_run: Run) -> None:
    loans = _csv_frame(clean_run, "loans").set_index("loan_id")
    schedules = _csv_frame(clean_run, "repayment_schedules")
    cents = {
        c: (schedules[c].astype(float) * 100).round().astype(int)
        for c in schedules.columns
        if c.endswith("_cny")
    }
    assert (cents["principal_due_cny"] + cents["interest_due_cny"] == cents["total_due_cny"]).all()
    principal = cents["principal_due_cny"].groupby(schedules["loan_id"]).sum()
    expected = (loans.loc[principal.index, "principal_cny"].astype(float) * 100).round().astype(int)
    assert (principal == expected).all()
    numbers = schedules["installment_number"].astype(int)
    count = numbers.groupby(schedules["loan_id"]).agg(["count", "max"])
    terms = loans.loc[count.index, "term_months"].astype(int)
    assert (count["count"] == terms).all() and (count["max"] == terms).all()
    first = schedules[schedules["installment_number"] == "1"].set_index("loan_id")["due_date"]
    assert (first == loans.loc[first.index, "first_due_date"]).all()


def test_repayments_never_exceed_what_is_due_and_stop_at_the_last_date(clean_run: Run) -> None:
    schedules = _csv_frame(clean_run, "repayment_schedules")
    payments = _csv_frame(clean_run, "repayments")
    paid = (
        payments.assign(amount=payments["amount_cny"].astype(float))
        .groupby(["loan_id", "installment_number"])["amount"]
        .sum()
    )
    due = schedules.set_index(["loan_id", "installment_number"])["total_due_cny"].astype(float)
    assert (paid <= due.loc[paid.index] + 0.005).all()
    last = dt.datetime.combine(
        clean_run.config.extract_date + dt.timedelta(clean_run.config.days), dt.time(23, 59, 59)
    )
    assert pd.to_datetime(payments["paid_at"]).max() <= last
    kinds = set(payments["payment_channel"])
    assert {"bank_card_autodebit", "alipay", "wechat_pay"} <= kinds
