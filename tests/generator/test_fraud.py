"""Application fraud in the generator: rings share links, synthetic identities are thin-file."""

from __future__ import annotations

import numpy as np
import pytest

from generator import fraud
from generator.config import GeneratorConfig
from generator.core import build_data
from generator.truth import first_payment_default_p


@pytest.fixture(scope="module")
def data():
    return build_data(GeneratorConfig(customers=6_000, behaviour_events=150_000, days=1))


def test_fraudsters_are_a_few_percent_of_customers(data) -> None:
    kind = data.customers["fraud_kind"].to_numpy()
    assert 0.01 < (kind == fraud.RING).mean() < 0.025
    assert 0.005 < (kind == fraud.SYNTHETIC).mean() < 0.015
    thin = ~np.isin(np.arange(len(kind)), data.bureau_reports["customer_index"].to_numpy())
    assert thin[kind == fraud.SYNTHETIC].all()  # made-up people have no bureau record


def test_ring_members_apply_from_shared_devices_and_ips_and_others_do_not(data) -> None:
    apps = data.applications
    ring = data.customers["ring_index"].to_numpy()[apps["customer_index"].to_numpy()]
    customers_per_device = apps.groupby("device_id")["customer_id"].nunique()
    shared = set(customers_per_device[customers_per_device > 1].index)
    in_ring = apps["device_id"].isin(shared).to_numpy()
    assert in_ring[ring >= 0].mean() > 0.8
    assert not in_ring[ring < 0].any()
    mobiles = data.customers.groupby("mobile")["customer_id"].nunique()
    assert (mobiles > 1).sum() >= len(np.unique(ring[ring >= 0])) // 2


def test_fraudsters_apply_soon_after_signing_up(data) -> None:
    apps = data.applications
    first = apps.groupby("customer_index")["applied_at"].min()
    registered = data.customers["registered_at"].to_numpy()[first.index]
    days = (first.to_numpy() - registered) / 86_400
    kind = data.customers["fraud_kind"].to_numpy()[first.index]
    assert np.median(days[kind != fraud.NONE]) < 6 < np.median(days[kind == fraud.NONE])


def test_fraud_loans_never_pay_and_are_bad(data) -> None:
    loans = data.loans
    assert loans["is_fraud"].sum() > 20
    fraud_rows = np.flatnonzero(loans["is_fraud"].to_numpy())
    assert loans["defaulted"].to_numpy()[fraud_rows].all()
    assert (loans["default_installment"].to_numpy()[fraud_rows] == 1).all()
    assert not np.isin(fraud_rows, data.repayments["loan_index"].to_numpy()).any()
    p = first_payment_default_p(loans)
    assert (p[fraud_rows] >= 0.7).all() and np.median(p) < 0.1


def test_only_fraudsters_commit_fraud(data) -> None:
    apps = data.applications
    assert not apps.loc[apps["fraud_kind"] == fraud.NONE, "is_fraud"].any()
    assert set(apps["true_fraud_p"].round(2)) == {0.0, 0.7, 0.9}


def test_cure_probabilities_match_the_cures_that_happen(data) -> None:
    """Every entry into collections (an instalment missed while the loan was current) cures
    within 30 days about as often as its true cure probability says, and it sorts them."""
    from generator.dates import DAY, day_number
    from generator.servicing import cure_probabilities
    from ml.metrics import auc

    schedules = data.repayment_schedules.assign(
        true_cure_p=cure_probabilities(data.loans, data.repayment_schedules)
    )
    payments = data.repayments.assign(day=data.repayments["paid_at"] // DAY)
    payments = payments.sort_values("paid_at")
    payments["paid"] = payments.groupby(["loan_index", "installment_number"])["amount_cny"].cumsum()
    due = schedules.set_index(["loan_index", "installment_number"])["total_due_cny"]
    keys = list(zip(payments["loan_index"], payments["installment_number"], strict=True))
    settled = payments[payments["paid"].to_numpy() >= due.loc[keys].to_numpy()]
    paid_off = settled.groupby(["loan_index", "installment_number"])["day"].min()
    schedules["paid_off"] = paid_off.reindex(
        list(zip(schedules["loan_index"], schedules["installment_number"], strict=True))
    ).to_numpy()
    schedules = schedules.sort_values(["loan_index", "installment_number"])
    schedules["earlier_paid_by"] = (
        schedules["paid_off"]
        .fillna(1e9)
        .groupby(schedules["loan_index"])
        .transform(lambda days: days.shift().fillna(-1).cummax())
    )
    observed = schedules["due_date"] + 30 <= day_number(data.timeline.last_date)
    missed = schedules["paid_off"].isna() | (schedules["paid_off"] > schedules["due_date"])
    entries = schedules[observed & missed & (schedules["earlier_paid_by"] <= schedules["due_date"])]
    cured = (entries["paid_off"] < entries["due_date"] + 30).to_numpy()
    assert len(entries) > 2000
    assert abs(entries["true_cure_p"].mean() - cured.mean()) < 0.02
    assert auc(cured.astype(float), entries["true_cure_p"].to_numpy()) > 0.8
    assert (entries.loc[entries["partial_at_due"], "true_cure_p"] == 1.0).all()
