"""Customers, their hidden traits, and their credit-bureau reports.

Each customer gets observable attributes (what the LOS and the bureau deliver) and latent traits
(a risk propensity, an appetite for credit, behaviour rates) that drive both their generated
behaviour events and their default risk. The latent behaviour rates are what
:mod:`generator.risk` uses, and what point-in-time aggregates of the events estimate.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from creditlake.policy import DEFAULT_POLICY
from generator import geography as geo
from generator import identities as ids
from generator.dates import (
    DAY,
    Timeline,
    add_months,
    at_local_time,
    local_seconds,
)

EDUCATION_LEVELS = (
    "junior_high_or_below",
    "high_school",
    "associate",
    "bachelor",
    "master_or_above",
)
#: Customers are adults when they register, as the lending policy requires of every borrower.
MIN_AGE = DEFAULT_POLICY.min_borrower_age_years
_EDUCATION_SHARES = np.array([0.18, 0.27, 0.25, 0.25, 0.05])

OCCUPATIONS = (
    "civil_servant",
    "professional",
    "office_worker",
    "self_employed",
    "factory_worker",
    "service_worker",
    "gig_worker",
    "farmer",
)
# P(occupation | education), rows follow EDUCATION_LEVELS.
_OCCUPATION_GIVEN_EDUCATION = np.array(
    [
        [0.005, 0.005, 0.03, 0.17, 0.30, 0.22, 0.14, 0.13],
        [0.02, 0.02, 0.12, 0.20, 0.22, 0.22, 0.13, 0.07],
        [0.05, 0.10, 0.35, 0.15, 0.10, 0.13, 0.10, 0.02],
        [0.12, 0.25, 0.42, 0.10, 0.02, 0.04, 0.05, 0.0],
        [0.20, 0.45, 0.30, 0.05, 0.0, 0.0, 0.0, 0.0],
    ]
)
_EDUCATION_INCOME = np.array([-0.35, -0.15, 0.0, 0.25, 0.55])
_OCCUPATION_INCOME = np.array([0.15, 0.35, 0.10, 0.20, -0.05, -0.15, -0.10, -0.45])
_TIER_INCOME = {1: 0.35, 2: 0.15, 3: 0.0, 4: -0.15}
_RURAL_SHARE_BY_TIER = {1: 0.03, 2: 0.08, 3: 0.2, 4: 0.38}
#: Scale (days) of the Gamma(1.3) delay from sign-up to a first application (fraudsters: shorter).
FIRST_APPLY_SCALE_DAYS = 35.0


def logistic(x: np.ndarray | float) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.asarray(x, dtype=float)))


def _registration_times(n: int, timeline: Timeline, rng: np.random.Generator) -> np.ndarray:
    """Sign-ups grow over time (density rises linearly to 2.5x), in local daytime hours."""
    growth = 1.5
    u = rng.random(n)
    x = (np.sqrt(1 + 2 * growth * u * (1 + growth / 2)) - 1) / growth
    first_day = timeline.start // DAY
    n_days = timeline.end // DAY - first_day + 1
    day = first_day + np.minimum((x * n_days).astype("int64"), n_days - 1)
    t = at_local_time(day, local_seconds(n, rng, 0.03))
    return np.sort(np.clip(t, timeline.start, timeline.end))


def _sample_rows(probabilities: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One category index per row of a (rows x categories) probability matrix."""
    cumulative = np.cumsum(probabilities / probabilities.sum(axis=1, keepdims=True), axis=1)
    draws = rng.random(len(probabilities))[:, None]
    return np.minimum((draws > cumulative).sum(axis=1), probabilities.shape[1] - 1)


