"""The figures of a model validation report, section by section, as plain dicts and lists.

:mod:`ml.validation_report` renders these into one HTML page per registered version (the markup
lives in its template). The demo trains eight versions a run, so every section is cheap: it
reads what the run already fitted (the scorecard's optbinning binning and points table, the PDs
on both sides of the split) or computes in a few vectorised passes; the one costly step, TreeSHAP,
runs on a sample (:data:`IMPORTANCE_ROWS`).

No section copies an applicant's record: per-row explanations name features and their pushes
on the log-odds, never the applicant's values or identifiers (the same rule as the synthetic
input example in :meth:`ml.models.FeatureSpec.typical_row`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ml import metrics
from ml.data import month_labels
from ml.lineage import TrainingLineage
from ml.models import (
    ADVERSE_MIN_LOG_ODDS,
    REASON_COUNT,
    SCORE_SCALE,
    FittedPDModel,
    LightGBMPD,
    ScorecardPD,
)
from ml.split import TrainingData

#: Information value below which a feature is "not predictive" (Siddiqi's usual reading).
WEAK_IV = 0.02
#: PD percentiles of the out-of-time rows whose explanations the report shows.
EXAMPLE_PERCENTILES = (95, 50, 5)
#: Features listed per example row, by the size of their push on the log-odds.
EXAMPLE_TOP_FEATURES = 5
#: At most this many out-of-time rows (evenly spaced) are explained to measure global importance:
#: TreeSHAP over the B-card's 2,000 trees costs about 1 ms a row, and on the demo's B-card 400
#: rows ranked the features as all 5,955 did (Spearman 0.998).
IMPORTANCE_ROWS = 400
#: Shares are floored at this before taking logarithms in a stability index (as ml.metrics.psi).
PSI_FLOOR = 1e-4


def fit_binning(x: pd.DataFrame, y: np.ndarray, model: FittedPDModel) -> Any:
    """An optbinning ``BinningProcess`` on the training rows, binned as the scorecard bins them.

    Used for a model that has no binning of its own (LightGBM) when the run has no scorecard to
    borrow one from; the same settings as :func:`ml.fitting.build_scorecard` make the two
    families' IVs comparable.
    """
    from optbinning import BinningProcess

    spec = model.spec
    process = BinningProcess(
        variable_names=spec.columns,
        categorical_variables=list(spec.categorical),
        binning_fit_params={name: {"monotonic_trend": "auto_asc_desc"} for name in spec.numeric},
    )
    return process.fit(spec.prepare(x), np.asarray(y, dtype=int))


@dataclass
class FeatureBinning:
    """optbinning's binning of the training rows: the fitted process and each feature's bins."""

    process: Any
    tables: dict[str, pd.DataFrame]
    #: Whether ``tables`` carry the reported model's own scorecard points.
    with_points: bool

    @classmethod
    def of(
        cls, model: FittedPDModel, data: TrainingData, scorecard: ScorecardPD | None = None
    ) -> FeatureBinning:
        """The scorecard's own binning; for another model the run's ``scorecard``'s (same
        training rows, same features), or one fitted here when the run has none.

        A scorecard's points table already holds its variables' bins (optbinning builds it once
        at fit), so only the tables of variables it left out are built.
        """
        source = model if isinstance(model, ScorecardPD) else scorecard
        tables: dict[str, pd.DataFrame] = {}
        if source is None:
            process = fit_binning(data.x_train, data.y_train, model)
        else:
            process = source.estimator.binning_process_
            for name, rows in source.points_table().groupby("Variable", sort=False):
                tables[str(name)] = rows if source is model else rows.drop(columns="Points")
        for name in model.spec.columns:
            if name not in tables:
                table = process.get_binned_variable(name).binning_table.build()
                tables[name] = table.drop(index="Totals", errors="ignore")
        return cls(process, tables, with_points=source is model)


# Purpose and population ------------------------------------------------------------------------
def population(data: TrainingData) -> dict[str, Any]:
    """The target, the window and split, and rows, bads and bad rate per month and side."""
    target = data.target
    months = []
    splits = (("train", data.x_train, data.y_train), ("out-of-time", data.x_oot, data.y_oot))
    for side, x, y in splits:
        frame = pd.DataFrame({"month": month_labels(x, target).to_numpy(), "bad": y})
        for month, group in frame.groupby("month", sort=True):
            months.append(
                {
                    "month": str(month),
                    "side": side,
                    "rows": len(group),
                    "bads": int(group["bad"].sum()),
                    "bad_rate": float(group["bad"].mean()),
                }
            )
    sides = {
        side: {
            "rows": len(y),
            "bads": int(np.sum(y)),
            "bad_rate": float(np.mean(y)),
            "months": side_months,
        }
        for side, y, side_months in (
            ("train", data.y_train, data.train_months),
            ("oot", data.y_oot, data.oot_months),
        )
    }
    return {
        "name": target.name,
        "title": target.title,
        "purpose": target.purpose,
        "training_table": target.training_table,
        "label": target.label,
        "label_meaning": target.label_meaning,
        "month_column": target.month,
        "embargo_months": target.embargo_months,
        "sides": sides,
        "months": months,
    }


def lineage_rows(lineage: TrainingLineage) -> dict[str, Any]:
    """Lake snapshots and hashes that let ``creditlake reproduce`` rebuild the training set."""
    return {
        "snapshots": [
            {"table": table, "snapshot_id": str(snapshot)}
            for table, snapshot in sorted(lineage.snapshots.items())
        ],
        "manifest_sha256": lineage.manifest_sha256,
        "training_set_sha256": lineage.training_set_sha256,
        "training_set_rows": lineage.training_set_rows,
    }


# Features --------------------------------------------------------------------------------------
def _bin_label(value: Any) -> str:
    """A bin as text: an interval as optbinning prints it, or a category group as a list."""
    if isinstance(value, list | tuple | np.ndarray):
        return ", ".join(str(v) for v in value)
    return str(value)


def _float(value: Any) -> float | None:
    number = pd.to_numeric(value, errors="coerce")
    return None if pd.isna(number) else float(number)


def _explained_rows(x_oot: pd.DataFrame) -> np.ndarray:
    """Positions of the out-of-time rows explained: all, or an evenly spaced sample."""
    if len(x_oot) <= IMPORTANCE_ROWS:
        return np.arange(len(x_oot))
    return np.unique(np.linspace(0, len(x_oot) - 1, IMPORTANCE_ROWS).astype(int))


def explain(
    model: FittedPDModel, x_oot: pd.DataFrame, pd_oot: np.ndarray
) -> tuple[dict[str, dict[str, float]], list[dict[str, Any]]]:
    """Global importance per feature, and a few example rows explained, from one pass of
    :meth:`ml.models.FittedPDModel.risk_contributions` over the out-of-time rows.

    Importance is each feature's mean absolute push on the log-odds (as a share of the total),
    which means the same for both families (scorecard: points below the safest bin; LightGBM:
    TreeSHAP); LightGBM adds its share of the trees' gain and its split count. The examples are
    the explained rows at :data:`EXAMPLE_PERCENTILES` of their PD, each with its largest pushes
    and the adverse factors a decision would quote; no values, no identifiers.
    """
    positions = _explained_rows(x_oot)
    contributions = model.risk_contributions(x_oot.iloc[positions])
    mean_abs = contributions.abs().mean()
    total = float(mean_abs.sum()) or 1.0
    importance = {
        str(name): {"mean_abs_contribution": float(v), "contribution_share": float(v) / total}
        for name, v in mean_abs.items()
    }
    if isinstance(model, LightGBMPD):
        booster = model.estimator.booster_
        gains = booster.feature_importance(importance_type="gain")
        splits = booster.feature_importance(importance_type="split")
        gain_total = float(gains.sum()) or 1.0
        for name, gain, split in zip(model.spec.columns, gains, splits, strict=True):
            entry = importance.setdefault(name, {})
            entry["gain_share"] = float(gain) / gain_total
            entry["splits"] = int(split)
    return importance, examples(
        contributions.to_numpy(float), contributions.columns, pd_oot[positions]
    )


def features(
    model: FittedPDModel, binning: FeatureBinning, importance: dict[str, dict[str, float]]
) -> list[dict[str, Any]]:
    """Every feature with its kind, IV and optbinning bins (with points for the scorecard),
    ordered by IV, strongest first."""
    summary = binning.process.summary().set_index("name")
    in_model = None
    if isinstance(model, ScorecardPD):
        in_model = {str(n) for n in binning.process.get_support(names=True)}
    rows = []
    for name in model.spec.columns:
        table = binning.tables[name]
        has_points = binning.with_points and "Points" in table.columns
        bins = [
            {
                "bin": _bin_label(row["Bin"]),
                "count": int(row["Count"]),
                "share": float(row["Count (%)"]),
                "event_rate": _float(row["Event rate"]),
                "woe": _float(row["WoE"]),
                "iv": _float(row["IV"]),
                "points": float(row["Points"]) if has_points else None,
            }
            # an empty bin matters only when it carries points (e.g. a missing value's)
            for _, row in table.iterrows()
            if has_points or int(row["Count"]) > 0
        ]
        rows.append(
            {
                "name": name,
                "kind": "categorical" if name in model.spec.categorical else "numeric",
                "iv": _float(summary.loc[name, "iv"]) or 0.0,
                "n_bins": int(summary.loc[name, "n_bins"]),
                "in_model": True if in_model is None else name in in_model,
                "bins": bins,
                **importance.get(name, {}),
            }
        )
    return sorted(rows, key=lambda r: (-r["iv"], r["name"]))


# Performance and calibration -------------------------------------------------------------------
def auc_interval(auc: float, n_bad: int, n_good: int) -> tuple[float, float]:
    """95% interval of an AUC from Hanley and McNeil's (1982) standard error.

    A rough interval, but it shows a reader how much an AUC measured on a few hundred bads can
    move by chance alone.
    """
    q1 = auc / (2 - auc)
    q2 = 2 * auc**2 / (1 + auc)
    variance = (auc * (1 - auc) + (n_bad - 1) * (q1 - auc**2) + (n_good - 1) * (q2 - auc**2)) / (
        n_bad * n_good
    )
    half = 1.96 * math.sqrt(max(variance, 0.0))
    return max(0.0, auc - half), min(1.0, auc + half)


def performance(
    metrics_: dict[str, float], data: TrainingData, pd_oot: np.ndarray
) -> dict[str, Any]:
    """AUC, KS and Gini on both sides, the OOT AUC's interval and the OOT decile table."""
    n_bad = int(np.sum(data.y_oot))
    low, high = auc_interval(metrics_["oot_auc"], n_bad, len(data.y_oot) - n_bad)
    deciles = metrics.decile_table(data.y_oot, pd_oot)
    deciles["max_score"] = SCORE_SCALE.score(deciles["min_pd"].to_numpy())
    deciles["min_score"] = SCORE_SCALE.score(deciles["max_pd"].to_numpy())
    return {
        "rows": [
            {
                "side": side,
                "auc": metrics_[f"{key}_auc"],
                "ks": metrics_[f"{key}_ks"],
                "gini": metrics_[f"{key}_gini"],
            }
            for side, key in (("train", "train"), ("out-of-time", "oot"))
        ],
        "oot_auc_interval": (low, high),
        "deciles": deciles.to_dict(orient="records"),
    }


