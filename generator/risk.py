"""The default-risk function and the lender's own approval scorecard.

``true_pd`` is the probability of the label "ever 30+ days past due within 6 months on book". It
is a logistic function of attributes observable in the landing files plus chance (the Bernoulli
draw itself). The behaviour terms use each customer's *latent* rates, the same rates that drive
their generated events, so a point-in-time aggregate over events before an application estimates
them. See ``docs/generator.md`` for the table of effects.

The lender's policy scorecard uses only what an origination system has at decision time (bureau,
income, requested amount, channel) plus noise standing for information the data does not carry,
so rejections correlate with risk while approved loans keep a spread of risk.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from generator.customers import logistic

CHANNELS = ("app", "h5", "partner_api", "offline_store")

#: Effects on the log-odds of going bad, all relative to the reference level.
EFFECTS: dict[str, float | tuple[float, ...]] = {
    "thin_file": 0.6,  # no bureau report
    "bureau_score_per_point": -0.016,  # per point above 640
    "bureau_dpd_30": 0.6,  # max_days_past_due_24m >= 30
    "bureau_dpd_90": 0.6,  # additionally >= 90
    "inquiries_6m": 0.1,  # per inquiry, capped at 10
    "age_under_28_per_year": 0.06,
    "age_over_50_per_year": 0.02,
    "log_income_6000": -0.6,  # per unit of ln(monthly income / 6000)
    "debt_to_income": 1.2,  # requested / (term x monthly income), capped at 2
    # junior_high_or_below, high_school, associate, bachelor, master_or_above
    "education": (0.40, 0.20, 0.0, -0.25, -0.45),
    # civil_servant, professional, office_worker, self_employed, factory_worker,
    # service_worker, gig_worker, farmer
    "occupation": (-0.6, -0.3, 0.0, 0.3, 0.15, 0.25, 0.5, 0.2),
    # app, h5, partner_api, offline_store
    "channel": (0.0, 0.2, 0.45, 0.15),
    "new_citizen": 0.2,
    "night_share": 5.0,  # per unit share of app activity 0:00-4:59 Beijing time, above 0.10
    "risky_spend_share": 4.0,  # per unit share of risky transactions, above 0.15
    "device_changes_30d": 1.5,  # per device change per 30 days, above 0.2
    "log1p_loan_apply_views_30d": 0.5,  # per unit of ln(1 + loan_apply views per 30 days)
}
TARGET_BAD_RATE = 0.15


def debt_to_income(requested_cny: np.ndarray, term_months: np.ndarray, income_cny: np.ndarray):
    """Monthly principal burden: requested amount spread over the term, over monthly income."""
    return np.asarray(requested_cny) / (np.asarray(term_months) * np.maximum(income_cny, 1.0))


def default_logit(f: pd.DataFrame) -> np.ndarray:
    """Log-odds of going bad, without the intercept.

    ``f`` has one row per application with columns: has_bureau, bureau_score,
    max_days_past_due_24m, inquiries_6m_count (NaN when thin-file), age (completed years at
    application), income_cny, dti, education_index, occupation_index, channel_index,
    is_new_citizen, night_share, risky_spend_share, device_changes_30d, loan_apply_views_30d.
    """
    e = EFFECTS
    has_bureau = f["has_bureau"].to_numpy(dtype=bool)
    score = np.nan_to_num(f["bureau_score"].to_numpy(dtype=float), nan=640.0)
    dpd = np.nan_to_num(f["max_days_past_due_24m"].to_numpy(dtype=float), nan=0.0)
    inquiries = np.nan_to_num(f["inquiries_6m_count"].to_numpy(dtype=float), nan=0.0)
    age = f["age"].to_numpy(dtype=float)
    return (
        e["thin_file"] * ~has_bureau
        + has_bureau
        * (
            e["bureau_score_per_point"] * (score - 640)
            + e["bureau_dpd_30"] * (dpd >= 30)
            + e["bureau_dpd_90"] * (dpd >= 90)
            + e["inquiries_6m"] * np.minimum(inquiries, 10)
        )
        + e["age_under_28_per_year"] * np.maximum(0, 28 - age)
        + e["age_over_50_per_year"] * np.maximum(0, age - 50)
        + e["log_income_6000"] * np.log(f["income_cny"].to_numpy(dtype=float) / 6000)
        + e["debt_to_income"] * np.minimum(f["dti"].to_numpy(dtype=float), 2.0)
        + np.asarray(e["education"])[f["education_index"].to_numpy()]
        + np.asarray(e["occupation"])[f["occupation_index"].to_numpy()]
        + np.asarray(e["channel"])[f["channel_index"].to_numpy()]
        + e["new_citizen"] * f["is_new_citizen"].to_numpy(dtype=float)
        + e["night_share"] * (f["night_share"].to_numpy() - 0.10)
        + e["risky_spend_share"] * (f["risky_spend_share"].to_numpy() - 0.15)
        + e["device_changes_30d"] * (f["device_changes_30d"].to_numpy() - 0.2)
        + e["log1p_loan_apply_views_30d"] * np.log1p(f["loan_apply_views_30d"].to_numpy())
    )


def calibrate_intercept(logit: np.ndarray, target: float = TARGET_BAD_RATE) -> float:
    """The intercept that makes the mean PD equal ``target`` (bisection; mean PD is monotone)."""
    if len(logit) == 0:
        return float(np.log(target / (1 - target)))
    low, high = -20.0, 20.0
    for _ in range(100):
        mid = (low + high) / 2
        if logistic(logit + mid).mean() < target:
            low = mid
        else:
            high = mid
    return (low + high) / 2


def policy_points(f: pd.DataFrame, noise: np.ndarray) -> np.ndarray:
    """The lender's approval scorecard (higher is better), from decision-time data only."""
    has_bureau = f["has_bureau"].to_numpy(dtype=bool)
    score = np.nan_to_num(f["bureau_score"].to_numpy(dtype=float), nan=640.0)
    dpd = np.nan_to_num(f["max_days_past_due_24m"].to_numpy(dtype=float), nan=0.0)
    inquiries = np.nan_to_num(f["inquiries_6m_count"].to_numpy(dtype=float), nan=0.0)
    return (
        600
        + np.where(has_bureau, 0.5 * (score - 640) - 40 * (dpd >= 30) - 60 * (dpd >= 90), -20)
        - 6 * np.minimum(inquiries, 10)
        - 80 * np.minimum(f["dti"].to_numpy(dtype=float), 2.0)
        + 40 * np.log(f["income_cny"].to_numpy(dtype=float) / 6000)
        + np.array([0, -5, -10, 0])[f["channel_index"].to_numpy()]
        - 10 * (f["age"].to_numpy() < 22)
        + noise
    )


def hard_rule_reject(f: pd.DataFrame) -> np.ndarray:
    """Knock-out rules applied before the scorecard."""
    dpd = np.nan_to_num(f["max_days_past_due_24m"].to_numpy(dtype=float), nan=0.0)
    return (dpd >= 180) | (f["dti"].to_numpy(dtype=float) > 1.0)
