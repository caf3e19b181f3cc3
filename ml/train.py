"""Train, register and gate one application model (``credit_pd``, ``fraud``): one run, step by step.

Every model is a :class:`ml.names.ModelTarget` (its training mart, label and registry name); the
steps are the same for each. One run (:func:`main`) reads the target's training set from the
warehouse (:mod:`ml.data`),
chooses the features (:mod:`ml.features`), splits it **out of time** (:mod:`ml.split`: earlier
application months train, the latest ~20% of rows by whole months validate), fits both model
families (:mod:`ml.models`), logs everything a validator needs to MLflow and registers both
fitted models as versions of the target's registered model (:mod:`ml.run_logging`), then
applies the champion gate (:mod:`ml.gate`), logs the model card (:mod:`ml.model_card`) and
logs each version's validation report (:mod:`ml.validation_report`).

This module only orders those steps, so the Airflow task's entry point ``ml.train.main`` reads
as the run itself.
"""

from __future__ import annotations

import datetime as dt
import json
import tempfile
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import mlflow

from creditlake.lake import parse_date
from creditlake.settings import DBT_MANIFEST_PATH, Settings, get_settings
from ml.alias_log import current_holder
from ml.data import labels_of, read_training_set, table_columns
from ml.features import dbt_column_meta, select_features
from ml.gate import apply_gate
from ml.inclusion import behaviour_columns, measure_inclusion
from ml.lineage import TrainingLineage, training_lineage, training_set_sha256
from ml.model_card import model_card
from ml.models import MODEL_FAMILIES
from ml.names import CHAMPION, CREDIT_PD, ModelTarget, model_target
from ml.run_logging import ModelOutcome, fit_log_register, log_model_card, log_run_inputs
from ml.split import TrainingData, split_out_of_time
from ml.tracking import configure_mlflow, ensure_experiment
from ml.validation_report import log_validation_reports

SEED = 42


@dataclass
class TrainResult:
    """What a training run did: metrics, versions, the gate's decision and the split."""

    as_of_date: str
    model_name: str
    run_id: str
    experiment_id: str
    train_months: list[str]
    oot_months: list[str]
    rows: dict[str, int]
    features: dict[str, list[str]]
    models: dict[str, ModelOutcome]
    champion_version: str | None
    gate: dict[str, Any]
    training_set_sha256: str = ""

    @property
    def registered_versions(self) -> dict[str, str]:
        return {family: outcome.version for family, outcome in self.models.items()}

    def to_dict(self) -> dict[str, Any]:
        result = asdict(replace(self, models={}))
        result["models"] = {family: o.to_dict() for family, o in self.models.items()}
        result["registered_versions"] = self.registered_versions
        return json.loads(json.dumps(result, default=str))


def load_training_data(
    settings: Settings,
    as_of_date: dt.date,
    manifest_path: Path = DBT_MANIFEST_PATH,
    target: ModelTarget = CREDIT_PD,
) -> tuple[TrainingData, TrainingLineage]:
    """Read the training set (loans applied up to ``as_of_date``), pick features, split by month.

    The features' dbt metadata comes from the manifest at ``manifest_path``. The lineage says
    which lake snapshots and dbt project built these exact rows (:mod:`ml.lineage`).
    """
    frame = read_training_set(settings.warehouse_path, as_of_date, target)
    rows_read = training_set_sha256(frame)  # before anything below adds to the frame
    y = labels_of(frame, target)
    scoring_columns = (
        table_columns(settings.warehouse_path, target.features_table)
        if target.features_table
        else None
    )
    selection = select_features(
        frame,
        None if scoring_columns is None else set(scoring_columns),
        dbt_column_meta(manifest_path, target.dbt_node),
        target,
    )
    lineage = training_lineage(settings.warehouse_path, manifest_path, rows_read)
    return split_out_of_time(frame, y, selection, target), lineage


