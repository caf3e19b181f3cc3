"""The decision strategy: approve, refer or decline each scored application, with limit and price.

A score decides nothing by itself; a lender's strategy turns it into a decision the lending
policy (:class:`creditlake.policy.Policy`, read from settings) allows. For each application
scored on a day, in this order (the first rule that applies decides):

1. **policy knock-outs** (decline): younger than the minimum borrowing age (``P01``); no declared
   income (``P02``);
2. **fraud** (the ``fraud`` champion's probability of a first-payment default): decline at
   :attr:`Strategy.fraud_decline` (``F01``), refer for identity checks at
   :attr:`Strategy.fraud_refer` (``F02``); with no fraud champion every application is referred
   (``F00``): an unscreened application is never approved automatically;
3. **credit** (the ``credit_pd`` champion's PD): decline at :attr:`Strategy.pd_decline`
   (``C01``), refer at :attr:`Strategy.pd_refer` (``C02``);
4. **affordability**: the credit limit is the smallest of the amount requested, a multiple of
   monthly income that shrinks with risk, the policy's unsecured limit, and the room left under
   the policy's debt-to-income limit after the applicant's bureau debt; below
   :attr:`Strategy.min_limit_cny` the application is declined (``P03``);
5. otherwise **approve**, priced at ``base_apr + apr_per_pd × PD``, never above the policy's cap.

Every decline and refer carries its rule's code and the model's top adverse factors (the
features that raised the applicant's risk most, :meth:`ml.models.FittedPDModel.adverse_factors`),
with a sentence a customer could be told: the code's text and the factors' descriptions from the
dbt documentation of ``marts.fct_application_features``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from creditlake.policy import Policy

APPROVE, REFER, DECLINE = "approve", "refer", "decline"
#: Every reason code a decision can carry, with the sentence an applicant is told.
REASON_CODES: dict[str, str] = {
    "P01": "the applicant is younger than the minimum borrowing age",
    "P02": "no income was declared",
    "P03": "existing debt leaves no room for new credit within the debt-to-income limit",
    "F00": "the application could not be screened for fraud",
    "F01": "the application matches patterns of fraud",
    "F02": "the applicant's identity needs to be verified",
    "C01": "the predicted risk of default is above what the lender accepts",
    "C02": "the predicted risk of default needs a manual review",
}
#: The dbt model whose column descriptions explain the adverse factors.
FEATURES_NODE = "model.creditlake.fct_application_features"
STRATEGY_VERSION = "2026-11-a"
#: What the policy rules read of an application (bureau debt is optional: thin files have none).
REQUIRED_COLUMNS = ("age_at_application_years", "monthly_income_cny", "requested_amount_cny")


@dataclass(frozen=True)
class Strategy:
    """Cut-offs, pricing and sizing of the reference strategy (see the module docstring).

    The cut-offs are set on the demo's score distribution: about half of applications approved,
    a sixth referred; about one in eight referred or declined for fraud.
    """

    pd_refer: float = 0.20
    pd_decline: float = 0.30
    fraud_refer: float = 0.30
    fraud_decline: float = 0.60
    base_apr: float = 0.10  # funding and operating cost
    apr_per_pd: float = 0.50  # risk premium per unit of PD
    #: (PD below, income multiple): the credit line as months of declared income.
    income_multiples: tuple[tuple[float, float], ...] = ((0.05, 6.0), (0.10, 4.0), (0.15, 3.0))
    default_income_multiple: float = 2.0
    min_limit_cny: float = 500.0
    limit_step_cny: float = 100.0


REFERENCE_STRATEGY = Strategy()


def column_descriptions(manifest_path: Path, node_id: str = FEATURES_NODE) -> dict[str, str]:
    """Column descriptions of a dbt model from the manifest; empty when it cannot be read.

    Descriptions only make the reason text readable; a missing manifest leaves the feature names.
    """
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    node = (manifest.get("nodes") or {}).get(node_id) or {}
    return {
        str(column.get("name", key)): str(column.get("description") or "").strip()
        for key, column in (node.get("columns") or {}).items()
    }


def _factors(text: object) -> list[str]:
    return [f for f in str(text or "").split(";") if f]


def _reason_text(codes: list[str], factors: list[str], descriptions: dict[str, str]) -> str:
    parts = [REASON_CODES[code] for code in codes]
    parts += [descriptions.get(f) or f.replace("_", " ") for f in factors]
    return "; ".join(parts)


def credit_limits(
    applications: pd.DataFrame, pd_values: np.ndarray, policy: Policy, strategy: Strategy
) -> np.ndarray:
    """The largest line the strategy and the policy allow each applicant (0 when there is none)."""
    income = pd.to_numeric(applications["monthly_income_cny"], errors="coerce").to_numpy(float)
    multiple = np.full(len(pd_values), strategy.default_income_multiple)
    for below, value in reversed(strategy.income_multiples):
        multiple = np.where(pd_values < below, value, multiple)
    bureau = applications.get("bureau_outstanding_balance_cny")
    bureau_debt = (
        np.zeros(len(applications))
        if bureau is None
        else np.nan_to_num(pd.to_numeric(bureau, errors="coerce").to_numpy(float), nan=0.0)
    )
    requested = pd.to_numeric(applications["requested_amount_cny"], errors="coerce")
    limit = np.minimum.reduce(
        [
            requested.to_numpy(float),
            multiple * income,
            np.full(len(income), policy.credit_limit_cny),
            policy.max_debt_to_income * 12 * income - bureau_debt,
        ]
    )
    limit = np.floor(np.nan_to_num(limit, nan=0.0) / strategy.limit_step_cny)
    return np.maximum(limit * strategy.limit_step_cny, 0.0)


def _model_rows(scores: pd.DataFrame, name: str, keys: pd.Series) -> pd.DataFrame | None:
    rows = scores[scores["model_name"] == name]
    if rows.empty:
        return None
    return rows.set_index("application_id").reindex(keys.to_numpy())


def decide(
    applications: pd.DataFrame,
    scores: pd.DataFrame,
    policy: Policy,
    decided_date: object,
    *,
    strategy: Strategy = REFERENCE_STRATEGY,
    descriptions: dict[str, str] | None = None,
) -> pd.DataFrame:
    """One decision per application of ``applications`` (rows of the features mart).

    ``scores`` has one row per application and model (``application_id``, ``model_name``,
    ``pd``, ``reasons``, ``model_version``); the ``credit_pd`` rows are required, ``fraud`` is
    used when present. Vectorised: the rules are column expressions, the first that holds wins.
    """
    descriptions = descriptions or {}
    missing = [c for c in REQUIRED_COLUMNS if c not in applications.columns]
    if missing:
        raise ValueError(
            f"applications lack the columns a decision needs: {', '.join(missing)} "
            f"(they come from {FEATURES_NODE.split('.')[-1]})"
        )
    if applications.empty:
        return pd.DataFrame(columns=DECISION_COLUMNS)
    keys = applications["application_id"]
    credit = _model_rows(scores, "credit_pd", keys)
    if credit is None or credit["pd"].isna().any():
        raise ValueError("every application needs a credit_pd score before it can be decided")
    fraud = _model_rows(scores, "fraud", keys)
    pd_values = credit["pd"].to_numpy(float)
    fraud_pd = fraud["pd"].to_numpy(float) if fraud is not None else np.full(len(keys), np.nan)
    age = pd.to_numeric(applications["age_at_application_years"], errors="coerce").to_numpy(float)
    income = pd.to_numeric(applications["monthly_income_cny"], errors="coerce").to_numpy(float)
    limits = credit_limits(applications, pd_values, policy, strategy)
    rules = [
        ("P01", np.isnan(age) | (age < policy.min_borrower_age_years)),
        ("P02", np.isnan(income) | (income <= 0)),
        ("F00", np.full(len(keys), fraud is None)),
        ("F01", fraud_pd >= strategy.fraud_decline),
        ("F02", fraud_pd >= strategy.fraud_refer),
        ("C01", pd_values >= strategy.pd_decline),
        ("C02", pd_values >= strategy.pd_refer),
        ("P03", limits < strategy.min_limit_cny),
    ]
    code = np.select([held for _, held in rules], [c for c, _ in rules], default="")
    decision = np.where(
        code == "", APPROVE, np.where(np.isin(code, ["F00", "F02", "C02"]), REFER, DECLINE)
    )
    credit_reasons = credit["reasons"].fillna("").astype(str).to_numpy()
    fraud_reasons = (
        fraud["reasons"].fillna("").astype(str).to_numpy()
        if fraud is not None
        else np.full(len(keys), "")
    )
    factor_text = np.where(
        np.isin(code, ["F01", "F02"]),
        fraud_reasons,
        np.where(np.isin(code, ["C01", "C02", "P03"]), credit_reasons, ""),
    )
    codes = [[c] if c else [] for c in code.tolist()]
    factors = [_factors(text) for text in factor_text.tolist()]
    approved = decision == APPROVE
    apr = np.minimum(policy.apr_cap, strategy.base_apr + strategy.apr_per_pd * pd_values)
    return pd.DataFrame(
        {
            "application_id": keys.to_numpy(),
            "decision": decision,
            "credit_limit_cny": np.where(approved, np.round(limits, 2), np.nan),
            "apr": np.where(approved, np.floor(apr * 10_000) / 10_000, np.nan),
            "credit_pd": pd_values,
            "fraud_pd": fraud_pd,
            "reason_codes": codes,
            "adverse_factors": factors,
            "reason_text": [
                _reason_text(c, f, descriptions) for c, f in zip(codes, factors, strict=True)
            ],
            "credit_model_version": credit["model_version"].astype("int64").to_numpy(),
            "fraud_model_version": (
                fraud["model_version"].astype("Int64").to_numpy()
                if fraud is not None
                else pd.array([None] * len(keys), dtype="Int64")
            ),
            "strategy_version": STRATEGY_VERSION,
            "decided_date": decided_date,
        },
        columns=DECISION_COLUMNS,
    )


DECISION_COLUMNS = [
    "application_id",
    "decision",
    "credit_limit_cny",
    "apr",
    "credit_pd",
    "fraud_pd",
    "reason_codes",
    "adverse_factors",
    "reason_text",
    "credit_model_version",
    "fraud_model_version",
    "strategy_version",
    "decided_date",
]


def decision_counts(decisions: pd.DataFrame) -> dict[str, int]:
    """Applications per decision."""
    return {str(d): int(n) for d, n in decisions["decision"].value_counts().items()}
