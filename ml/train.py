"""Train, register and gate the application PD model ``credit_pd``.

One run (:func:`main`) reads the matured-loan training set from the warehouse, splits it **out of
time** (earlier application months train, the latest ~20% of rows by whole months validate), fits
both model families (:mod:`ml.models`), logs everything a validator needs to MLflow, registers
both fitted models as versions of ``credit_pd`` and then applies the champion gate.

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

**Features.** Every column of the training set except the ones :func:`select_features` excludes,
each with its reason (written to the model card): identifiers, the label and time columns;
anything ending in ``_id``, ``_token``, ``_at`` or ``_date``; the lender's own decision (APR,
approved/disbursed amount, decision), which is set from the same risk the model predicts and is
unknown when an application is scored; the protected attribute ``sex``; columns the dbt YAML marks
``meta: {ml_feature: false}`` or as C2 personal data; and any column that the scoring table
``marts.fct_application_features`` does not have, because a feature unknown at application time
(for instance anything about repayment) would leak the outcome.
"""

from __future__ import annotations

import datetime as dt
import json
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import mlflow
import numpy as np
import pandas as pd
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

from creditlake.lake import parse_date
from creditlake.settings import PROJECT_ROOT, Settings, get_settings
from ml import metrics, plots
from ml.models import (
    MODEL_FAMILIES,
    SCORE_SCALE,
    CreditPDModel,
    FeatureError,
    FeatureSpec,
    FittedPDModel,
    ScorecardPD,
    build_model,
    conform_to_schema,
    pickled_by_value,
    pip_requirements,
)
from ml.names import (
    CHALLENGER,
    CHAMPION,
    EXPERIMENT,
    FEATURES_TABLE,
    REGISTERED_MODEL,
    TRAINING_TABLE,
)
from ml.tracking import configure_mlflow, ensure_experiment, readable, write_report_csv

MARTS_YAML_DIR = PROJECT_ROOT / "dbt_project" / "models" / "marts"
LABEL = "is_bad"
MONTH = "application_month"
OOT_SHARE = 0.2
SEED = 42

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


class TrainingDataError(ValueError):
    """The training data cannot support a run; the message names the table and what is wrong."""


# Data -------------------------------------------------------------------------------------------
def _read_only(warehouse_path: Path):
    """A read-only connection: DuckDB allows one writer per file, and dbt may be that writer."""
    import duckdb

    if not warehouse_path.is_file():
        raise TrainingDataError(
            f"warehouse {warehouse_path} does not exist: build it with the transform__warehouse "
            "DAG (or set CREDITLAKE_WAREHOUSE_PATH)"
        )
    return duckdb.connect(str(warehouse_path), read_only=True)


def table_columns(warehouse_path: Path, table: str) -> list[str] | None:
    """A warehouse table's column names, or ``None`` when the table does not exist."""
    schema, name = table.split(".")
    con = _read_only(warehouse_path)
    try:
        rows = con.execute(
            "select column_name from information_schema.columns "
            "where table_schema = ? and table_name = ? order by ordinal_position",
            [schema, name],
        ).fetchall()
    finally:
        con.close()
    return [row[0] for row in rows] or None


def read_table(warehouse_path: Path, table: str) -> pd.DataFrame | None:
    """A whole warehouse table, or ``None`` when it does not exist."""
    if table_columns(warehouse_path, table) is None:
        return None
    con = _read_only(warehouse_path)
    try:
        return con.sql(f"select * from {table}").df()
    finally:
        con.close()


def month_labels(frame: pd.DataFrame) -> pd.Series:
    """``yyyy-mm`` per row, from ``application_month`` (a date or text) or ``applied_at``."""
    if MONTH in frame.columns:
        source = frame[MONTH]
    elif "applied_at" in frame.columns:
        source = frame["applied_at"]
    else:
        raise TrainingDataError(f"{TRAINING_TABLE} has neither {MONTH} nor applied_at")
    if pd.api.types.is_datetime64_any_dtype(source.dtype):
        return source.dt.strftime("%Y-%m")
    return source.astype("str").str.slice(0, 7)


