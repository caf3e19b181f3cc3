"""A model on point-in-time aggregates gets close to the oracle AUC of the true PD."""

from __future__ import annotations

from generator.config import GeneratorConfig
from generator.core import build_data
from generator.model_check import run_check


def test_point_in_time_model_reaches_ninety_percent_of_the_oracle() -> None:
    """6,000 customers: enough fraud rings (about a dozen) that the link features can be learned."""
    data = build_data(GeneratorConfig(customers=6000, behaviour_events=600_000))
    result = run_check(data)
    assert result["matured_loans"] > 1000
    # the credit PD averages 15%; fraud loans, which never pay, add a few points
    assert 0.13 < result["bad_rate"] < 0.22
    assert 0.76 < result["oracle_auc"] < 0.88
    best = max(result["lightgbm_auc"], result["logistic_auc"])
    assert best >= 0.9 * result["oracle_auc"]