def build_customers(n: int, timeline: Timeline, rng: np.random.Generator) -> pd.DataFrame:
    """Customer master rows (landing columns) plus the latent traits, one row per customer."""
    registered_at = _registration_times(n, timeline, rng)
    registered_day = registered_at // DAY
    is_male = rng.random(n) < 0.56
    age = np.minimum(MIN_AGE + rng.gamma(2.2, 6.5, n), 65.99).astype("int64")
    # birth date so that the completed age at registration is exactly `age`
    birth_day = add_months(registered_day, -12 * age) - rng.integers(0, 365, n)

    city = rng.choice(len(geo.CITIES), size=n, p=geo.CITY_WEIGHTS)
    tier = geo.CITY_TIERS[city]
    province_code = geo.CITY_PROVINCE_CODES[city]
    is_new_citizen = rng.random(n) < logistic(
        -1.7 - 0.06 * (age - 30) + 0.7 * (tier <= 2) - 0.8 * (tier == 4)
    )
    rural_share = np.vectorize(_RURAL_SHARE_BY_TIER.get)(tier)
    is_rural = ~is_new_citizen & (rng.random(n) < rural_share)

    # Where the ID was issued: migrants mostly come from a few inland provinces.
    origins = np.array(list(geo.MIGRANT_ORIGINS))
    origin_p = np.array(list(geo.MIGRANT_ORIGINS.values()))
    migrant_origin = origins[rng.choice(len(origins), size=n, p=origin_p / origin_p.sum())]
    any_province = np.array(sorted(geo.PROVINCES))[rng.integers(0, len(geo.PROVINCES), n)]
    id_province = np.where(
        is_new_citizen,
        migrant_origin,
        np.where(rng.random(n) < 0.92, province_code, any_province),
    )
    area_code = geo.sample_area_codes(id_province, rng)

    edu_latent = (
        rng.normal(0, 1, n)
        + 0.5 * (tier == 1)
        + 0.25 * (tier == 2)
        - 0.35 * is_rural
        - 0.45 * is_new_citizen
        - 0.015 * (age - 32)
    )
    cuts = np.quantile(edu_latent, np.cumsum(_EDUCATION_SHARES)[:-1])
    education = np.searchsorted(cuts, edu_latent)

    occ_p = _OCCUPATION_GIVEN_EDUCATION[education].copy()
    occ_p[:, 7] *= np.where(is_rural, 4.0, 0.1)
    occ_p[:, 1] *= np.where(is_rural, 0.5, 1.0)
    for col, factor in ((4, 1.5), (5, 1.5), (6, 1.8), (0, 0.3)):
        occ_p[:, col] *= np.where(is_new_citizen, factor, 1.0)
    occupation = _sample_rows(occ_p, rng)

    log_income = (
        np.log(5000)
        + _EDUCATION_INCOME[education]
        + _OCCUPATION_INCOME[occupation]
        + np.vectorize(_TIER_INCOME.get)(tier)
        + 0.25 * (1 - ((age - 42) / 24) ** 2)
        + rng.normal(0, 0.4, n)
    )
    income_cny = np.maximum(np.round(np.exp(log_income) / 100) * 100, 1500).astype("int64")

    # Latent traits: risk propensity u, appetite for credit h, behaviour rates.
    u = rng.normal(0, 1, n)
    hunger = 0.45 * u + np.sqrt(1 - 0.45**2) * rng.normal(0, 1, n)
    young = age < 25
    night_share = logistic(-2.4 + 0.55 * u + 0.35 * young + 0.35 * rng.normal(0, 1, n))
    risky_share = logistic(-1.9 + 0.55 * u + 0.2 * is_male + 0.35 * rng.normal(0, 1, n))
    device_changes_30d = np.exp(-1.8 + 0.45 * u + 0.3 * rng.normal(0, 1, n))
    location_changes_30d = np.exp(-1.3 + 0.4 * rng.normal(0, 1, n))
    loan_apply_views_30d = np.exp(-0.2 + 0.6 * hunger + 0.3 * rng.normal(0, 1, n))
    activity_noise = rng.normal(0, 1, n)
    app_activity = np.exp(0.9 * activity_noise + 0.2 * (age < 30))
    spend_activity = np.exp(
        0.8 * (0.5 * activity_noise + np.sqrt(0.75) * rng.normal(0, 1, n))
        + 0.3 * np.log(income_cny / 6000)
    )
    is_ios_user = rng.random(n) < logistic(
        -0.8 + 0.9 * (np.log(income_cny) - np.log(7000)) + 0.4 * (tier == 1)
    )

    national_id = ids.national_ids(area_code, birth_day, is_male, rng)
    frame = pd.DataFrame(
        {
            "customer_id": [f"C{i:08d}" for i in range(1, n + 1)],
            "name": ids.names(is_male, rng),
            "national_id": national_id,
            "mobile": ids.mobiles(n, rng),
            "bank_card_number": ids.bank_cards(n, rng),
            "province": np.array([geo.PROVINCES[c] for c in province_code.tolist()]),
            "city": geo.CITY_NAMES[city],
            "residence_type": np.where(is_rural, "rural", "urban"),
            "is_new_citizen": is_new_citizen.astype("int64"),
            "education": np.array(EDUCATION_LEVELS)[education],
            "occupation": np.array(OCCUPATIONS)[occupation],
            "monthly_income_cny": income_cny * 100,  # fen
            "registered_at": registered_at,
            # latent and helper columns (never written to landing)
            "birth_day": birth_day,
            "is_male": is_male,
            "age_at_registration": age,
            "city_index": city,
            "tier": tier,
            "education_index": education,
            "occupation_index": occupation,
            "risk_propensity": u,
            "credit_hunger": hunger,
            "night_share": night_share,
            "risky_spend_share": risky_share,
            "device_changes_30d": device_changes_30d,
            "location_changes_30d": location_changes_30d,
            "loan_apply_views_30d": loan_apply_views_30d,
            "app_activity": app_activity,
            "spend_activity": spend_activity,
            "is_ios_user": is_ios_user,
            "first_apply_scale_days": np.full(n, FIRST_APPLY_SCALE_DAYS),
        }
    )
    return frame


