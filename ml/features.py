"""Which columns of the training set the models may use, and why every other one is left out.

Every column of the training set is a feature except the ones :func:`select_features` excludes,
each with its reason (written to the model card): identifiers, the label and time columns;
anything ending in ``_id``, ``_token``, ``_at`` or ``_date``; the lender's own decision (APR,
approved/disbursed amount, decision), which is set from the same risk the model predicts and is
unknown when an application is scored; the protected attribute ``sex``; columns the dbt YAML marks
``meta: {ml_feature: false}`` or as C2 personal data; and any column that the scoring table
``marts.fct_application_features`` does not have, because a feature unknown at application time
(for instance anything about repayment) would leak the outcome.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from creditlake.settings import PROJECT_ROOT
from ml.data import LABEL, MONTH, TrainingDataError
from ml.models import FeatureSpec
from ml.names import FEATURES_TABLE, TRAINING_TABLE

MARTS_YAML_DIR = PROJECT_ROOT / "dbt_project" / "models" / "marts"

#: Columns that are never features, with the reason the model card gives.
EXCLUDED_COLUMNS: dict[str, str] = {
    "application_id": "identifier",
    "customer_id": "identifier",
    "loan_id": "identifier",
    LABEL: "label",
    "applied_at": "time column",
    "applied_date": "time column",
    MONTH: "time column (used for the out-of-time split)",
    "disbursed_at": "time column",
    "disbursed_date": "time column",
    "apr": "lender's decision: priced from the same risk and unknown before the decision",
    "approved_amount_cny": "lender's decision: set from the same risk, unknown before it",
    "principal_cny": "lender's decision: the disbursed (approved) amount",
    "decision": "lender's decision: the outcome the score informs",
    "sex": "protected attribute: kept for fairness reporting, never a decision input",
}
EXCLUDED_SUFFIXES: dict[str, str] = {
    "_id": "identifier",
    "_token": "tokenised personal identifier",
    "_at": "time column",
    "_date": "time column",
}


def yaml_column_meta(model_name: str, yaml_dir: Path = MARTS_YAML_DIR) -> dict[str, dict]:
    """Column ``meta`` of one dbt model from the marts YAML files (empty if none describe it).

    Both the classic ``meta:`` key and dbt 1.10's ``config: {meta: ...}`` are read.
    """
    import yaml

    found: dict[str, dict] = {}
    if not yaml_dir.is_dir():
        return found
    for path in sorted([*yaml_dir.rglob("*.yml"), *yaml_dir.rglob("*.yaml")]):
        try:
            document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as error:
            raise TrainingDataError(f"cannot parse dbt YAML {path}: {error}") from None
        for model in document.get("models", []) or []:
            if model.get("name") != model_name:
                continue
            for column in model.get("columns", []) or []:
                meta = {
                    **(column.get("meta") or {}),
                    **(column.get("config") or {}).get("meta", {}),
                }
                found[str(column.get("name"))] = meta
    return found


@dataclass(frozen=True)
class FeatureSelection:
    """The features (names and types) and every excluded column with its reason."""

    spec: FeatureSpec
    excluded: dict[str, str]


def select_features(
    frame: pd.DataFrame,
    scoring_columns: set[str] | None,
    column_meta: dict[str, dict] | None = None,
) -> FeatureSelection:
    """The feature columns of a training frame, and every excluded column with its reason."""
    excluded: dict[str, str] = {}
    column_meta = column_meta or {}
    for name in frame.columns:
        meta = column_meta.get(name, {})
        suffix = next((s for s in EXCLUDED_SUFFIXES if name.endswith(s)), None)
        if name in EXCLUDED_COLUMNS:
            excluded[name] = EXCLUDED_COLUMNS[name]
        elif suffix:
            excluded[name] = EXCLUDED_SUFFIXES[suffix]
        elif meta.get("ml_feature") is False:
            excluded[name] = str(meta.get("ml_exclusion_reason", "dbt YAML: ml_feature false"))
        elif str(meta.get("pii", "")).upper().startswith("C2"):
            excluded[name] = f"personal data ({meta['pii']}) per dbt YAML"
        elif scoring_columns is not None and name not in scoring_columns:
            excluded[name] = f"not in {FEATURES_TABLE}: unknown when an application is scored"
        elif pd.api.types.is_datetime64_any_dtype(frame[name].dtype):
            excluded[name] = "time column"
        elif frame[name].isna().all():
            excluded[name] = "always missing"
    features = [c for c in frame.columns if c not in excluded]
    if not features:
        raise TrainingDataError(f"no feature columns left in {TRAINING_TABLE}: {excluded}")
    return FeatureSelection(FeatureSpec.infer(frame, features), excluded)
