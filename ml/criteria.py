"""The champion gate's named criteria: each a value against a threshold from settings.

A credit committee does not promote a model because its AUC is high. It asks five questions, and
the gate (:mod:`ml.gate`) asks them of every candidate, logging each answer with its value and its
threshold (:class:`Criterion`), so a refusal names the criterion that failed:

- **discrimination**: out-of-time AUC and KS above their minimums, and the AUC no worse than the
  current champion's re-scored on the same rows (:func:`discrimination`);
- **calibration**: in each decile of predicted PD, out of time, the observed bad rate within a
  tolerance of the mean predicted PD, widened by three binomial standard errors so that a small
  decile's noise is not read as miscalibration (three, not two: ten deciles are ten chances for
  chance to exceed two; :func:`calibration`);
- **stability**: PSI of the score from the development sample (the training rows) to the latest
  out-of-time month refuses at ``psi_act``; every feature's PSI is logged as a finding, not a
  refusal: on the demo, tenure-like features (months on book, customer tenure) and cities with
  few rows a month shift by construction while the score stays stable (:func:`stability`);
- **fairness**: the approval rate at the strategy's cut-off (:func:`favourable_cutoff`) compared
  across the values of each group: new citizens (新市民), thin-file, sex, age band, urban/rural,
  with group sizes. The ratio lowest/highest below ``gate_fairness_min_ratio`` (the four-fifths
  rule, 0.8) is flagged. Sex is a characteristic a lender may not price or decide by, so a flag
  there refuses promotion. Age is an underwriting factor the lending policy itself uses (minimum
  and maximum borrowing age), and thin-file, new citizens and urban/rural differ in risk for
  real: there the flag is a finding for the committee (the thin-file inclusion table measures
  what behaviour data does for them) that does not by itself refuse (:func:`fairness`);
- **data quality**: every lake snapshot the training set was built from is a delivery its
  quality gate passed and published, and the warehouse's gate passed for the training date
  (:func:`data_quality`).
"""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from creditlake import ledger
from creditlake.lake import Lake
from creditlake.settings import Settings
from ml import metrics
from ml.decisions import Strategy
from ml.limits import REFERENCE_LIMIT_STRATEGY
from ml.models import SCORE_SCALE
from ml.names import B_CARD, CREDIT_PD, FRAUD

DISCRIMINATION = "discrimination"
CALIBRATION = "calibration"
STABILITY = "stability"
FAIRNESS = "fairness"
DATA_QUALITY = "data_quality"
CRITERIA = (DISCRIMINATION, CALIBRATION, STABILITY, FAIRNESS, DATA_QUALITY)

#: Groups whose flag refuses promotion (protected characteristics); the others are findings.
PROTECTED_GROUPS = ("sex",)
#: Standard errors a decile's bad rate may stray from its predicted PD (beyond the tolerance).
CALIBRATION_Z = 3.0
AGE_BANDS = (18, 25, 35, 45, 55)


@dataclass
class Criterion:
    """One check of the gate: its value against its threshold, and whether it blocks."""

    criterion: str
    check: str
    value: float | None
    threshold: float | None
    passed: bool
    detail: str
    #: A failed check that does not refuse promotion (a finding for the committee).
    blocking: bool = True
    table: list[dict[str, Any]] | None = field(default=None, repr=False)

    @property
    def refuses(self) -> bool:
        return self.blocking and not self.passed

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def refusals(criteria: list[Criterion]) -> list[Criterion]:
    return [c for c in criteria if c.refuses]


def discrimination(
    auc: float, ks: float, champion_auc: float | None, settings: Settings
) -> list[Criterion]:
    """AUC and KS minimums, and no worse than the champion re-scored on the same rows."""
    checks = [
        Criterion(
            DISCRIMINATION,
            "auc_min",
            auc,
            settings.champion_min_auc,
            auc >= settings.champion_min_auc,
            f"out-of-time AUC {auc:.4f} (minimum {settings.champion_min_auc:.4f})",
        ),
        Criterion(
            DISCRIMINATION,
            "ks_min",
            ks,
            settings.champion_min_ks,
            ks >= settings.champion_min_ks,
            f"out-of-time KS {ks:.4f} (minimum {settings.champion_min_ks:.4f})",
        ),
    ]
    if champion_auc is not None:
        floor = champion_auc - settings.champion_max_auc_drop
        checks.append(
            Criterion(
                DISCRIMINATION,
                "auc_vs_champion",
                auc,
                floor,
                auc >= floor,
                f"out-of-time AUC {auc:.4f} against the current champion's {champion_auc:.4f} "
                f"on the same rows minus the allowed drop {settings.champion_max_auc_drop:.4f}",
            )
        )
    return checks