def labels_of(frame: pd.DataFrame) -> np.ndarray:
    if LABEL not in frame.columns:
        raise TrainingDataError(f"{TRAINING_TABLE} has no label column {LABEL!r}")
    label = frame[LABEL]
    if label.isna().any():
        raise TrainingDataError(
            f"{TRAINING_TABLE}.{LABEL} is null in {int(label.isna().sum())} rows: immature loans "
            "must not reach the training set"
        )
    values = label.astype("int64").to_numpy()
    if not np.isin(values, (0, 1)).all():
        raise TrainingDataError(f"{TRAINING_TABLE}.{LABEL} must be 0/1 or boolean")
    return values


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


def out_of_time_split(months: pd.Series, oot_share: float = OOT_SHARE) -> tuple[list, list]:
    """Training months and out-of-time months: the latest whole months nearest ``oot_share``.

    Whole months, because a vintage is the unit a lender reviews; the latest, because the model
    will score the future. Months are added from the latest backwards while that brings the
    out-of-time share closer to ``oot_share``; at least one month stays on each side.
    """
    counts = months.value_counts().sort_index()
    if len(counts) < 2:
        raise TrainingDataError(
            f"{TRAINING_TABLE} spans {len(counts)} application month(s); an out-of-time split "
            "needs at least two"
        )
    total = counts.sum()
    oot: list[str] = []
    share = 0.0
    for month in reversed(counts.index.tolist()):
        new_share = share + counts[month] / total
        if oot and (abs(new_share - oot_share) >= abs(share - oot_share)):
            break
        oot.append(month)
        share = new_share
        if len(oot) == len(counts) - 1:
            break
    train = [m for m in counts.index if m not in oot]
    return train, sorted(oot)


# Gate -------------------------------------------------------------------------------------------
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


def current_champion(client: MlflowClient) -> Any | None:
    """The model version holding the alias ``champion``, or ``None``."""
    try:
        return client.get_model_version_by_alias(REGISTERED_MODEL, CHAMPION)
    except MlflowException:
        return None


def reevaluate(version: str, x: pd.DataFrame, y: np.ndarray) -> float:
    """A registered version's AUC on these rows, through its logged pyfunc (as it is served)."""
    model = mlflow.pyfunc.load_model(f"models:/{REGISTERED_MODEL}/{version}")
    inputs = conform_to_schema(x, model.metadata.get_input_schema())
    return metrics.auc(y, model.predict(inputs)["pd"].to_numpy())


# Results ----------------------------------------------------------------------------------------
@dataclass
class ModelOutcome:
    family: str
    run_id: str
    version: str
    metrics: dict[str, float]
    details: dict[str, Any] = field(default_factory=dict)


@dataclass
class TrainResult:
    """What a training run did: metrics, versions, the gate's decision and the split."""

    as_of_date: str
    run_id: str
    experiment_id: str
    train_months: list[str]
    oot_months: list[str]
    rows: dict[str, int]
    features: dict[str, list[str]]
    models: dict[str, ModelOutcome]
    champion_version: str | None
    gate: dict[str, Any]

    @property
    def registered_versions(self) -> dict[str, str]:
        return {family: outcome.version for family, outcome in self.models.items()}

    def to_dict(self) -> dict[str, Any]:
        result = asdict(self)
        result["registered_versions"] = self.registered_versions
        return json.loads(json.dumps(result, default=str))