def log_inclusion(
    data: TrainingData, candidate: ModelOutcome, manifest_path: Path, workdir: Path
) -> None:
    """The thin-file inclusion table (:mod:`ml.inclusion`) as artifacts and metrics of the run.

    The candidate's own out-of-time PDs stand for the fit with behaviour features: it was
    fitted with :data:`SEED` on these rows and features, as the comparison asks.
    """
    inclusion = measure_inclusion(
        data,
        candidate.family,
        behaviour_columns(manifest_path),
        seed=SEED,
        with_behaviour=candidate.predictions.get("oot"),
    )
    folder = workdir / "inclusion"
    folder.mkdir(parents=True, exist_ok=True)
    inclusion.write(folder)
    mlflow.log_artifacts(str(folder))
    lifts = {
        f"inclusion_{group.group}_auc_lift": group.auc_lift
        for group in inclusion.groups
        if group.auc_lift is not None
    }
    if lifts:
        mlflow.log_metrics(lifts)


def main(
    as_of_date: str | dt.date,
    settings: Settings | None = None,
    *,
    manifest_path: Path = DBT_MANIFEST_PATH,
    model: str = CREDIT_PD.name,
) -> TrainResult:
    """Train both families of model ``model`` out of time, register both, gate the champion.

    The gate (:mod:`ml.gate`) decides which alias the better candidate receives; the returned
    :class:`TrainResult` (``to_dict()`` for Airflow's XCom) records metrics, versions, the
    decision and its reason, and the months on each side of the split. ``manifest_path`` is
    dbt's manifest (written by ``dbt parse``), where the columns' dbt metadata is read.
    """
    settings = settings or get_settings()
    target = model_target(model)
    as_of_date = parse_date(as_of_date, "as_of_date")
    data, lineage = load_training_data(settings, as_of_date, manifest_path, target)
    client = configure_mlflow(settings)
    experiment_id = ensure_experiment(client, target.experiment, settings)
    previous_version = current_holder(client, target.name, CHAMPION)
    with (
        tempfile.TemporaryDirectory(prefix=f"{target.name}_") as tmp,
        mlflow.start_run(
            experiment_id=experiment_id, run_name=f"{target.name} {as_of_date}"
        ) as parent,
    ):
        workdir = Path(tmp)
        log_run_inputs(data, as_of_date, settings, workdir, tags=lineage.tags())
        outcomes = {
            family: fit_log_register(
                family,
                data,
                as_of_date=as_of_date,
                seed=SEED,
                experiment_id=experiment_id,
                parent_run_id=parent.info.run_id,
                settings=settings,
                workdir=workdir,
                lineage_tags=lineage.tags(),
            )
            for family in MODEL_FAMILIES
        }
        gate_record = apply_gate(
            client,
            outcomes,
            previous_version,
            data,
            settings,
            lineage=lineage,
            as_of_date=as_of_date,
        )
        if target.measures_inclusion:
            log_inclusion(data, outcomes[gate_record["candidate_family"]], manifest_path, workdir)
        card = model_card(
            as_of_date=as_of_date,
            data=data,
            outcomes=outcomes,
            gate_record=gate_record,
            settings=settings,
        )
        log_model_card(client, card, outcomes, workdir)
        log_validation_reports(
            client,
            outcomes,
            data=data,
            lineage=lineage,
            gate_record=gate_record,
            settings=settings,
            as_of_date=as_of_date,
            workdir=workdir,
        )
    return TrainResult(
        as_of_date=as_of_date.isoformat(),
        model_name=target.name,
        run_id=parent.info.run_id,
        experiment_id=experiment_id,
        train_months=data.train_months,
        oot_months=data.oot_months,
        rows=data.rows,
        features=data.selection.spec.to_dict(),
        models=outcomes,
        champion_version=gate_record["champion_version"],
        gate=gate_record,
        training_set_sha256=lineage.training_set_sha256,
    )
