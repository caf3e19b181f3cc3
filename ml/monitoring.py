"""Monitoring each champion as its loans mature: stability month by month, then performance.

A model is validated once, on the months it was trained and tested on; after that the book it
scores moves on. For every model of :data:`ml.names.MODELS` whose registry has a ``champion``,
:func:`main` measures, as of a date D (the weekly DAG's logical date):

- **stability**, for each month after the champion's development window up to the month of D:
  the PSI of the score and of every feature the model reads, from the development sample to the
  month. The development sample is the scored population of the months the champion trained on
  (its training run's ``train_months``), taken from the same table the later months come from
  (the target's ``features_table``). Comparing like with like matters: the training mart holds
  only approved, matured loans, and its PSI against every application of a month would be
  mostly the lender's approval rate. No labels are needed, so drift shows months before
  performance can;
- **performance**, for each month after the development window whose rows have reached their
  label's horizon (the labelled rows of the training mart): rows, bads, observed and mean
  predicted bad rate, and the champion's AUC.

Each month gets a severity, ``ok``, ``warn`` or ``fail``, from thresholds in settings: score PSI
below ``psi_watch`` is ok, up to ``psi_act`` warn, above it fail; a feature above ``psi_act``
raises its month to at least warn (a shifted feature can be hidden in the score by others moving
the other way, and it is the first thing to look at when the score shifts). A month's AUC more
than ``monitoring_auc_warn_drop`` below the champion's out-of-time AUC warns and more than
``monitoring_auc_fail_drop`` fails, each beyond two standard errors of the month's AUC (as the
gate's calibration criterion allows two for a decile): a month of 40 bads measures AUC to about
±0.05, and its noise must not read as a broken model. A month with fewer than
``monitoring_min_bads`` bads (or goods) is reported but not judged, and so is the PSI of a month
of fewer than ``monitoring_min_rows`` rows.

Everything is read as of D: rows owned by dates after D (their ``as_of_date``) are left out, so a
re-run of D sees the same rows. :mod:`ml.monitoring_tables` writes the results, and
:mod:`ml.monitoring_plots` draws the trends.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from creditlake.lake import parse_date
from creditlake.settings import Settings, get_settings
from creditlake.severity import FAIL, WARN
from ml import metrics
from ml.criteria import feature_psi
from ml.data import OWNER_DATE, labels_of, month_labels, read_table
from ml.models import SCORE_SCALE
from ml.monitoring_rules import (
    MonitoringError,
    Thresholds,
    worst,
)
from ml.monitoring_tables import (
    COLUMNS,
    FEATURE_PSI_TABLE,
    PERFORMANCE_TABLE,
    STABILITY_TABLE,
    MonitorResult,
)
from ml.names import CHAMPION, ModelTarget, model_target


@dataclass(frozen=True)
class Champion:
    """What monitoring needs of a champion version: its window, reference AUC and features."""

    model_name: str
    version: int
    train_months: tuple[str, ...]
    trained_as_of: dt.date
    oot_auc: float
    features: tuple[str, ...]

    @property
    def last_train_month(self) -> str:
        return max(self.train_months)


def stability(
    champion: Champion,
    development: pd.DataFrame,
    development_pd: np.ndarray,
    recent: pd.DataFrame,
    recent_pd: np.ndarray,
    months: pd.Series,
    thresholds: Thresholds,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One stability row per month of ``months`` (the recent rows' ``yyyy-mm``), and the PSI of
    every feature of every month (the rows of ``ml.monitoring_stability`` and
    ``ml.monitoring_feature_psi`` without the model, version and date columns)."""
    development_score = SCORE_SCALE.score(development_pd)
    recent_score = SCORE_SCALE.score(recent_pd)
    month_values = months.to_numpy()
    summary, per_feature = [], []
    for month in sorted(set(month_values)):
        in_month = month_values == month
        rows = recent.loc[in_month]
        psi_score = metrics.psi(development_score, recent_score[in_month])
        psis = {name: feature_psi(development[name], rows[name]) for name in champion.features}
        for name, value in psis.items():
            per_feature.append(
                {
                    "month": month,
                    "feature": name,
                    "psi": value,
                    "severity": thresholds.psi_severity(value, len(rows)),
                }
            )
        worst_feature = max(psis, key=psis.__getitem__) if psis else None
        feature_max = psis[worst_feature] if worst_feature else None
        severity = thresholds.psi_severity(psi_score, len(rows))
        if feature_max is not None and thresholds.psi_severity(feature_max, len(rows)) == FAIL:
            severity = worst([severity, WARN])
        summary.append(
            {
                "month": month,
                "rows": int(in_month.sum()),
                "psi_score": psi_score,
                "psi_feature_max": feature_max,
                "worst_feature": worst_feature,
                "severity": severity,
            }
        )
    return pd.DataFrame(summary, columns=STABILITY_FIELDS), pd.DataFrame(
        per_feature, columns=FEATURE_FIELDS
    )