# Model card -------------------------------------------------------------------------------------
def model_card(
    *,
    as_of_date: dt.date,
    data: TrainingData,
    outcomes: dict[str, ModelOutcome],
    gate_record: dict[str, Any],
    settings: Settings,
) -> str:
    """The model card in Markdown: what the model is, on which data, how good, and the decision."""
    metric_rows = [
        f"| {family} | {o.version} | {o.metrics['train_auc']:.4f} | {o.metrics['oot_auc']:.4f} "
        f"| {o.metrics['train_ks']:.4f} | {o.metrics['oot_ks']:.4f} | {o.metrics['oot_gini']:.4f} "
        f"| {o.metrics['psi_score_train_oot']:.4f} |"
        for family, o in outcomes.items()
    ]
    selection, rows, bad_rates = data.selection, data.rows, data.bad_rates
    train_months, oot_months = data.train_months, data.oot_months
    excluded = [f"- `{name}`: {reason}" for name, reason in sorted(selection.excluded.items())]
    lines = [
        f"# Model card: `{REGISTERED_MODEL}` (application PD, A-card), as of {as_of_date}",
        "",
        "## Purpose",
        "Probability that an approved, disbursed application goes bad (label `is_bad`, as "
        f"defined by `{TRAINING_TABLE}`), used to score new applications.",
        "",
        "## Data window and split",
        f"- Source: `{TRAINING_TABLE}` (matured loans only).",
        f"- Application months: {train_months[0]} to {oot_months[-1]}.",
        f"- Training months: {', '.join(train_months)} ({rows['train']} loans, bad rate "
        f"{bad_rates['train']:.2%}).",
        f"- Out-of-time months: {', '.join(oot_months)} ({rows['oot']} loans, bad rate "
        f"{bad_rates['oot']:.2%}): the latest whole months nearest {OOT_SHARE:.0%} of loans.",
        "- LightGBM's early stopping uses a stratified 20% of the *training* rows; the "
        "out-of-time rows influence no choice.",
        "",
        "## Metrics",
        "| model | version | train AUC | OOT AUC | train KS | OOT KS | OOT Gini | score PSI "
        "train→OOT |",
        "|---|---|---|---|---|---|---|---|",
        *metric_rows,
        "",
        f"Score PSI status cut-offs: watch ≥ {settings.psi_watch}, act > {settings.psi_act}.",
        "",
        "## Score scale",
        SCORE_SCALE.describe() + "; higher is safer, the same scale for both model families.",
        "",
        "## Champion gate",
        f"The better out-of-time AUC of the run becomes `{CHAMPION}` only if its OOT AUC ≥ "
        f"{settings.champion_min_auc}, its OOT KS ≥ {settings.champion_min_ks}, and (no current "
        "champion, or its AUC ≥ the current champion's AUC re-evaluated on this run's OOT rows "
        f"− {settings.champion_max_auc_drop}); otherwise it becomes `{CHALLENGER}`.",
        "",
        f"- Candidate: {gate_record['candidate_family']} "
        f"version {gate_record['candidate_version']}",
        f"- Previous champion: {gate_record['previous_champion_version'] or 'none'}"
        + (
            f" (OOT AUC on these rows {gate_record['previous_champion_oot_auc']:.4f})"
            if gate_record["previous_champion_oot_auc"] is not None
            else ""
        ),
        f"- Decision: **{gate_record['alias']}**: {gate_record['reason']}",
        "",
        f"## Features ({len(selection.spec.columns)})",
        f"- Numeric: {', '.join(selection.spec.numeric) or 'none'}",
        f"- Categorical: {', '.join(selection.spec.categorical) or 'none'}",
        "",
        "## Excluded columns",
        *excluded,
        "",
        "## Personal data",
        "No identifiers, tokens or raw personal data are features or artifacts; the input "
        "example is a synthetic row of medians and most frequent categories.",
        "",
    ]
    return "\n".join(lines)