def calibration(data: TrainingData, pd_oot: np.ndarray) -> dict[str, Any]:
    """Predicted against observed bad rate on the out-of-time rows, overall and per decile."""
    deciles = metrics.decile_table(data.y_oot, pd_oot)
    predicted, observed = float(np.mean(pd_oot)), float(np.mean(data.y_oot))
    return {
        "predicted": predicted,
        "observed": observed,
        "ratio": predicted / observed if observed else None,
        "max_decile_gap": float((deciles["mean_pd"] - deciles["bad_rate"]).abs().max()),
        "deciles": [
            {
                "band": int(row.band),
                "rows": int(row.rows),
                "predicted": float(row.mean_pd),
                "observed": float(row.bad_rate),
            }
            for row in deciles.itertuples()
        ],
    }


# Stability -------------------------------------------------------------------------------------
def _index_shares(indices: np.ndarray) -> pd.Series:
    return pd.Series(indices).value_counts(normalize=True)


def feature_stability(
    model: FittedPDModel, binning: FeatureBinning, data: TrainingData
) -> dict[str, float]:
    """Characteristic stability index of each feature: the PSI of its optbinning bins from the
    training rows to the out-of-time rows (missing and special values are bins of their own)."""
    spec = model.spec
    train = binning.process.transform(spec.prepare(data.x_train), metric="indices")
    oot = binning.process.transform(spec.prepare(data.x_oot), metric="indices")
    result = {}
    for name in spec.columns:
        expected, actual = _index_shares(train[name]), _index_shares(oot[name])
        shares = pd.concat([expected, actual], axis=1, keys=["e", "a"]).fillna(0.0)
        e = np.maximum(shares["e"].to_numpy(), PSI_FLOOR)
        a = np.maximum(shares["a"].to_numpy(), PSI_FLOOR)
        result[name] = float(np.sum((a - e) * np.log(a / e)))
    return result


