"""The decision strategy: every rule, its reason code, and the policy on every approval."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from creditlake.policy import Policy
from ml.decisions import REASON_CODES, Strategy, decide

DAY = dt.date(2026, 1, 4)
POLICY = Policy()


def _applications(**columns) -> pd.DataFrame:
    n = len(next(iter(columns.values())))
    base = {
        "application_id": [f"A{i}" for i in range(n)],
        "age_at_application_years": [30] * n,
        "monthly_income_cny": [8000.0] * n,
        "requested_amount_cny": [20000.0] * n,
        "bureau_outstanding_balance_cny": [0.0] * n,
    }
    return pd.DataFrame({**base, **columns})


def _scores(applications: pd.DataFrame, credit: list[float], fraud: list[float] | None):
    rows = [
        {
            "application_id": key,
            "model_name": "credit_pd",
            "pd": p,
            "model_version": 3,
            "reasons": "inquiries_6m_count;bureau_score",
        }
        for key, p in zip(applications["application_id"], credit, strict=True)
    ]
    if fraud is not None:
        rows += [
            {
                "application_id": key,
                "model_name": "fraud",
                "pd": p,
                "model_version": 2,
                "reasons": "device_shared_applications_30d_count",
            }
            for key, p in zip(applications["application_id"], fraud, strict=True)
        ]
    return pd.DataFrame(rows)


def test_each_rule_gives_its_decision_code_and_reasons() -> None:
    apps = _applications(
        age_at_application_years=[17, 30, 30, 30, 30, 30, 30, 30],
        monthly_income_cny=[8000.0, None, 8000.0, 8000.0, 8000.0, 8000.0, 8000.0, 8000.0],
        bureau_outstanding_balance_cny=[0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 96_000.0, 0.0],
    )
    scores = _scores(
        apps,
        credit=[0.01, 0.01, 0.01, 0.01, 0.40, 0.25, 0.04, 0.04],
        fraud=[0.0, 0.0, 0.70, 0.40, 0.0, 0.0, 0.0, 0.0],
    )
    decisions = decide(apps, scores, POLICY, DAY, descriptions={"bureau_score": "Bureau score."})
    assert decisions["reason_codes"].tolist() == [
        ["P01"],
        ["P02"],
        ["F01"],
        ["F02"],
        ["C01"],
        ["C02"],
        ["P03"],  # 96,000 of bureau debt fills a year of 8,000 a month: no room
        [],
    ]
    assert decisions["decision"].tolist() == [
        "decline",
        "decline",
        "decline",
        "refer",
        "decline",
        "refer",
        "decline",
        "approve",
    ]
    assert decisions.loc[2, "adverse_factors"] == ["device_shared_applications_30d_count"]
    assert decisions.loc[4, "adverse_factors"] == ["inquiries_6m_count", "bureau_score"]
    assert decisions.loc[4, "reason_text"] == (
        f"{REASON_CODES['C01']}; inquiries 6m count; Bureau score."
    )
    approved = decisions.loc[7]
    # PD 4%: a line of six months' income (48,000) covers the 20,000 requested
    assert approved["credit_limit_cny"] == 20_000.0
    assert approved["apr"] == pytest.approx(0.10 + 0.5 * 0.04)
    assert decisions.loc[:6, "credit_limit_cny"].isna().all()


def test_without_a_fraud_champion_nothing_is_approved() -> None:
    apps = _applications(age_at_application_years=[30, 30])
    decisions = decide(apps, _scores(apps, [0.01, 0.5], None), POLICY, DAY)
    assert decisions["reason_codes"].tolist() == [["F00"], ["F00"]]
    assert set(decisions["decision"]) == {"refer"}
    assert decisions["fraud_model_version"].isna().all()


def test_limits_shrink_with_risk_and_respect_every_cap() -> None:
    apps = _applications(
        monthly_income_cny=[50_000.0, 50_000.0, 3000.0],
        requested_amount_cny=[500_000.0, 500_000.0, 50_000.0],
        bureau_outstanding_balance_cny=[0.0, 0.0, 30_000.0],
    )
    decisions = decide(apps, _scores(apps, [0.01, 0.12, 0.01], [0.0, 0.0, 0.0]), POLICY, DAY)
    # the policy's unsecured limit, then 3 months of income at PD 12%, then the DTI room
    assert decisions["credit_limit_cny"].tolist() == [200_000.0, 150_000.0, 6000.0]


def test_no_approval_breaks_the_policy_on_random_applications() -> None:
    rng = np.random.default_rng(5)
    n = 2000
    apps = _applications(
        age_at_application_years=rng.integers(16, 70, n),
        monthly_income_cny=np.where(rng.random(n) < 0.05, np.nan, rng.lognormal(8.8, 0.6, n)),
        requested_amount_cny=rng.lognormal(9.5, 1.0, n).round(-2),
        bureau_outstanding_balance_cny=np.where(
            rng.random(n) < 0.4, np.nan, rng.lognormal(10, 1, n)
        ),
    )
    policy = Policy(apr_cap=0.18, credit_limit_cny=50_000.0)
    strategy = Strategy(base_apr=0.12)
    decisions = decide(
        apps,
        _scores(apps, list(rng.beta(1, 5, n)), list(rng.beta(1, 12, n))),
        policy,
        DAY,
        strategy=strategy,
    )
    approved = decisions["decision"] == "approve"
    assert 0.2 < approved.mean() < 0.9
    ok = apps[approved.to_numpy()]
    limits = decisions.loc[approved, "credit_limit_cny"].to_numpy()
    assert (ok["age_at_application_years"] >= policy.min_borrower_age_years).all()
    assert (decisions.loc[approved, "apr"] <= policy.apr_cap).all()
    assert (limits <= policy.credit_limit_cny).all() and (limits >= strategy.min_limit_cny).all()
    assert (limits <= ok["requested_amount_cny"].to_numpy()).all()
    debt = ok["bureau_outstanding_balance_cny"].fillna(0).to_numpy()
    income = ok["monthly_income_cny"].to_numpy()
    assert ((limits + debt) / (12 * income) <= policy.max_debt_to_income + 1e-9).all()
    refused = decisions[~approved]
    assert refused["reason_codes"].map(len).min() == 1
    assert refused["reason_text"].str.len().min() > 0


def test_missing_columns_are_named() -> None:
    apps = _applications(age_at_application_years=[30]).drop(columns=["requested_amount_cny"])
    with pytest.raises(ValueError, match="requested_amount_cny"):
        decide(apps, _scores(apps, [0.1], [0.1]), POLICY, DAY)
