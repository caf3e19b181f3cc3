"""Which columns of the training set the models may use, and why every other one is left out.

Every column of the training set is a feature except the ones :func:`select_features` excludes,
each with its reason (written to the model card): identifiers, the label and time columns;
anything ending in ``_id``, ``_token``, ``_at`` or ``_date``; the lender's own decision (APR,
approved/disbursed amount, decision), which is set from the same risk the model predicts and is
unknown when an application is scored; the protected attribute ``sex``; columns the dbt YAML marks
``meta: {ml_feature: false}`` or as C2 personal data; and any column that the scoring table
``marts.fct_application_features`` does not have, because a feature unknown at application time
(for instance anything about repayment) would leak the outcome.

The dbt column metadata is read from what dbt already computed, its manifest
``dbt_project/target/manifest.json`` (:data:`creditlake.settings.DBT_MANIFEST_PATH`, as Dagster's
``DbtProject`` does), not by parsing the YAML again. It is the manifest ``dbt parse`` writes and
the warehouse DAG is rendered from; the demo writes it before anything else runs.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from creditlake.policy import PII_IDENTIFIER
from creditlake.settings import DBT_MANIFEST_PATH
from ml.data import LABEL, MONTH, TrainingDataError
from ml.models import FeatureSpec
from ml.names import CREDIT_PD, ModelTarget

#: The dbt model behind ``marts.fct_application_training_set``, as its manifest names it.
TRAINING_SET_NODE = CREDIT_PD.dbt_node

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


def dbt_column_meta(
    manifest_path: Path = DBT_MANIFEST_PATH, node_id: str = TRAINING_SET_NODE
) -> dict[str, dict]:
    """Column ``meta`` of one dbt model, from the manifest that ``dbt parse`` writes.

    dbt has already read the model's YAML into its manifest, so training reads what dbt computed
    instead of parsing the YAML a second time. Each column's classic ``meta`` and dbt 1.10's
    ``config.meta`` are merged (the latter wins, as before). A missing manifest is an error, not
    an empty result: training without the metadata would quietly use columns the YAML excludes.
    """
    if not manifest_path.is_file():
        raise TrainingDataError(
            f"dbt manifest {manifest_path} does not exist: run `dbt parse` first (.venv/bin/dbt "
            "parse --project-dir dbt_project --profiles-dir dbt_project) so training can read "
            "the column metadata"
        )
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise TrainingDataError(
            f"cannot read dbt manifest {manifest_path} ({error}): run `dbt parse` again"
        ) from None
    node = (manifest.get("nodes") or {}).get(node_id)
    if node is None:
        raise TrainingDataError(
            f"dbt manifest {manifest_path} has no node {node_id}: run `dbt parse` on the project "
            f"that builds {node_id.split('.')[-1]}"
        )
    found: dict[str, dict] = {}
    for key, column in (node.get("columns") or {}).items():
        found[str(column.get("name", key))] = {
            **(column.get("meta") or {}),
            **((column.get("config") or {}).get("meta") or {}),
        }
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
    target: ModelTarget = CREDIT_PD,
) -> FeatureSelection:
    """The feature columns of a training frame, and every excluded column with its reason."""
    excluded: dict[str, str] = {}
    column_meta = column_meta or {}
    for name in frame.columns:
        meta = column_meta.get(name, {})
        suffix = next((s for s in EXCLUDED_SUFFIXES if name.endswith(s)), None)
        if name == target.label:
            excluded[name] = "label"
        elif name == target.month:
            excluded[name] = "time column (used for the out-of-time split)"
        elif name in EXCLUDED_COLUMNS:
            excluded[name] = EXCLUDED_COLUMNS[name]
        elif suffix:
            excluded[name] = EXCLUDED_SUFFIXES[suffix]
        elif meta.get("ml_feature") is False:
            excluded[name] = str(meta.get("ml_exclusion_reason", "dbt YAML: ml_feature false"))
        elif str(meta.get("pii", "")).upper().startswith(PII_IDENTIFIER):
            excluded[name] = f"personal data ({meta['pii']}) per dbt YAML"
        elif scoring_columns is not None and name not in scoring_columns:
            excluded[name] = (
                f"not in {target.features_table}: unknown when an application is scored"
            )
        elif pd.api.types.is_datetime64_any_dtype(frame[name].dtype):
            excluded[name] = "time column"
        elif frame[name].isna().all():
            excluded[name] = "always missing"
    features = [c for c in frame.columns if c not in excluded]
    if not features:
        raise TrainingDataError(f"no feature columns left in {target.training_table}: {excluded}")
    return FeatureSelection(FeatureSpec.infer(frame, features), excluded)