def build_bureau(customers: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """One bureau report per customer with a credit history, pulled at registration.

    Thin-file customers (about 30%, more among the young, new citizens and rural residents) have
    none. Report fields follow the latent risk propensity and appetite for credit.
    """
    n = len(customers)
    age = customers["age_at_registration"].to_numpy()
    u = customers["risk_propensity"].to_numpy()
    hunger = customers["credit_hunger"].to_numpy()
    income_cny = customers["monthly_income_cny"].to_numpy() / 100
    has_report = rng.random(n) < logistic(
        1.0
        + 0.06 * (age - 30)
        - 0.9 * customers["is_new_citizen"].to_numpy()
        - 0.35 * (customers["residence_type"].to_numpy() == "rural")
        + 0.3 * (customers["education_index"].to_numpy() >= 3)
    )
    score = np.clip(np.round(640 - 70 * (0.75 * u + 0.66 * rng.normal(0, 1, n))), 350, 950)
    months_credit = (rng.uniform(0.05, 1.0, n) * (age - MIN_AGE) * 12 + 3).astype("int64")
    accounts = 1 + rng.poisson(0.6 + months_credit / 30 + 0.6 * np.exp(0.3 * hunger))
    open_loans = rng.binomial(accounts, logistic(-1.0 + 0.6 * hunger))
    balance_cny = open_loans * rng.lognormal(np.log(income_cny * 1.5), 0.8)
    any_late = rng.random(n) < logistic(-1.6 + 0.9 * u)
    bucket = _sample_rows(
        np.column_stack(
            [
                np.full(n, 0.65),
                np.full(n, 0.25) * np.exp(0.3 * u),
                np.full(n, 0.1) * np.exp(0.6 * u),
            ]
        ),
        rng,
    )
    low = np.array([1, 30, 90])[bucket]
    high = np.array([30, 90, 361])[bucket]
    max_dpd = np.where(any_late, rng.integers(low, high), 0)
    inquiries = rng.poisson(np.exp(0.2 + 0.55 * hunger))

    keep = np.flatnonzero(has_report)
    reported_at = customers["registered_at"].to_numpy()[keep] + rng.integers(20, 600, n)[keep]
    return pd.DataFrame(
        {
            "report_id": [f"BR{i:09d}" for i in range(1, len(keep) + 1)],
            "customer_id": customers["customer_id"].to_numpy()[keep],
            "reported_at": reported_at,
            "bureau_score": score[keep].astype("int64"),
            "credit_accounts_count": accounts[keep].astype("int64"),
            "open_loans_count": open_loans[keep].astype("int64"),
            "outstanding_balance_cny": np.round(balance_cny[keep] * 100).astype("int64"),
            "max_days_past_due_24m": max_dpd[keep].astype("int64"),
            "inquiries_6m_count": inquiries[keep].astype("int64"),
            "months_since_first_credit": months_credit[keep],
            "customer_index": keep,
        }
    )
