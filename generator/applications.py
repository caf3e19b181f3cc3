"""Credit applications, the lender's decisions, and the loans it disburses.

A customer applies some days after signing up and again now and then (more often with a larger
appetite for credit); about 1.5 applications per customer fall inside the timeline. Each
application gets its true PD from :mod:`generator.risk`, and the lender decides it with
its own scorecard, prices it (APR within the 24% cap) and sizes its credit line.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from creditlake.policy import DEFAULT_POLICY
from generator import risk
from generator.customers import logistic
from generator.dates import (
    DAY,
    Timeline,
    at_local_time,
    completed_years,
    local_day_of,
    local_seconds,
)

PRODUCTS = ("cash_loan", "consumer_installment")
TERMS = np.array([3, 6, 9, 12, 24])
_TERM_P = {
    "cash_loan": np.array([0.10, 0.20, 0.10, 0.40, 0.20]),
    "consumer_installment": np.array([0.20, 0.30, 0.10, 0.30, 0.10]),
}
PURPOSES = {
    "cash_loan": (
        "daily_consumption",
        "home_renovation",
        "education",
        "medical",
        "travel",
        "business_turnover",
        "wedding",
    ),
    "consumer_installment": (
        "electronics",
        "furniture_appliances",
        "education_training",
        "travel",
        "medical_aesthetics",
        "vehicle_accessories",
    ),
}
MAX_CANDIDATES = 8
APPROVAL_RATE = 0.62
#: The synthetic lender prices and sizes loans under the reference lending policy; APR in units
#: of 1e-4 (the registry's decimal(6,4)), so 0.24 is 2400.
APR_CAP_UNITS = round(DEFAULT_POLICY.apr_cap * 10_000)
CREDIT_LIMIT_CNY = DEFAULT_POLICY.credit_limit_cny


def application_times(
    customers: pd.DataFrame, timeline: Timeline, rng: np.random.Generator, per_customer: float
) -> pd.DataFrame:
    """(customer_index, applied_at) pairs inside the timeline, about ``per_customer`` each.

    The first application comes 2 days + Gamma(1.3, 35 days) after sign-up (fraudsters: a
    scale of 2 days, :mod:`generator.fraud`), later ones after
    exponential gaps that shrink with appetite for credit; the gap scale is solved so the total
    matches ``per_customer`` (the count is monotone in it, so bisection finds it).
    """
    n = len(customers)
    registered = customers["registered_at"].to_numpy()
    hunger = customers["credit_hunger"].to_numpy()
    scale = customers["first_apply_scale_days"].to_numpy()
    first = registered + ((2 + rng.gamma(1.3, 1.0, n) * scale) * DAY).astype("int64")
    gaps = rng.exponential(1.0, (n, MAX_CANDIDATES - 1)) * np.exp(-0.35 * hunger)[:, None]
    limit = timeline.end - 4 * 3600

    def times(scale_days: float) -> np.ndarray:
        offsets = np.cumsum(gaps * scale_days * DAY, axis=1).astype("int64")
        return np.column_stack([first, first[:, None] + offsets])

    low, high = 5.0, 2000.0
    target = per_customer * n
    for _ in range(40):
        mid = (low + high) / 2
        if (times(mid) <= limit).sum() > target:
            low = mid
        else:
            high = mid
    t = times(high)
    customer_index, _ = np.nonzero(t <= limit)
    applied = t[t <= limit]
    # redraw the time of day on the local clock: night owls apply at night too
    night = customers["night_share"].to_numpy()[customer_index]
    local = at_local_time(local_day_of(applied), local_seconds(len(applied), rng, night))
    applied = np.clip(local, registered[customer_index] + DAY, limit)
    order = np.lexsort((customer_index, applied))
    return pd.DataFrame({"customer_index": customer_index[order], "applied_at": applied[order]})


def build_applications(
    customers: pd.DataFrame,
    bureau: pd.DataFrame,
    timeline: Timeline,
    rng: np.random.Generator,
    per_customer: float = 1.5,
) -> pd.DataFrame:
    """Applications with their decision, true PD and landing columns (device_id comes later)."""
    apps = application_times(customers, timeline, rng, per_customer)
    n = len(apps)
    ci = apps["customer_index"].to_numpy()
    cust = customers.iloc[ci].reset_index(drop=True)
    age_reg = cust["age_at_registration"].to_numpy()
    hunger = cust["credit_hunger"].to_numpy()
    tier = cust["tier"].to_numpy()
    rural = cust["residence_type"].to_numpy() == "rural"

    channel_logits = np.column_stack(
        [
            np.zeros(n),
            np.full(n, -1.3),
            -1.0 + 0.3 * (age_reg < 30) + 0.2 * hunger,
            -1.6 + 0.9 * rural + 0.5 * (tier == 4) - 0.5 * (tier == 1),
        ]
    )
    channel = np.argmax(channel_logits + rng.gumbel(size=(n, 4)), axis=1)
    installment_p = np.where(channel == 3, 0.85, 0.35)
    product = (rng.random(n) < installment_p).astype("int64")
    term = np.empty(n, dtype="int64")
    purpose = np.empty(n, dtype=object)
    for p, name in enumerate(PRODUCTS):
        idx = np.flatnonzero(product == p)
        term[idx] = rng.choice(TERMS, size=len(idx), p=_TERM_P[name])
        purpose[idx] = np.array(PURPOSES[name])[rng.integers(0, len(PURPOSES[name]), len(idx))]

    income_cny = cust["monthly_income_cny"].to_numpy() / 100
    multiple = np.where(product == 0, 2.5, 1.5) * np.exp(0.25 * hunger + 0.55 * rng.normal(0, 1, n))
    requested = income_cny * multiple
    requested = np.where(requested < 5000, np.round(requested / 100) * 100, np.round(requested, -3))
    requested = np.clip(requested, 500, 200_000)

    applied_at = apps["applied_at"].to_numpy()
    age = completed_years(cust["birth_day"].to_numpy(), applied_at // DAY)
    bureau_by_customer = bureau.set_index("customer_index")
    has_bureau = np.isin(ci, bureau["customer_index"].to_numpy())

    def bureau_field(name: str) -> np.ndarray:
        return bureau_by_customer[name].reindex(ci).to_numpy(dtype=float)

    features = pd.DataFrame(
        {
            "has_bureau": has_bureau,
            "bureau_score": bureau_field("bureau_score"),
            "max_days_past_due_24m": bureau_field("max_days_past_due_24m"),
            "inquiries_6m_count": bureau_field("inquiries_6m_count"),
            "age": age,
            "income_cny": income_cny,
            "dti": risk.debt_to_income(requested, term, income_cny),
            "education_index": cust["education_index"].to_numpy(),
            "occupation_index": cust["occupation_index"].to_numpy(),
            "channel_index": channel,
            "is_new_citizen": cust["is_new_citizen"].to_numpy(),
            "night_share": cust["night_share"].to_numpy(),
            "risky_spend_share": cust["risky_spend_share"].to_numpy(),
            "device_changes_30d": cust["device_changes_30d"].to_numpy(),
            "loan_apply_views_30d": cust["loan_apply_views_30d"].to_numpy(),
        }
    )

    # The lender's decision: knock-out rules, then a scorecard cut-off, then the credit line.
    points = risk.policy_points(features, rng.normal(0, 25, n))
    knocked_out = risk.hard_rule_reject(features)
    eligible = points[~knocked_out]
    cutoff = float(np.quantile(eligible, 1 - APPROVAL_RATE)) if len(eligible) else 0.0
    margin = points - cutoff
    line = income_cny * np.clip(2 + margin / 25, 1, 8)
    approved_cny = np.minimum(requested, np.floor(np.minimum(line, CREDIT_LIMIT_CNY) / 100) * 100)
    approved = ~knocked_out & (margin >= 0) & (approved_cny >= 500)
    daily_rate_bp = np.clip(np.round((6.5 - margin / 15) * 2) / 2, 2.0, 6.5)
    apr_units = np.minimum(np.floor(daily_rate_bp * 365 + 0.5).astype("int64"), APR_CAP_UNITS)

    delay = np.where(channel == 3, rng.integers(600, 3 * 3600, n), rng.integers(5, 600, n)).astype(
        "int64"
    )
    day_end = (applied_at // DAY + 1) * DAY - 1
    applied_at = np.minimum(applied_at, day_end - delay)
    decided_at = applied_at + delay

    frame = pd.DataFrame(
        {
            "application_id": [f"A{i:09d}" for i in range(1, n + 1)],
            "customer_id": cust["customer_id"].to_numpy(),
            "applied_at": applied_at,
            "channel": np.array(risk.CHANNELS)[channel],
            "product": np.array(PRODUCTS)[product],
            "requested_amount_cny": np.round(requested * 100).astype("int64"),
            "term_months": term,
            "purpose": purpose.astype(str),
            "device_id": "",
            "ip_address": "",
            "decision": np.where(approved, "approved", "rejected"),
            "decided_at": decided_at,
            "approved_amount_cny": pd.array(
                np.where(approved, np.round(approved_cny * 100), 0).astype("int64"), dtype="Int64"
            ),
            "apr": pd.array(apr_units, dtype="Int64"),
            "customer_index": ci,
            "is_approved": approved,
            "default_logit": risk.default_logit(features),
        }
    )
    frame.loc[~approved, ["approved_amount_cny", "apr"]] = pd.NA
    # keeping decisions on the application's day nudged a few times: re-sort, then number
    frame = frame.sort_values("applied_at", kind="stable").reset_index(drop=True)
    frame["application_id"] = [f"A{i:09d}" for i in range(1, n + 1)]
    return frame


def build_loans(
    applications: pd.DataFrame, timeline: Timeline, rng: np.random.Generator
) -> pd.DataFrame:
    """One loan per approved application, disbursed shortly after the decision.

    Loans whose disbursement would fall after the last generated second do not exist yet.
    """
    approved = applications[applications["is_approved"]]
    n = len(approved)
    kind = rng.random(n)
    delay = np.where(
        kind < 0.7,
        rng.integers(60, 1800, n),
        np.where(kind < 0.95, rng.integers(1800, 6 * 3600, n), rng.integers(6 * 3600, 2 * DAY, n)),
    )
    disbursed_at = approved["decided_at"].to_numpy() + delay
    keep = disbursed_at <= timeline.end
    approved = approved[keep]
    disbursed_at = disbursed_at[keep]
    order = np.argsort(disbursed_at, kind="stable")
    approved = approved.iloc[order].reset_index(drop=True)
    disbursed_at = disbursed_at[order]
    n = len(approved)
    return pd.DataFrame(
        {
            "loan_id": [f"L{i:09d}" for i in range(1, n + 1)],
            "application_id": approved["application_id"].to_numpy(),
            "customer_id": approved["customer_id"].to_numpy(),
            "disbursed_at": disbursed_at,
            "principal_cny": approved["approved_amount_cny"].to_numpy(dtype="int64"),
            "apr": approved["apr"].to_numpy(dtype="int64"),
            "term_months": approved["term_months"].to_numpy(),
            "first_due_date": np.zeros(n, dtype="int64"),  # set with the schedule
            "customer_index": approved["customer_index"].to_numpy(),
            "default_logit": approved["default_logit"].to_numpy(),
            "true_fraud_p": approved["true_fraud_p"].to_numpy(),
            "is_fraud": approved["is_fraud"].to_numpy(),
        }
    )


def draw_defaults(loans: pd.DataFrame, intercept: float, rng: np.random.Generator) -> None:
    """Add ``credit_pd``, ``true_pd`` and the realised ``defaulted`` label in place.

    ``credit_pd`` is the chance a genuine borrower goes bad; a fraud loan is always bad, so the
    chance of the label is ``true_pd = p_fraud + (1 - p_fraud) * credit_pd``.
    """
    credit_pd = logistic(loans["default_logit"].to_numpy() + intercept)
    fraud_p = loans["true_fraud_p"].to_numpy()
    loans["credit_pd"] = credit_pd
    loans["true_pd"] = fraud_p + (1 - fraud_p) * credit_pd
    loans["defaulted"] = loans["is_fraud"].to_numpy() | (rng.random(len(loans)) < credit_pd)
