"""The champion gate: which registered version scores, and which only waits.

**Champion gate.** The candidate is the run's model with the higher out-of-time AUC. It gets the
registry alias ``champion`` only if every blocking check of the named criteria in
:mod:`ml.criteria` passes; each check is logged with its value and threshold (all thresholds come
from settings):

1. **discrimination**: out-of-time AUC ≥ ``champion_min_auc`` and KS ≥ ``champion_min_ks``; and,
   when there is a champion, the candidate's AUC ≥ the current champion's AUC *re-evaluated on
   this run's out-of-time rows* minus ``champion_max_auc_drop``. Comparing on the same rows is
   the only fair comparison: AUCs measured on different windows differ with the window, not the
   model. If the current champion cannot be re-evaluated (its features are gone), the candidate
   is not promoted: that change needs a person's decision;
2. **calibration** by decile, out of time (``gate_calibration_tolerance``);
3. **stability**: the score's PSI from the development sample to the latest month below
   ``psi_act``; each feature's PSI is logged too, as a finding;
4. **fairness**: approval-rate ratio at the strategy's cut-off by sex (blocking) and by age band,
   new citizen, thin file and urban/rural (findings) at ``gate_fairness_min_ratio``;
5. **data quality**: the lake snapshots trained on were published by their gates, and the
   warehouse gates of the training date passed.

Otherwise the candidate gets the alias ``challenger`` and the champion stays. Aliases only:
registry stages are deprecated. Every move, and every refusal of ``champion``, is written to the
alias audit log first (:mod:`ml.alias_log`, ``creditlake models history NAME``) with the gate's
figures, and the criteria go to the run as ``gate_criteria.json``.
"""

from __future__ import annotations

import datetime as dt
import json
import tempfile
from pathlib import Path
from typing import Any

import mlflow
import numpy as np
import pandas as pd
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

from creditlake.lake import Lake
from creditlake.settings import Settings
from ml import alias_log, criteria, metrics
from ml.criteria import Criterion
from ml.lineage import TrainingLineage
from ml.models import FeatureError
from ml.names import CHALLENGER, CHAMPION, REGISTERED_MODEL
from ml.run_logging import ModelOutcome, log_batch
from ml.serving import conform_to_schema
from ml.split import TrainingData


def candidate_criteria(
    candidate: ModelOutcome,
    champion_auc: float | None,
    data: TrainingData,
    lineage: TrainingLineage,
    as_of_date: dt.date,
    settings: Settings,
) -> list[Criterion]:
    """Every named check of :mod:`ml.criteria` for the candidate, from its own predictions."""
    if not candidate.predictions:
        raise ValueError(f"candidate version {candidate.version} carries no predictions to judge")
    pd_train, pd_oot = candidate.predictions["train"], candidate.predictions["oot"]
    months = data.x_oot[data.target.month].astype("string").str[:7].to_numpy()
    cutoff, source = criteria.favourable_cutoff(data.target.name, pd_train)
    return [
        *criteria.discrimination(
            candidate.metrics["oot_auc"], candidate.metrics["oot_ks"], champion_auc, settings
        ),
        criteria.calibration(data.y_oot, pd_oot, settings),
        *criteria.stability(
            data.x_train,
            data.x_oot,
            pd_train,
            pd_oot,
            months,
            list(data.selection.spec.columns),
            settings,
        ),
        *criteria.fairness(data.x_oot, pd_oot, cutoff, source, settings),
        *criteria.data_quality(Lake.from_settings(settings), lineage.snapshots, as_of_date),
    ]


def decide(checks: list[Criterion]) -> tuple[bool, str]:
    """Whether the candidate may become champion, and why, naming every failed criterion."""
    refused = criteria.refusals(checks)
    if refused:
        return False, "refused on " + "; ".join(
            f"{c.criterion} ({c.check}): {c.detail}" for c in refused
        )
    findings = [c for c in checks if not c.passed]
    auc = next(c for c in checks if c.check == "auc_min")
    versus = next((c for c in checks if c.check == "auc_vs_champion"), None)
    reason = f"all blocking criteria pass (out-of-time AUC {auc.value:.4f}"
    reason += f"; {versus.detail})" if versus else "; no current champion)"
    if findings:
        reason += "; findings: " + "; ".join(f"{c.check}: {c.detail}" for c in findings)
    return True, reason