def calibration(y_oot: np.ndarray, pd_oot: np.ndarray, settings: Settings) -> Criterion:
    """Observed vs predicted bad rate by decile of predicted PD, out of time (module docstring).

    The value is the largest excess of a decile's gap over its allowance
    (``tolerance + 3·SE``); the check passes when no decile exceeds it (value ≤ 0).
    """
    table = metrics.decile_table(y_oot, pd_oot)
    tolerance = settings.gate_calibration_tolerance
    rows = []
    for band in table.itertuples():
        se = float(np.sqrt(max(band.mean_pd * (1 - band.mean_pd), 1e-12) / band.rows))
        gap = float(band.bad_rate - band.mean_pd)
        allowance = tolerance + CALIBRATION_Z * se
        rows.append(
            {
                "decile": int(band.band),
                "rows": int(band.rows),
                "predicted": float(band.mean_pd),
                "observed": float(band.bad_rate),
                "gap": gap,
                "allowance": allowance,
                "within": abs(gap) <= allowance,
            }
        )
    excess = max(abs(r["gap"]) - r["allowance"] for r in rows)
    worst = max(rows, key=lambda r: abs(r["gap"]) - r["allowance"])
    return Criterion(
        CALIBRATION,
        "calibration_by_decile",
        excess,
        0.0,
        excess <= 0,
        f"{sum(not r['within'] for r in rows)} of {len(rows)} deciles outside tolerance "
        f"{tolerance:.3f} + {CALIBRATION_Z:g} SE; worst decile {worst['decile']}: predicted "
        f"{worst['predicted']:.3f}, observed {worst['observed']:.3f}",
        table=rows,
    )


def feature_psi(expected: pd.Series, actual: pd.Series, floor: float = 1e-4) -> float:
    """PSI of one feature: deciles of the reference for numbers, categories otherwise, and
    missing values as a bin of their own (a feature that starts arriving empty is a shift)."""
    if pd.api.types.is_numeric_dtype(expected) and not pd.api.types.is_bool_dtype(expected):
        e = pd.to_numeric(expected, errors="coerce").to_numpy(float)
        a = pd.to_numeric(actual, errors="coerce").to_numpy(float)
        known = e[~np.isnan(e)]
        edges = np.unique(np.quantile(known, np.linspace(0, 1, 11)[1:-1])) if known.size else []
        n = len(edges) + 2  # the bins, then missing

        def shares(values: np.ndarray) -> np.ndarray:
            bins = np.where(np.isnan(values), n - 1, np.searchsorted(edges, values, side="left"))
            return np.bincount(bins.astype(int), minlength=n) / max(values.size, 1)

        e_share, a_share = shares(e), shares(a)
    else:
        e_counts = expected.astype("string").fillna("<missing>").value_counts(normalize=True)
        a_counts = actual.astype("string").fillna("<missing>").value_counts(normalize=True)
        index = e_counts.index.union(a_counts.index)
        e_share = e_counts.reindex(index, fill_value=0).to_numpy(float)
        a_share = a_counts.reindex(index, fill_value=0).to_numpy(float)
    e_share, a_share = np.maximum(e_share, floor), np.maximum(a_share, floor)
    return float(((a_share - e_share) * np.log(a_share / e_share)).sum())


def latest_window(months: np.ndarray, min_rows: int) -> tuple[np.ndarray, str]:
    """The rows of the latest month, widened back month by month until they number
    ``min_rows`` (a PSI over a few dozen rows measures empty bins, not a shift), and its label."""
    chosen: list[str] = []
    mask = np.zeros(len(months), dtype=bool)
    for month in sorted(set(months), reverse=True):
        chosen.append(str(month))
        mask |= months == month
        if mask.sum() >= min_rows:
            break
    label = chosen[0] if len(chosen) == 1 else f"{chosen[-1]}..{chosen[0]}"
    return mask, label


