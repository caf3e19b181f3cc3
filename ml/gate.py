"""The champion gate: which registered version scores applications, and which only waits.

**Champion gate.** The candidate is the run's model with the higher out-of-time AUC. It gets the
registry alias ``champion`` only if all of these hold:

1. out-of-time AUC ≥ ``settings.champion_min_auc`` (``CREDITLAKE_CHAMPION_MIN_AUC``, 0.65);
2. out-of-time KS ≥ ``settings.champion_min_ks`` (``CREDITLAKE_CHAMPION_MIN_KS``, 0.20);
3. there is no current champion, or the candidate's AUC is at least the current champion's AUC
   *re-evaluated on this run's out-of-time rows* minus ``settings.champion_max_auc_drop``
   (``CREDITLAKE_CHAMPION_MAX_AUC_DROP``, 0.005). Comparing on the same rows is the only fair
   comparison: AUCs measured on different windows differ with the window, not the model.

Otherwise the candidate gets the alias ``challenger`` and the champion stays. If the current
champion cannot be re-evaluated on this run's data (its features are gone), the candidate is not
promoted: that change needs a person's decision. Aliases only: registry stages are deprecated.

Every move, and every refusal of ``champion``, is written to the alias audit log first
(:mod:`ml.alias_log`, ``creditlake models history NAME``) with the gate's figures and reason.
"""

from __future__ import annotations

from typing import Any

import mlflow
import numpy as np
import pandas as pd
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

from creditlake.lake import Lake
from creditlake.settings import Settings
from ml import alias_log, metrics
from ml.models import FeatureError
from ml.names import CHALLENGER, CHAMPION, REGISTERED_MODEL
from ml.run_logging import ModelOutcome
from ml.serving import conform_to_schema
from ml.split import TrainingData


def gate(
    candidate_auc: float,
    candidate_ks: float,
    champion_auc: float | None,
    *,
    min_auc: float,
    min_ks: float,
    max_auc_drop: float,
) -> tuple[bool, str]:
    """Whether the candidate may become champion, and why (see the module docstring)."""
    failures = []
    if candidate_auc < min_auc:
        failures.append(f"out-of-time AUC {candidate_auc:.4f} < minimum {min_auc:.4f}")
    if candidate_ks < min_ks:
        failures.append(f"out-of-time KS {candidate_ks:.4f} < minimum {min_ks:.4f}")
    if champion_auc is not None and candidate_auc < champion_auc - max_auc_drop:
        failures.append(
            f"out-of-time AUC {candidate_auc:.4f} < current champion's {champion_auc:.4f} on the "
            f"same rows minus the allowed drop {max_auc_drop:.4f}"
        )
    if failures:
        return False, "; ".join(failures)
    reason = f"out-of-time AUC {candidate_auc:.4f} and KS {candidate_ks:.4f} pass the minimums"
    if champion_auc is None:
        return True, reason + "; no current champion"
    return True, reason + f"; current champion's AUC on the same rows is {champion_auc:.4f}"


def reevaluate(version: str, x: pd.DataFrame, y: np.ndarray, name: str = REGISTERED_MODEL) -> float:
    """A registered version's AUC on these rows, through its logged pyfunc (as it is served)."""
    model = mlflow.pyfunc.load_model(f"models:/{name}/{version}")
    inputs = conform_to_schema(x, model.metadata.get_input_schema())
    return metrics.auc(y, model.predict(inputs)["pd"].to_numpy())


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
) -> dict[str, Any]:
    """Give the run's best candidate the alias ``champion`` or ``challenger`` (module docstring)."""
    name = data.target.name
    candidate = max(outcomes.values(), key=lambda o: o.metrics["oot_auc"])
    previous_auc: float | None = None
    promoted, reason = False, ""
    thresholds = {
        "min_auc": settings.champion_min_auc,
        "min_ks": settings.champion_min_ks,
        "max_auc_drop": settings.champion_max_auc_drop,
    }
    if previous_version is not None:
        try:
            previous_auc = reevaluate(previous_version, data.x_oot, data.y_oot, name)
        except (FeatureError, MlflowException, OSError) as error:
            reason = (
                f"current champion version {previous_version} could not be re-evaluated on "
                f"this run's out-of-time rows ({error}); promotion needs a manual decision"
            )
    if not reason:
        promoted, reason = gate(
            candidate.metrics["oot_auc"], candidate.metrics["oot_ks"], previous_auc, **thresholds
        )
    alias = CHAMPION if promoted else CHALLENGER
    record = {
        "decision": alias,
        "alias": alias,
        "promoted": promoted,
        "reason": reason,
        "candidate_family": candidate.family,
        "candidate_version": candidate.version,
        "candidate_oot_auc": candidate.metrics["oot_auc"],
        "candidate_oot_ks": candidate.metrics["oot_ks"],
        "previous_champion_version": previous_version,
        "previous_champion_oot_auc": previous_auc,
        "champion_version": candidate.version if promoted else previous_version,
    }
    _log_and_move(client, settings, name, record, {**record, **thresholds})
    client.set_model_version_tag(name, candidate.version, "gate_decision", alias)
    mlflow.set_tags({"gate_decision": alias, "gate_reason": reason[:4000]})
    if previous_auc is not None:
        mlflow.log_metric("previous_champion_oot_auc", previous_auc)
    return record