#: What each measure holds: its table's columns without the keys the table writer adds.
_ADDED = ("model_name", "model_version", "as_of_date")
STABILITY_FIELDS = [c for c in COLUMNS[STABILITY_TABLE] if c not in _ADDED]
FEATURE_FIELDS = [c for c in COLUMNS[FEATURE_PSI_TABLE] if c not in _ADDED]
PERFORMANCE_FIELDS = [c for c in COLUMNS[PERFORMANCE_TABLE] if c not in _ADDED]


def performance(
    champion: Champion,
    labels: np.ndarray,
    predicted_pd: np.ndarray,
    months: pd.Series,
    thresholds: Thresholds,
) -> pd.DataFrame:
    """One row per month of labelled rows: observed against predicted bad rate, AUC, severity.

    The AUC is ``None`` in a month with one class only (it is undefined there).
    """
    month_values = months.to_numpy()
    rows = []
    for month in sorted(set(month_values)):
        in_month = month_values == month
        y, p = labels[in_month], predicted_pd[in_month]
        bads = int(y.sum())
        goods = int(y.size - bads)
        auc = metrics.auc(y, p) if bads and goods else None
        se = metrics.auc_standard_error(auc, bads, goods) if auc is not None else None
        rows.append(
            {
                "month": month,
                "rows": int(y.size),
                "bads": bads,
                "bad_rate": bads / y.size,
                "predicted_bad_rate": float(p.mean()),
                "auc": auc,
                "auc_standard_error": se,
                "reference_auc": champion.oot_auc,
                "severity": thresholds.auc_severity(auc, se, champion.oot_auc, bads, goods),
            }
        )
    return pd.DataFrame(rows, columns=PERFORMANCE_FIELDS)


def load_champion(settings: Settings, target: ModelTarget) -> tuple[Champion, Callable] | None:
    """The champion of ``target`` and a function from a feature frame to PDs; ``None`` when no
    version holds the alias.

    The window comes from the version's training run (its tag ``training_run_id`` names the
    parent run, whose params ``train_months`` and ``as_of_date`` say what it learnt from), the
    features from the logged model's signature, so an older champion is monitored on its own
    inputs.
    """
    import mlflow
    from mlflow.exceptions import MlflowException

    from ml.serving import conform_to_schema
    from ml.tracking import configure_mlflow

    client = configure_mlflow(settings)
    try:
        version = client.get_model_version_by_alias(target.name, CHAMPION)
    except MlflowException:
        return None
    run_id = version.tags.get("training_run_id")
    if not run_id:
        raise MonitoringError(
            f"{target.name} v{version.version} has no tag training_run_id: its development "
            "window is unknown (versions registered by ml.train carry it)"
        )
    params = client.get_run(run_id).data.params
    if not params.get("train_months") or not params.get("as_of_date"):
        raise MonitoringError(
            f"training run {run_id} of {target.name} v{version.version} logged no train_months "
            "or as_of_date parameter"
        )
    model = mlflow.pyfunc.load_model(f"models:/{target.name}@{CHAMPION}")
    schema = model.metadata.get_input_schema()
    champion = Champion(
        model_name=target.name,
        version=int(version.version),
        train_months=tuple(m.strip() for m in params["train_months"].split(",") if m.strip()),
        trained_as_of=parse_date(params["as_of_date"], "as_of_date"),
        oot_auc=float(version.tags.get("oot_auc", "nan")),
        features=tuple(schema.input_names()),
    )
    try:
        # The fitted model directly: the pyfunc's predict also explains every row (reasons),
        # which monitoring does not need and which is most of its cost.
        fitted = model.unwrap_python_model().fitted
    except (AttributeError, MlflowException):
        fitted = None

    def predict_pd(frame: pd.DataFrame) -> np.ndarray:
        inputs = conform_to_schema(frame, schema)
        if fitted is not None:
            return np.asarray(fitted.predict_pd(inputs), dtype=float)
        return model.predict(inputs)["pd"].to_numpy(dtype=float)

    return champion, predict_pd


