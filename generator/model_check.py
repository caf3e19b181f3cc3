"""Can a model recover the generator's risk from point-in-time aggregates? A quick check.

The generator's ``true_pd`` is built from latent behaviour rates and hidden fraud; the platform
only ever sees the events those rates produce and the links fraud leaves (shared devices, IPs and
mobiles, a short tenure). This check rebuilds application features the way the warehouse would
(strictly before each application's ``applied_at``), fits LightGBM and a logistic regression on
the earlier matured loans and scores the later ones, and compares the AUC with the oracle AUC of
``true_pd`` on the same loans. Run it with ``python -m generator.model_check``.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import pandas as pd

from generator.config import GeneratorConfig
from generator.core import build_data
from generator.data import GeneratedData
from generator.dates import BEIJING_OFFSET, DAY, HOUR
from generator.truth import auc_or_none, matured_mask

_SHIFT = 1 << 32
WINDOW_DAYS = 30
RISKY = ("online_gaming", "cash_withdrawal", "p2p_transfer")


def _counts_before(
    owner: np.ndarray, t: np.ndarray, flags: dict[str, np.ndarray], who: np.ndarray, at: np.ndarray
) -> dict[str, np.ndarray]:
    """Per (who, at): number of rows and of flagged rows with owner == who and t < at."""
    order = np.lexsort((t, owner))
    keys = owner[order].astype("int64") * _SHIFT + t[order]
    start = np.searchsorted(keys, who.astype("int64") * _SHIFT, side="left")
    stop = np.searchsorted(keys, who.astype("int64") * _SHIFT + at, side="left")
    out = {"n": stop - start}
    for name, flag in flags.items():
        cumulative = np.concatenate([[0], np.cumsum(flag[order])])
        out[name] = cumulative[stop] - cumulative[start]
    return out


def _shared_before(data: GeneratedData, applications: pd.DataFrame, key: str) -> np.ndarray:
    """Per application: other customers' applications with the same ``key`` strictly before it."""
    columns = [key, "customer_index", "applied_at"]
    pairs = (
        applications[columns]
        .reset_index(drop=True)
        .reset_index()
        .merge(data.applications[columns], on=key, suffixes=("", "_other"))
    )
    pairs = pairs[
        (pairs["customer_index_other"] != pairs["customer_index"])
        & (pairs["applied_at_other"] < pairs["applied_at"])
    ]
    counts = pairs.groupby("index").size()
    return counts.reindex(range(len(applications)), fill_value=0).to_numpy()


def _mobile_shared_before(data: GeneratedData, applications: pd.DataFrame) -> np.ndarray:
    """Per application: other customers registered before it with the applicant's mobile."""
    customers = data.customers[["mobile", "registered_at"]].reset_index(names="other")
    own = data.customers["mobile"].to_numpy()[applications["customer_index"].to_numpy()]
    pairs = (
        pd.DataFrame(
            {
                "mobile": own,
                "customer_index": applications["customer_index"].to_numpy(),
                "applied_at": applications["applied_at"].to_numpy(),
            }
        )
        .reset_index()
        .merge(customers, on="mobile")
    )
    pairs = pairs[
        (pairs["other"] != pairs["customer_index"]) & (pairs["registered_at"] < pairs["applied_at"])
    ]
    counts = pairs.groupby("index").size()
    return counts.reindex(range(len(applications)), fill_value=0).to_numpy()


