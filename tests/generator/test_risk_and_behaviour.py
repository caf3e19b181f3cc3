"""The risk function's shape, and behaviour events that carry the latent rates they come from."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from generator import risk
from generator.config import GeneratorConfig
from generator.core import build_data
from generator.customers import logistic
from generator.dates import BEIJING_OFFSET, DAY, HOUR


@pytest.fixture(scope="module")
def data():
    return build_data(GeneratorConfig(customers=1500, behaviour_events=300_000, seed=11))


def _features(**changes) -> pd.DataFrame:
    base = {
        "has_bureau": True,
        "bureau_score": 640.0,
        "max_days_past_due_24m": 0.0,
        "inquiries_6m_count": 0.0,
        "age": 35,
        "income_cny": 6000.0,
        "dti": 0.0,
        "education_index": 2,
        "occupation_index": 2,
        "channel_index": 0,
        "is_new_citizen": 0,
        "night_share": 0.10,
        "risky_spend_share": 0.15,
        "device_changes_30d": 0.2,
        "loan_apply_views_30d": 0.0,
    }
    base.update(changes)
    return pd.DataFrame([base])


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"has_bureau": False, "bureau_score": np.nan}, risk.EFFECTS["thin_file"]),
        ({"bureau_score": 740.0}, 100 * risk.EFFECTS["bureau_score_per_point"]),
        (
            {"max_days_past_due_24m": 95.0},
            risk.EFFECTS["bureau_dpd_30"] + risk.EFFECTS["bureau_dpd_90"],
        ),
        ({"inquiries_6m_count": 25.0}, 10 * risk.EFFECTS["inquiries_6m"]),
        ({"age": 20}, 8 * risk.EFFECTS["age_under_28_per_year"]),
        ({"income_cny": 6000.0 * np.e}, risk.EFFECTS["log_income_6000"]),
        ({"dti": 5.0}, 2 * risk.EFFECTS["debt_to_income"]),
        ({"channel_index": 2}, risk.EFFECTS["channel"][2]),
        ({"night_share": 0.30}, 0.2 * risk.EFFECTS["night_share"]),
        ({"loan_apply_views_30d": np.e - 1}, risk.EFFECTS["log1p_loan_apply_views_30d"]),
    ],
)
def test_each_effect_moves_the_log_odds_by_its_coefficient(change: dict, expected: float) -> None:
    delta = risk.default_logit(_features(**change))[0] - risk.default_logit(_features())[0]
    assert delta == pytest.approx(expected)


def test_reference_customer_has_zero_log_odds_before_the_intercept() -> None:
    assert risk.default_logit(_features())[0] == pytest.approx(0.0)


def test_intercept_calibration_hits_the_target() -> None:
    logits = np.random.default_rng(0).normal(0, 1.5, 10_000)
    b0 = risk.calibrate_intercept(logits, 0.15)
    assert logistic(logits + b0).mean() == pytest.approx(0.15, abs=1e-9)


def test_risk_and_policy_behave_like_a_lender(data) -> None:
    apps, loans = data.applications, data.loans
    assert 0.5 < apps["is_approved"].mean() < 0.7
    # rejections are riskier on average, approvals still spread
    assert apps.loc[~apps["is_approved"], "true_pd"].mean() > 2 * loans["true_pd"].mean()
    assert loans["true_pd"].quantile(0.9) > 3 * loans["true_pd"].quantile(0.1)
    assert (loans["apr"] <= 2400).all()  # no defect rate: nothing above the cap
    approved = apps[apps["is_approved"]]
    assert (approved["approved_amount_cny"] <= approved["requested_amount_cny"]).all()
    assert apps.loc[~apps["is_approved"], ["approved_amount_cny", "apr"]].isna().all().all()
    assert (apps["decided_at"] // DAY == apps["applied_at"] // DAY).all()
    assert abs(len(apps) / len(data.customers) - 1.5) < 0.05


def test_behaviour_volume_matches_the_budget(data) -> None:
    total = len(data.app_events) + len(data.transactions)
    assert total == pytest.approx(300_000, rel=0.05)
    assert data.app_events["event_at"].is_monotonic_increasing
    registered = data.customers["registered_at"].to_numpy()[data.app_events["customer_index"]]
    assert (data.app_events["event_at"].to_numpy() > registered).all()


def test_point_in_time_aggregates_recover_latent_rates(data) -> None:
    customers, events, tx = data.customers, data.app_events, data.transactions
    local_hour = ((events["event_at"].to_numpy() + BEIJING_OFFSET) % DAY) // HOUR
    per_customer = (
        pd.DataFrame({"c": events["customer_index"].to_numpy(), "night": local_hour < 5})
        .groupby("c")["night"]
        .agg(["mean", "size"])
    )
    busy = per_customer[per_customer["size"] >= 40]
    latent = customers["night_share"].to_numpy()[busy.index]
    assert np.corrcoef(busy["mean"], latent)[0, 1] > 0.6

    risky = np.isin(
        tx["category"].astype(str), ["online_gaming", "cash_withdrawal", "p2p_transfer"]
    )
    spend = (
        pd.DataFrame({"c": tx["customer_index"].to_numpy(), "risky": risky})
        .groupby("c")["risky"]
        .agg(["mean", "size"])
    )
    busy = spend[spend["size"] >= 40]
    latent = customers["risky_spend_share"].to_numpy()[busy.index]
    assert np.corrcoef(busy["mean"], latent)[0, 1] > 0.6

    views = events[events["page"].astype(object) == "loan_apply"].groupby("customer_index").size()
    days = (data.timeline.end - customers["registered_at"].to_numpy()) / DAY
    rate = views.reindex(range(len(customers)), fill_value=0).to_numpy() / days * 30
    long_known = days > 180
    assert np.corrcoef(rate[long_known], customers["loan_apply_views_30d"][long_known])[0, 1] > 0.6


def test_application_device_is_the_one_in_use(data) -> None:
    apps, events = data.applications, data.app_events
    ev = pd.DataFrame(
        {
            "c": events["customer_index"].to_numpy(),
            "t": events["event_at"].to_numpy(),
            "device": events["device_id"].astype(str).to_numpy(),
        }
    ).sort_values("t")
    ap = pd.DataFrame(
        {"c": apps["customer_index"], "t": apps["applied_at"] - 1, "device": apps["device_id"]}
    ).sort_values("t")
    last = pd.merge_asof(ap, ev, on="t", by="c", suffixes=("", "_event"), direction="backward")
    known = last["device_event"].notna()
    assert known.mean() > 0.9
    assert (last.loc[known, "device"] == last.loc[known, "device_event"]).all()


def test_transactions_look_like_spending(data) -> None:
    tx = data.transactions
    categories = tx["category"].astype(str)
    assert (tx["amount_cny"] > 0).all()
    p2p = categories == "p2p_transfer"
    assert tx.loc[p2p, "merchant_name"].isna().all()
    assert tx.loc[~p2p, "merchant_name"].notna().all()
    medians = tx.groupby(categories)["amount_cny"].median()
    assert medians["luxury"] > medians["electronics"] > medians["groceries"]


def test_documented_risk_function_matches_the_code() -> None:
    """docs/generator.md and the package docstring print the coefficients the code uses."""
    import generator as package
    from creditlake.settings import PROJECT_ROOT

    e = risk.EFFECTS
    expected = [
        f"+ {e['thin_file']:.2f} * thin_file",
        f"- {-e['bureau_score_per_point']:.3f} * (bureau_score - 640)",
        f"+ {e['bureau_dpd_30']:.2f} * [max_days_past_due_24m >= 30]",
        f"+ {e['bureau_dpd_90']:.2f} * [max_days_past_due_24m >= 90]",
        f"+ {e['inquiries_6m']:.2f} * min(inquiries_6m_count, 10)",
        f"+ {e['age_under_28_per_year']:.2f} * max(0, 28 - age)",
        f"+ {e['age_over_50_per_year']:.2f} * max(0, age - 50)",
        f"- {-e['log_income_6000']:.2f} * ln(monthly_income_cny / 6000)",
        f"+ {e['debt_to_income']:.2f} * min(requested_amount_cny",
        f"+ {e['new_citizen']:.2f} * is_new_citizen",
        f"+ {e['night_share']:.1f} * (night_share - 0.10)",
        f"+ {e['risky_spend_share']:.1f} * (risky_spend_share - 0.15)",
        f"+ {e['device_changes_30d']:.1f} * (device_changes_30d - 0.2)",
        f"+ {e['log1p_loan_apply_views_30d']:.1f} * ln(1 + loan_apply_views_30d)",
        f"partner_api +{e['channel'][2]:.2f}",
        f"gig_worker +{e['occupation'][6]:.2f}",
        f"master_or_above {e['education'][4]:.2f}",
    ]
    docs = (PROJECT_ROOT / "docs" / "generator.md").read_text(encoding="utf-8")
    for text in (docs, package.__doc__):
        flat = " ".join(text.split())
        for snippet in expected:
            assert snippet in flat, snippet
