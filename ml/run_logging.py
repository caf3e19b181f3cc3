"""What a training run records in MLflow, and the registration of each fitted model.

A validator should be able to rebuild the decision from the tracking store alone, so one run
logs: on the parent run, the data window, the split, the features (with every exclusion's
reason) and the gate's thresholds; on one child run per model family, its parameters, AUC/KS/Gini
on both sides of the split, the score's PSI from train to out-of-time, ROC and KS plots, the
out-of-time decile table, the scorecard's points table and the ``pyfunc`` model, which is then
registered as a version of ``credit_pd``. The model card goes to the parent and to every child.

Where MLflow stores all this is configuration (:mod:`ml.tracking`).
"""

from __future__ import annotations

import datetime as dt
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import mlflow
import numpy as np
import pandas as pd
from mlflow import MlflowClient

from creditlake.settings import Settings
from ml import metrics, plots
from ml.fitting import build_model
from ml.models import SCORE_SCALE, FittedPDModel, ScorecardPD
from ml.serving import CreditPDModel, pickled_by_value, pip_requirements
from ml.split import TrainingData
from ml.tracking import readable, write_report_csv


@dataclass
class ModelOutcome:
    """One family's child run and registered version, with its metrics and fit details."""

    family: str
    run_id: str
    version: str
    metrics: dict[str, float]
    details: dict[str, Any] = field(default_factory=dict)
    #: The fitted model and its PDs on both sides of the split, for the gate's criteria and the
    #: validation report within the run; never serialised (:meth:`to_dict`).
    fitted: FittedPDModel | None = field(default=None, repr=False, compare=False)
    predictions: dict[str, np.ndarray] = field(default_factory=dict, repr=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        """The outcome without the fitted model and predictions (for XCom and summaries)."""
        return {
            "family": self.family,
            "run_id": self.run_id,
            "version": self.version,
            "metrics": self.metrics,
            "details": self.details,
        }


def evaluate(
    fitted: FittedPDModel,
    x_train: pd.DataFrame,
    y_train: np.ndarray,
    x_oot: pd.DataFrame,
    y_oot: np.ndarray,
) -> tuple[dict[str, float], dict[str, np.ndarray]]:
    """AUC/KS/Gini on both sides of the split, and the PSI of the score from train to OOT."""
    pd_train = fitted.predict_pd(x_train)
    pd_oot = fitted.predict_pd(x_oot)
    results: dict[str, float] = {}
    for split, y, p in (("train", y_train, pd_train), ("oot", y_oot, pd_oot)):
        for name, value in metrics.discrimination(y, p).items():
            results[f"{split}_{name}"] = value
    results["psi_score_train_oot"] = metrics.psi(
        SCORE_SCALE.score(pd_train), SCORE_SCALE.score(pd_oot)
    )
    return results, {"train": pd_train, "oot": pd_oot}


def log_model_run(
    fitted: FittedPDModel,
    evaluation: dict[str, float],
    predictions: dict[str, np.ndarray],
    *,
    y_train: np.ndarray,
    y_oot: np.ndarray,
    x_example: pd.DataFrame,
    fit_seconds: float,
    settings: Settings,
    workdir: Path,
) -> Any:
    """Metrics, plots, tables and the pyfunc model of one family, in the active (child) run.

    Returns MLflow's ``ModelInfo`` of the logged model, whose URI is then registered.
    """
    family = fitted.family
    status = metrics.psi_status(
        evaluation["psi_score_train_oot"], watch=settings.psi_watch, act=settings.psi_act
    )
    params = {"model_family": family, "score_scale": SCORE_SCALE.describe()}
    params.update(
        {k: readable(v) for k, v in fitted.details.items() if not isinstance(v, list | dict)}
    )
    log_batch(params=params, tags={"model_family": family, "psi_score_status": status})
    folder = workdir / family
    folder.mkdir(parents=True, exist_ok=True)
    plots.plot_roc(
        {"train": (y_train, predictions["train"]), "out-of-time": (y_oot, predictions["oot"])},
        folder / "roc.png",
        f"{family}: ROC",
    )
    plots.plot_ks(y_oot, predictions["oot"], folder / "ks_oot.png", f"{family}: KS, out of time")
    write_report_csv(metrics.decile_table(y_oot, predictions["oot"]), folder / "deciles_oot.csv")
    (folder / "features.json").write_text(
        json.dumps(
            {**fitted.spec.to_dict(), "details": readable(fitted.details)}, indent=2, default=str
        )
    )
    if isinstance(fitted, ScorecardPD):
        write_report_csv(fitted.points_table(), folder / "scorecard.csv")
    mlflow.log_artifacts(str(folder))
    with pickled_by_value():
        info = mlflow.pyfunc.log_model(
            name="model",
            python_model=CreditPDModel(fitted),
            signature=fitted.spec.signature(),
            input_example=fitted.spec.typical_row(x_example),
            pip_requirements=pip_requirements(),
        )
    # After the model: MLflow links metrics logged in a run that has a model to that model, in
    # the same write. Logged before, they would be read back one history at a time and written
    # again for the model (``Model.log``), several store round-trips per metric.
    mlflow.log_metrics({**evaluation, "fit_seconds": fit_seconds})
    return info


def log_batch(
    *,
    params: dict[str, Any] | None = None,
    tags: dict[str, Any] | None = None,
    metrics: dict[str, float] | None = None,
) -> None:
    """Parameters, tags and metrics of the active run in one write to the tracking store.

    Each fluent call (``log_params``, ``set_tags``, ``log_metrics``) is a transaction of its own,
    and on the SQLite store every transaction waits for the disk.
    """
    from mlflow.entities import Metric, Param, RunTag
    from mlflow.utils.time import get_current_time_millis

    run = mlflow.active_run()
    if run is None:
        raise RuntimeError("log_batch needs an active MLflow run")
    now = get_current_time_millis()
    MlflowClient().log_batch(
        run.info.run_id,
        metrics=[Metric(k, float(v), now, 0) for k, v in (metrics or {}).items()],
        params=[Param(k, str(v)) for k, v in (params or {}).items()],
        tags=[RunTag(k, str(v)) for k, v in (tags or {}).items()],
    )


def log_run_inputs(
    data: TrainingData,
    as_of_date: dt.date,
    settings: Settings,
    workdir: Path,
    tags: dict[str, str] | None = None,
) -> None:
    """The parent run's parameters (the data window, the split, the features and the gate) and
    ``tags`` (the lineage's), in one write."""
    log_batch(
        params={
            "as_of_date": as_of_date.isoformat(),
            "training_table": data.target.training_table,
            "label": data.target.label,
            "train_months": ",".join(data.train_months),
            "oot_months": ",".join(data.oot_months),
            "rows_train": data.rows["train"],
            "rows_oot": data.rows["oot"],
            "n_features": len(data.selection.spec.columns),
            "champion_min_auc": settings.champion_min_auc,
            "champion_min_ks": settings.champion_min_ks,
            "champion_max_auc_drop": settings.champion_max_auc_drop,
            "score_scale": SCORE_SCALE.describe(),
        },
        metrics={f"{split}_bad_rate": rate for split, rate in data.bad_rates.items()},
        tags=tags,
    )
    path = workdir / "features.json"
    path.write_text(
        json.dumps({**data.selection.spec.to_dict(), "excluded": data.selection.excluded}, indent=2)
    )
    mlflow.log_artifact(str(path))


def fit_log_register(
    family: str,
    data: TrainingData,
    *,
    as_of_date: dt.date,
    seed: int,
    experiment_id: str,
    parent_run_id: str,
    settings: Settings,
    workdir: Path,
    lineage_tags: dict[str, str] | None = None,
) -> ModelOutcome:
    """Fit one family in its own child run, log it, and register it as a version of the model.

    ``lineage_tags`` (:class:`ml.lineage.TrainingLineage`) go on the version, so a registered
    version says which lake snapshots and training-set hash it came from.
    """
    with mlflow.start_run(
        experiment_id=experiment_id, run_name=f"{family} {as_of_date}", nested=True
    ) as child:
        started = time.perf_counter()
        fitted = build_model(
            family,
            data.x_train,
            data.y_train,
            data.selection.spec,
            seed=seed,
            groups=data.cv_groups,
        )
        fit_seconds = time.perf_counter() - started
        evaluation, predictions = evaluate(
            fitted, data.x_train, data.y_train, data.x_oot, data.y_oot
        )
        info = log_model_run(
            fitted,
            evaluation,
            predictions,
            y_train=data.y_train,
            y_oot=data.y_oot,
            x_example=data.x_train,
            fit_seconds=fit_seconds,
            settings=settings,
            workdir=workdir,
        )
    mlflow.log_metrics({f"{family}_{k}": v for k, v in evaluation.items()})
    version = mlflow.register_model(
        info.model_uri,
        data.target.name,
        tags={
            "model_family": family,
            "oot_auc": f"{evaluation['oot_auc']:.6f}",
            "oot_ks": f"{evaluation['oot_ks']:.6f}",
            "as_of_date": as_of_date.isoformat(),
            "run_id": child.info.run_id,
            "training_run_id": parent_run_id,
            "oot_months": ",".join(data.oot_months),
            **(lineage_tags or {}),
        },
    )
    return ModelOutcome(
        family,
        child.info.run_id,
        str(version.version),
        evaluation,
        fitted.details,
        fitted=fitted,
        predictions=predictions,
    )


def log_model_card(
    client: MlflowClient, card: str, outcomes: dict[str, ModelOutcome], workdir: Path
) -> None:
    """The model card as ``model_card.md`` on the active (parent) run and on every child run."""
    card_path = workdir / "model_card.md"
    card_path.write_text(card, encoding="utf-8")
    mlflow.log_artifact(str(card_path))
    for outcome in outcomes.values():
        client.log_artifact(outcome.run_id, str(card_path))