def stability(
    x_train: pd.DataFrame,
    x_oot: pd.DataFrame,
    pd_train: np.ndarray,
    pd_oot: np.ndarray,
    months: np.ndarray,
    features: list[str],
    settings: Settings,
) -> list[Criterion]:
    """PSI of the score and of each feature, development sample vs the latest month.

    The latest month is widened to the latest months holding ``monitoring_min_rows`` rows (the
    same floor the monitoring DAG judges a PSI on); if the whole out-of-time window holds fewer,
    the PSI is reported and not judged. At or above ``psi_act`` the score's shift refuses;
    between ``psi_watch`` and ``psi_act`` it passes with a note to watch it.
    """
    act, watch = settings.psi_act, settings.psi_watch
    latest, window = latest_window(np.asarray(months), settings.monitoring_min_rows)
    judged = latest.sum() >= settings.monitoring_min_rows
    x_latest, pd_latest = x_oot.loc[latest], np.asarray(pd_oot)[latest]
    score_psi = metrics.psi(SCORE_SCALE.score(pd_train), SCORE_SCALE.score(pd_latest))
    table = [
        {"feature": name, "psi": feature_psi(x_train[name], x_latest[name])} for name in features
    ]
    table.sort(key=lambda row: -row["psi"])
    for row in table:
        row["status"] = metrics.psi_status(row["psi"], watch=watch, act=act)
    detail = (
        f"score PSI {score_psi:.4f}, development sample vs {window} ({int(latest.sum())} rows; "
        f"act at {act:.2f}, watch at {watch:.2f})"
    )
    if not judged:
        detail += f"; not judged: fewer than {settings.monitoring_min_rows} out-of-time rows"
    checks = [
        Criterion(STABILITY, "psi_score", score_psi, act, not judged or score_psi < act, detail)
    ]
    shifted = [row for row in table if row["psi"] >= act]
    worst = table[0] if table else {"feature": "-", "psi": 0.0}
    checks.append(
        Criterion(
            STABILITY,
            "psi_features",
            worst["psi"],
            act,
            not shifted,
            f"{len(shifted)} of {len(table)} features at PSI ≥ {act:.2f} vs {window}"
            + (f" ({', '.join(r['feature'] for r in shifted[:5])})" if shifted else "")
            + f"; largest {worst['feature']} {worst['psi']:.4f}; a finding, not a refusal",
            blocking=False,
            table=table,
        )
    )
    return checks


def favourable_cutoff(model_name: str, pd_train: np.ndarray) -> tuple[float, str]:
    """The PD below which the strategy treats a case favourably, and where that cut-off is from.

    Applications: approved by the credit (``credit_pd``) or fraud rule of the decision strategy.
    B-card: a limit not decreased. The C-card only orders the collections queue; with no cut-off
    there, the development sample's median PD stands in (the favoured half of the queue).
    """
    strategy = Strategy()
    if model_name == CREDIT_PD.name:
        return strategy.pd_refer, "decision strategy: PD below the credit refer cut-off"
    if model_name == FRAUD.name:
        return strategy.fraud_refer, "decision strategy: fraud PD below the refer cut-off"
    if model_name == B_CARD.name:
        cutoff = REFERENCE_LIMIT_STRATEGY.decrease_from_pd
        return cutoff, "limit strategy: PD below the limit-decrease cut-off"
    return float(np.median(pd_train)), "no strategy cut-off: the development sample's median PD"


def fairness_groups(x: pd.DataFrame) -> dict[str, pd.Series]:
    """Each fairness group's value per row (None where the column is absent)."""
    groups: dict[str, pd.Series] = {}
    flags = {
        "new_citizen": ("is_new_citizen", "new citizen", "local"),
        "thin_file": ("has_bureau_report", "bureau record", "thin file"),
        "urban_rural": ("is_urban", "urban", "rural"),
    }
    for group, (column, yes, no) in flags.items():
        if column in x:
            values = x[column].astype("boolean")
            groups[group] = values.map({True: yes, False: no}).astype("string")
    if "sex" in x:
        groups["sex"] = x["sex"].astype("string")
    if "age_at_application_years" in x:
        age = pd.to_numeric(x["age_at_application_years"], errors="coerce")
        labels = [f"{a}-{b - 1}" for a, b in itertools.pairwise(AGE_BANDS)]
        labels.append(f"{AGE_BANDS[-1]}+")
        bands = pd.cut(age, [*AGE_BANDS, np.inf], right=False, labels=labels)
        groups["age_band"] = bands.astype("string")
    return groups