def point_in_time_features(data: GeneratedData, applications: pd.DataFrame) -> pd.DataFrame:
    """Features of each application from landing-visible columns dated before ``applied_at``."""
    customers = data.customers
    who = applications["customer_index"].to_numpy()
    at = applications["applied_at"].to_numpy()
    cust = customers.iloc[who].reset_index(drop=True)

    national_id = cust["national_id"].astype(str)
    birth = pd.to_datetime(national_id.str.slice(6, 14), format="%Y%m%d")
    applied = pd.to_datetime(at, unit="s")
    age = (applied.year - birth.dt.year) - (
        (applied.month < birth.dt.month)
        | ((applied.month == birth.dt.month) & (applied.day < birth.dt.day))
    ).astype(int)
    income = cust["monthly_income_cny"].to_numpy() / 100
    requested = applications["requested_amount_cny"].to_numpy() / 100
    term = applications["term_months"].to_numpy()

    bureau = data.bureau_reports.set_index("customer_id")
    b = bureau.reindex(cust["customer_id"])
    ev = data.app_events
    ev_owner = ev["customer_index"].to_numpy()
    ev_t = ev["event_at"].to_numpy()
    local_hour = ((ev_t + BEIJING_OFFSET) % DAY) // HOUR
    kind = ev["event_type"].to_numpy()
    all_time = _counts_before(
        ev_owner,
        ev_t,
        {
            "night": local_hour < 5,
            "device_change": kind == "device_change",
            "location_change": kind == "location_change",
        },
        who,
        at,
    )
    recent = _counts_before(
        ev_owner,
        ev_t,
        {"loan_apply": (ev["page"].to_numpy() == "loan_apply")},
        who,
        at,
    )
    recent_start = _counts_before(
        ev_owner,
        ev_t,
        {"loan_apply": (ev["page"].to_numpy() == "loan_apply")},
        who,
        at - WINDOW_DAYS * DAY,
    )
    tx = data.transactions
    spend = _counts_before(
        tx["customer_index"].to_numpy(),
        tx["transacted_at"].to_numpy(),
        {"risky": np.isin(tx["category"].to_numpy(), RISKY)},
        who,
        at,
    )
    days_known = np.maximum((at - cust["registered_at"].to_numpy()) / DAY, 1.0)
    features = pd.DataFrame(
        {
            "age": age.to_numpy(),
            "income": income,
            "dti": requested / (term * income),
            "requested": requested,
            "term": term,
            "education": cust["education"].astype("category").cat.codes.to_numpy(),
            "occupation": cust["occupation"].astype("category").cat.codes.to_numpy(),
            "is_new_citizen": cust["is_new_citizen"].to_numpy(),
            "is_rural": (cust["residence_type"] == "rural").to_numpy().astype(int),
            "channel": applications["channel"].astype("category").cat.codes.to_numpy(),
            "product": applications["product"].astype("category").cat.codes.to_numpy(),
            "has_bureau": b["bureau_score"].notna().to_numpy().astype(int),
            "bureau_score": b["bureau_score"].to_numpy(dtype=float),
            "max_dpd_24m": b["max_days_past_due_24m"].to_numpy(dtype=float),
            "inquiries_6m": b["inquiries_6m_count"].to_numpy(dtype=float),
            "open_loans": b["open_loans_count"].to_numpy(dtype=float),
            "night_share": all_time["night"] / np.maximum(all_time["n"], 1),
            "app_events": all_time["n"],
            "device_changes_30d": all_time["device_change"] / days_known * 30,
            "loan_apply_views_30d": recent["loan_apply"] - recent_start["loan_apply"],
            "risky_share": spend["risky"] / np.maximum(spend["n"], 1),
            "transactions": spend["n"],
            # fraud signals: a short tenure, and links to other customers
            "tenure_days": days_known,
            "device_shared": _shared_before(data, applications, "device_id"),
            "ip_shared": _shared_before(data, applications, "ip_address"),
            "mobile_shared": _mobile_shared_before(data, applications),
        }
    )
    return features


def run_check(data: GeneratedData) -> dict:
    """AUCs of LightGBM and logistic regression vs the oracle on later matured loans."""
    import lightgbm as lgb
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    loans = data.loans
    matured = matured_mask(loans, data.timeline)
    apps = data.applications.set_index("application_id")
    loan_apps = apps.loc[loans["application_id"]].reset_index()
    x = point_in_time_features(data, loan_apps)[matured].reset_index(drop=True)
    y = loans["defaulted"].to_numpy()[matured]
    pd_true = loans["true_pd"].to_numpy()[matured]
    split = int(len(x) * 0.6)  # loans are in disbursement order: train early, test late
    test = slice(split, None)
    booster = lgb.LGBMClassifier(
        n_estimators=300,
        learning_rate=0.03,
        num_leaves=15,
        min_child_samples=40,
        subsample=0.8,
        subsample_freq=1,
        colsample_bytree=0.8,
        reg_lambda=1.0,
        random_state=0,
        n_jobs=2,
        verbose=-1,
    )
    booster.fit(x[:split], y[:split])
    lgb_auc = auc_or_none(booster.predict_proba(x[test])[:, 1], y[test])
    xl = x.copy()
    xl["bureau_score"] = xl["bureau_score"].fillna(640)
    xl = xl.fillna(0)
    xl["log_income"] = np.log(xl["income"])
    xl["log_loan_apply"] = np.log1p(xl["loan_apply_views_30d"])
    xl["log_tenure"] = np.log(xl["tenure_days"])
    xl["linked"] = (xl["device_shared"] + xl["ip_shared"] + xl["mobile_shared"] > 0).astype(float)
    xl = pd.get_dummies(xl, columns=["education", "occupation", "channel"], dtype=float)
    logit = make_pipeline(StandardScaler(), LogisticRegression(C=0.5, max_iter=2000))
    logit.fit(xl[:split], y[:split])
    logit_auc = auc_or_none(logit.predict_proba(xl[test])[:, 1], y[test])
    oracle = auc_or_none(pd_true[test], y[test])
    best = max(a for a in (lgb_auc, logit_auc) if a is not None)
    return {
        "matured_loans": int(matured.sum()),
        "train_loans": split,
        "test_loans": len(x) - split,
        "bad_rate": round(float(y.mean()), 4),
        "oracle_auc": round(oracle, 4),
        "lightgbm_auc": round(lgb_auc, 4),
        "logistic_auc": round(logit_auc, 4),
        "best_over_oracle": round(best / oracle, 4),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--behaviour-events", type=int, default=2_000_000)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    data = build_data(
        GeneratorConfig(
            customers=args.customers, behaviour_events=args.behaviour_events, seed=args.seed
        )
    )
    result = run_check(data)
    result["seconds"] = round(time.perf_counter() - started, 1)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