def _owned_by(frame: pd.DataFrame, as_of_date: dt.date) -> pd.DataFrame:
    """The rows known on ``as_of_date``: owned (``as_of_date`` column) by that date or earlier."""
    if OWNER_DATE not in frame.columns:
        return frame
    owned = pd.to_datetime(frame[OWNER_DATE]).dt.date <= as_of_date
    return frame[owned.to_numpy()].reset_index(drop=True)


def read_rows(settings: Settings, table: str, as_of_date: dt.date) -> pd.DataFrame:
    frame = read_table(settings.warehouse_path, table)
    if frame is None:
        raise MonitoringError(
            f"table {table} does not exist in {settings.warehouse_path}: build the marts first"
        )
    return _owned_by(frame, as_of_date)


def monitor(
    champion: Champion,
    predict_pd: Callable[[pd.DataFrame], np.ndarray],
    population: pd.DataFrame,
    labelled: pd.DataFrame,
    target: ModelTarget,
    as_of_date: dt.date,
    thresholds: Thresholds,
) -> MonitorResult:
    """Stability and performance of one champion from its scored population and labelled rows.

    ``population`` is the table the model scores and ``labelled`` its training mart, both as
    known on ``as_of_date``; months after the development window and not after the month of
    ``as_of_date`` are monitored.
    """
    last_month, this_month = champion.last_train_month, as_of_date.strftime("%Y-%m")
    population_months = month_labels(population, target)
    in_development = population_months.isin(champion.train_months).to_numpy()
    development = _owned_by(population.loc[in_development], champion.trained_as_of)
    if development.empty:
        raise MonitoringError(
            f"{target.features_table or target.training_table} has no rows of the development "
            f"months {', '.join(champion.train_months)} of {champion.model_name} "
            f"v{champion.version}"
        )
    is_recent = ((population_months > last_month) & (population_months <= this_month)).to_numpy()
    recent = population.loc[is_recent].reset_index(drop=True)
    recent_months = population_months[is_recent].reset_index(drop=True)
    stable, per_feature = stability(
        champion,
        development,
        predict_pd(development) if len(development) else np.array([]),
        recent,
        predict_pd(recent) if len(recent) else np.array([]),
        recent_months,
        thresholds,
    )
    labelled_months = month_labels(labelled, target)
    is_matured = ((labelled_months > last_month) & (labelled_months <= this_month)).to_numpy()
    matured = labelled.loc[is_matured].reset_index(drop=True)
    performing = performance(
        champion,
        labels_of(matured, target) if len(matured) else np.array([], dtype=int),
        predict_pd(matured) if len(matured) else np.array([]),
        labelled_months[is_matured].reset_index(drop=True),
        thresholds,
    )
    return MonitorResult(
        champion.model_name,
        champion.version,
        as_of_date.isoformat(),
        stable,
        per_feature,
        performing,
    )


def main(
    as_of_date: str | dt.date, settings: Settings | None = None, *, model: str
) -> MonitorResult:
    """Monitor ``model``'s champion as of ``as_of_date``; replace its months' rows, draw its trend.

    A model without a champion returns a result with no version and no rows (nothing to watch).
    """
    from ml.monitoring_plots import plot_model
    from ml.monitoring_tables import read_monitoring, write_monitoring

    settings = settings or get_settings()
    as_of_date = parse_date(as_of_date, "as_of_date")
    target = model_target(model)
    thresholds = Thresholds.from_settings(settings)
    loaded = load_champion(settings, target)
    if loaded is None:  # empty tables, with their columns: the result still reads as one
        return MonitorResult(
            model,
            None,
            as_of_date.isoformat(),
            pd.DataFrame(columns=STABILITY_FIELDS),
            pd.DataFrame(columns=FEATURE_FIELDS),
            pd.DataFrame(columns=PERFORMANCE_FIELDS),
        )
    champion, predict_pd = loaded
    population = read_rows(settings, target.features_table or target.training_table, as_of_date)
    labelled = read_rows(settings, target.training_table, as_of_date)
    result = monitor(champion, predict_pd, population, labelled, target, as_of_date, thresholds)
    write_monitoring(settings.warehouse_path, result)
    plot: Path | None = plot_model(
        settings,
        model,
        read_monitoring(settings, "stability", model),
        read_monitoring(settings, "performance", model),
    )
    result.plot = str(plot) if plot else None
    return result