def stability(
    predictions: dict[str, np.ndarray],
    csi: dict[str, float],
    *,
    watch: float,
    act: float,
) -> dict[str, Any]:
    """The score's PSI from training to out-of-time (per score band) and each feature's CSI."""
    train = SCORE_SCALE.score(predictions["train"])
    oot = SCORE_SCALE.score(predictions["oot"])
    table = metrics.psi_table(train, oot)
    value = float(table["contribution"].sum())
    return {
        "psi": value,
        "status": metrics.psi_status(value, watch=watch, act=act),
        "watch": watch,
        "act": act,
        "bands": table.to_dict(orient="records"),
        "features": [
            {"name": name, "csi": v, "status": metrics.psi_status(v, watch=watch, act=act)}
            for name, v in sorted(csi.items(), key=lambda item: (-item[1], item[0]))
        ],
    }


# Explanations ----------------------------------------------------------------------------------
def adverse_factors(pushes: np.ndarray, names: Any) -> list[str]:
    """The reasons :meth:`ml.models.FittedPDModel.adverse_factors` quotes for one row, from
    its pushes already computed (the same rule: the largest rises in risk above a minimum)."""
    order = np.argsort(-pushes, kind="stable")[:REASON_COUNT]
    return [str(names[i]) for i in order if pushes[i] > ADVERSE_MIN_LOG_ODDS]


def examples(pushes: np.ndarray, names: Any, pd_rows: np.ndarray) -> list[dict[str, Any]]:
    """Rows at :data:`EXAMPLE_PERCENTILES` of PD with their largest pushes on the log-odds."""
    order = np.argsort(pd_rows, kind="stable")
    result = []
    for percentile in EXAMPLE_PERCENTILES:
        row = int(order[min(len(order) - 1, round(percentile / 100 * (len(order) - 1)))])
        top = np.argsort(-np.abs(pushes[row]), kind="stable")[:EXAMPLE_TOP_FEATURES]
        result.append(
            {
                "percentile": percentile,
                "pd": float(pd_rows[row]),
                "score": float(SCORE_SCALE.score(pd_rows[row : row + 1])[0]),
                "pushes": [
                    {
                        "feature": str(names[i]),
                        "log_odds": float(pushes[row, i]),
                        "points": -SCORE_SCALE.factor * float(pushes[row, i]),
                    }
                    for i in top
                ],
                "adverse_factors": adverse_factors(pushes[row], names),
            }
        )
    return result