# Training ---------------------------------------------------------------------------------------
def _evaluate(
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


def _log_model_run(
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
    mlflow.set_tags({"model_family": family, "psi_score_status": status})
    params = {"model_family": family, "score_scale": SCORE_SCALE.describe()}
    params.update(
        {k: readable(v) for k, v in fitted.details.items() if not isinstance(v, list | dict)}
    )
    mlflow.log_params(params)
    mlflow.log_metrics({**evaluation, "fit_seconds": fit_seconds})
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
    return info


@dataclass
class TrainingData:
    """The out-of-time split of the training set, and the features chosen for it."""

    x_train: pd.DataFrame
    y_train: np.ndarray
    x_oot: pd.DataFrame
    y_oot: np.ndarray
    train_months: list[str]
    oot_months: list[str]
    selection: FeatureSelection

    @property
    def rows(self) -> dict[str, int]:
        return {"train": len(self.y_train), "oot": len(self.y_oot)}

    @property
    def bad_rates(self) -> dict[str, float]:
        return {"train": float(self.y_train.mean()), "oot": float(self.y_oot.mean())}


def load_training_data(settings: Settings, as_of: dt.date) -> TrainingData:
    """Read the training set (loans applied for up to ``as_of``), pick features, split by month."""
    frame = read_table(settings.warehouse_path, TRAINING_TABLE)
    if frame is None:
        raise TrainingDataError(
            f"table {TRAINING_TABLE} does not exist in {settings.warehouse_path}: build the marts "
            "first"
        )
    frame = frame.assign(**{MONTH: month_labels(frame)})
    frame = frame[frame[MONTH] <= as_of.strftime("%Y-%m")].reset_index(drop=True)
    if frame.empty:
        raise TrainingDataError(f"{TRAINING_TABLE} has no rows on or before {as_of}")
    y = labels_of(frame)
    scoring_columns = table_columns(settings.warehouse_path, FEATURES_TABLE)
    selection = select_features(
        frame,
        None if scoring_columns is None else set(scoring_columns),
        yaml_column_meta("fct_application_training_set"),
    )
    train_months, oot_months = out_of_time_split(frame[MONTH])
    is_oot = frame[MONTH].isin(oot_months).to_numpy()
    data = TrainingData(
        x_train=frame.loc[~is_oot],
        y_train=y[~is_oot],
        x_oot=frame.loc[is_oot],
        y_oot=y[is_oot],
        train_months=train_months,
        oot_months=oot_months,
        selection=selection,
    )
    for split, labels in (("training", data.y_train), ("out-of-time", data.y_oot)):
        if np.unique(labels).size < 2:
            raise TrainingDataError(
                f"the {split} months of {TRAINING_TABLE} hold only one class of {LABEL}"
            )
    return data


def _log_run_inputs(data: TrainingData, as_of: dt.date, settings: Settings, workdir: Path) -> None:
    """The parent run's parameters: the data window, the split, the features and the gate."""
    mlflow.log_params(
        {
            "as_of_date": as_of.isoformat(),
            "training_table": TRAINING_TABLE,
            "train_months": ",".join(data.train_months),
            "oot_months": ",".join(data.oot_months),
            "rows_train": data.rows["train"],
            "rows_oot": data.rows["oot"],
            "n_features": len(data.selection.spec.columns),
            "champion_min_auc": settings.champion_min_auc,
            "champion_min_ks": settings.champion_min_ks,
            "champion_max_auc_drop": settings.champion_max_auc_drop,
            "score_scale": SCORE_SCALE.describe(),
        }
    )
    mlflow.log_metrics({f"{split}_bad_rate": rate for split, rate in data.bad_rates.items()})
    path = workdir / "features.json"
    path.write_text(
        json.dumps({**data.selection.spec.to_dict(), "excluded": data.selection.excluded}, indent=2)
    )
    mlflow.log_artifact(str(path))


def _fit_log_register(
    family: str,
    data: TrainingData,
    *,
    as_of: dt.date,
    experiment_id: str,
    parent_run_id: str,
    settings: Settings,
    workdir: Path,
) -> ModelOutcome:
    """Fit one family in its own child run, log it, and register it as a version of the model."""
    with mlflow.start_run(
        experiment_id=experiment_id, run_name=f"{family} {as_of}", nested=True
    ) as child:
        started = time.perf_counter()
        fitted = build_model(family, data.x_train, data.y_train, data.selection.spec, seed=SEED)
        fit_seconds = time.perf_counter() - started
        evaluation, predictions = _evaluate(
            fitted, data.x_train, data.y_train, data.x_oot, data.y_oot
        )
        info = _log_model_run(
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
        REGISTERED_MODEL,
        tags={
            "model_family": family,
            "oot_auc": f"{evaluation['oot_auc']:.6f}",
            "oot_ks": f"{evaluation['oot_ks']:.6f}",
            "as_of_date": as_of.isoformat(),
            "run_id": child.info.run_id,
            "training_run_id": parent_run_id,
            "oot_months": ",".join(data.oot_months),
        },
    )
    return ModelOutcome(family, child.info.run_id, str(version.version), evaluation, fitted.details)


def apply_gate(
    client: MlflowClient,
    outcomes: dict[str, ModelOutcome],
    previous_version: str | None,
    data: TrainingData,
    settings: Settings,
) -> dict[str, Any]:
    """Give the run's best candidate the alias ``champion`` or ``challenger`` (module docstring)."""
    candidate = max(outcomes.values(), key=lambda o: o.metrics["oot_auc"])
    previous_auc: float | None = None
    promoted, reason = False, ""
    if previous_version is not None:
        try:
            previous_auc = reevaluate(previous_version, data.x_oot, data.y_oot)
        except (FeatureError, MlflowException, OSError) as error:
            reason = (
                f"current champion version {previous_version} could not be re-evaluated on "
                f"this run's out-of-time rows ({error}); promotion needs a manual decision"
            )
    if not reason:
        promoted, reason = gate(
            candidate.metrics["oot_auc"],
            candidate.metrics["oot_ks"],
            previous_auc,
            min_auc=settings.champion_min_auc,
            min_ks=settings.champion_min_ks,
            max_auc_drop=settings.champion_max_auc_drop,
        )
    alias = CHAMPION if promoted else CHALLENGER
    client.set_registered_model_alias(REGISTERED_MODEL, alias, candidate.version)
    client.set_model_version_tag(REGISTERED_MODEL, candidate.version, "gate_decision", alias)
    mlflow.set_tags({"gate_decision": alias, "gate_reason": reason[:4000]})
    if previous_auc is not None:
        mlflow.log_metric("previous_champion_oot_auc", previous_auc)
    return {
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


def main(as_of_date: str | dt.date, settings: Settings | None = None) -> TrainResult:
    """Train both families out of time, register both, and apply the champion gate.

    The gate (module docstring) decides which alias the better candidate receives; the returned
    :class:`TrainResult` (``to_dict()`` for Airflow's XCom) records metrics, versions, the
    decision and its reason, and the months on each side of the split.
    """
    settings = settings or get_settings()
    as_of = parse_date(as_of_date, "as_of_date")
    data = load_training_data(settings, as_of)
    client = configure_mlflow(settings)
    experiment_id = ensure_experiment(client, EXPERIMENT, settings)
    previous = current_champion(client)
    previous_version = str(previous.version) if previous is not None else None
    with (
        tempfile.TemporaryDirectory(prefix="credit_pd_") as tmp,
        mlflow.start_run(experiment_id=experiment_id, run_name=f"credit_pd {as_of}") as parent,
    ):
        workdir = Path(tmp)
        _log_run_inputs(data, as_of, settings, workdir)
        outcomes = {
            family: _fit_log_register(
                family,
                data,
                as_of=as_of,
                experiment_id=experiment_id,
                parent_run_id=parent.info.run_id,
                settings=settings,
                workdir=workdir,
            )
            for family in MODEL_FAMILIES
        }
        gate_record = apply_gate(client, outcomes, previous_version, data, settings)
        card_path = workdir / "model_card.md"
        card_path.write_text(
            model_card(
                as_of_date=as_of,
                data=data,
                outcomes=outcomes,
                gate_record=gate_record,
                settings=settings,
            ),
            encoding="utf-8",
        )
        mlflow.log_artifact(str(card_path))
        for outcome in outcomes.values():
            client.log_artifact(outcome.run_id, str(card_path))
    return TrainResult(
        as_of_date=as_of.isoformat(),
        run_id=parent.info.run_id,
        experiment_id=experiment_id,
        train_months=data.train_months,
        oot_months=data.oot_months,
        rows=data.rows,
        features=data.selection.spec.to_dict(),
        models=outcomes,
        champion_version=gate_record["champion_version"],
        gate=gate_record,
    )