def log_criteria(
    checks: list[Criterion], tags: dict[str, str], extra_metrics: dict[str, float]
) -> None:
    """The checks on the active (parent) run: ``gate_criteria.json`` and one metric each, with
    the decision's ``tags`` and ``extra_metrics`` in the same write."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "gate_criteria.json"
        path.write_text(json.dumps([c.to_dict() for c in checks], indent=2, default=str))
        mlflow.log_artifact(str(path))
    values = {
        "gate_" + c.check.replace(":", "_"): float(c.value) for c in checks if c.value is not None
    }
    log_batch(metrics={**values, **extra_metrics}, tags=tags)


def reevaluate(version: str, x: pd.DataFrame, y: np.ndarray, name: str = REGISTERED_MODEL) -> float:
    """A registered version's AUC on these rows, from its logged pyfunc's own fitted model.

    The ``pd`` the pyfunc serves is exactly its fitted model's ``predict_pd`` of the rows cast
    to the logged signature (:class:`ml.serving.CreditPDModel`); calling that directly skips the
    adverse factors (a SHAP or points pass over every row) that an AUC does not use.
    """
    model = mlflow.pyfunc.load_model(f"models:/{name}/{version}")
    inputs = conform_to_schema(x, model.metadata.get_input_schema())
    return metrics.auc(y, model.unwrap_python_model().fitted.predict_pd(inputs))


def _log_and_move(
    client: MlflowClient, settings: Settings, name: str, record: dict[str, Any], figures: dict
) -> None:
    """The gate's alias moves, each in the audit log (:mod:`ml.alias_log`): the promotion, or
    the refusal of ``champion`` and the move of ``challenger`` to the candidate."""
    lake = Lake.from_settings(settings)
    run = mlflow.active_run()
    actor = f"run:{run.info.run_id}" if run else "gate"
    moves = {"action": alias_log.GATE, "actor": actor, "gate": figures}
    version, reason = record["candidate_version"], record["reason"]
    if record["promoted"]:
        alias_log.move_alias(client, lake, name, CHAMPION, version, reason=reason, **moves)
        return
    current = record["previous_champion_version"]
    alias_log.log_refusal(lake, name, CHAMPION, current, version, reason=reason, **moves)
    challenger = f"refused champion ({reason})"
    alias_log.move_alias(client, lake, name, CHALLENGER, version, reason=challenger, **moves)


def apply_gate(
    client: MlflowClient,
    outcomes: dict[str, ModelOutcome],
    previous_version: str | None,
    data: TrainingData,
    settings: Settings,
    *,
    lineage: TrainingLineage,
    as_of_date: dt.date,
) -> dict[str, Any]:
    """Give the run's best candidate the alias ``champion`` or ``challenger`` (module docstring)."""
    name = data.target.name
    candidate = max(outcomes.values(), key=lambda o: o.metrics["oot_auc"])
    previous_auc: float | None = None
    unresolved = ""
    thresholds = {
        "min_auc": settings.champion_min_auc,
        "min_ks": settings.champion_min_ks,
        "max_auc_drop": settings.champion_max_auc_drop,
        "calibration_tolerance": settings.gate_calibration_tolerance,
        "psi_act": settings.psi_act,
        "fairness_min_ratio": settings.gate_fairness_min_ratio,
        "fairness_min_group_rows": settings.gate_fairness_min_group_rows,
    }
    if previous_version is not None:
        try:
            previous_auc = reevaluate(previous_version, data.x_oot, data.y_oot, name)
        except (FeatureError, MlflowException, OSError) as error:
            unresolved = (
                f"current champion version {previous_version} could not be re-evaluated on "
                f"this run's out-of-time rows ({error}); promotion needs a manual decision"
            )
    checks = candidate_criteria(candidate, previous_auc, data, lineage, as_of_date, settings)
    promoted, reason = decide(checks)
    if unresolved:
        promoted, reason = False, unresolved
    alias = CHAMPION if promoted else CHALLENGER
    refused = criteria.refusals(checks)
    record = {
        "decision": alias,
        "alias": alias,
        "promoted": promoted,
        "reason": reason,
        "failed_criteria": sorted({c.criterion for c in refused}),
        "failed_checks": [c.check for c in refused],
        "findings": [c.check for c in checks if not c.passed and not c.blocking],
        "candidate_family": candidate.family,
        "candidate_version": candidate.version,
        "candidate_oot_auc": candidate.metrics["oot_auc"],
        "candidate_oot_ks": candidate.metrics["oot_ks"],
        "previous_champion_version": previous_version,
        "previous_champion_oot_auc": previous_auc,
        "champion_version": candidate.version if promoted else previous_version,
        "thresholds": thresholds,
    }
    summary = {
        **{k: v for k, v in record.items() if k != "thresholds"},
        **thresholds,
        "criteria": {c.check: {"value": c.value, "passed": c.passed} for c in checks},
    }
    _log_and_move(client, settings, name, record, summary)
    record["criteria"] = [c.to_dict() for c in checks]
    versus = {} if previous_auc is None else {"previous_champion_oot_auc": float(previous_auc)}
    log_criteria(checks, {"gate_decision": alias, "gate_reason": reason[:4000]}, versus)
    client.set_model_version_tag(name, candidate.version, "gate_decision", alias)
    failed = ",".join(record["failed_checks"]) or "none"
    client.set_model_version_tag(name, candidate.version, "gate_failed_checks", failed[:5000])
    return record