def fairness(
    x_oot: pd.DataFrame, pd_oot: np.ndarray, cutoff: float, source: str, settings: Settings
) -> list[Criterion]:
    """Approval-rate ratio lowest/highest per group at the cut-off, out of time."""
    approved = pd.Series(np.asarray(pd_oot) < cutoff, index=x_oot.index)
    minimum_rows = settings.gate_fairness_min_group_rows
    min_ratio = settings.gate_fairness_min_ratio
    checks = []
    for group, values in fairness_groups(x_oot).items():
        frame = pd.DataFrame({"value": values, "approved": approved}).dropna()
        stats = frame.groupby("value")["approved"].agg(["size", "mean"]).reset_index()
        table = [
            {"value": str(r.value), "rows": int(r.size), "approval_rate": float(r.mean)}
            for r in stats.itertuples()
        ]
        judged = [row for row in table if row["rows"] >= minimum_rows]
        blocking = group in PROTECTED_GROUPS
        rates = [row["approval_rate"] for row in judged]
        if len(judged) < 2 or max(rates) == 0:
            checks.append(
                Criterion(
                    FAIRNESS,
                    f"approval_ratio:{group}",
                    None,
                    min_ratio,
                    True,
                    f"{group}: fewer than two values with {minimum_rows}+ rows (or nobody "
                    "approved); not assessable",
                    blocking,
                    table,
                )
            )
            continue
        ratio = min(rates) / max(rates)
        for row in table:
            row["ratio_to_highest"] = row["approval_rate"] / max(rates) if max(rates) else None
        ordered = sorted(judged, key=lambda row: row["approval_rate"])
        low, high = ordered[0], ordered[-1]
        checks.append(
            Criterion(
                FAIRNESS,
                f"approval_ratio:{group}",
                ratio,
                min_ratio,
                ratio >= min_ratio,
                f"{group}: approval rate {low['approval_rate']:.1%} for {low['value']} "
                f"({low['rows']} rows) vs {high['approval_rate']:.1%} for {high['value']} "
                f"({high['rows']} rows) at PD < {cutoff:.3f} ({source})"
                + ("" if blocking else "; a finding, not a refusal"),
                blocking,
                table,
            )
        )
    return checks


def warehouse_verdicts(lake: Lake, as_of_date: dt.date) -> dict[str, ledger.GateResult]:
    """The latest verdict of each warehouse suite for the date (the gates that validated the
    marts this training set was read from, :mod:`creditlake.ledger`)."""
    from pyiceberg.expressions import And, EqualTo

    condition = And(EqualTo("subject", "warehouse"), EqualTo("as_of_date", as_of_date.isoformat()))
    latest: dict[str, ledger.GateResult] = {}
    for row in ledger.rows(lake, ledger.GATE_RESULTS, condition):
        latest[row["suite"]] = ledger.GateResult(**row)
    return latest


def data_quality(lake: Lake, snapshots: dict[str, int], as_of_date: dt.date) -> list[Criterion]:
    """Whether every snapshot trained on was published by its gate, and whether every warehouse
    gate of the training date passed (the marts are built and validated together, so one
    failed suite means the date's build is not trusted)."""
    published = {
        (delivery.source, delivery.bronze_snapshot_id)
        for delivery in ledger.deliveries(lake)
        if delivery.status == ledger.PUBLISHED
    }
    table = []
    for table_name, snapshot in sorted(snapshots.items()):
        source = table_name.split(".", 1)[-1]
        table.append(
            {
                "table": table_name,
                "snapshot_id": snapshot,
                "published_by_gate": (source, snapshot) in published,
            }
        )
    unpassed = [row["table"] for row in table if not row["published_by_gate"]]
    gated = len(table) - len(unpassed)
    detail = f"{gated} of {len(table)} lake snapshots trained on were published by their gate"
    checks = [
        Criterion(
            DATA_QUALITY,
            "snapshots_gated",
            float(gated),
            float(len(table)),
            bool(table) and not unpassed,
            (detail + (f"; not: {', '.join(unpassed)}" if unpassed else ""))
            if table
            else "no lake snapshots recorded for the training set",
            table=table,
        )
    ]
    verdicts = warehouse_verdicts(lake, as_of_date)
    if not verdicts:
        checks.append(
            Criterion(
                DATA_QUALITY,
                "warehouse_gates",
                None,
                None,
                False,
                f"no warehouse quality gate recorded for {as_of_date}",
            )
        )
    for suite, result in sorted(verdicts.items()):
        state = "passed" if result.passed else f"failed ({result.detail or 'critical checks'})"
        checks.append(
            Criterion(
                DATA_QUALITY,
                f"warehouse_gate:{suite}",
                None,
                None,
                result.passed,
                f"quality gate {suite} for {as_of_date}: {state}",
            )
        )
    return checks
