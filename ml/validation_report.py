"""The validation report of each registered model version: one self-contained HTML page.

A model risk reviewer (SR 11-7's "effective challenge") needs one document per version that
says what the model is for and on which population, where its data came from, which features it
uses and how strong each is, how it performs on months it never saw, whether its PDs are
calibrated and its inputs stable, whether it treats groups fairly, how it explains a decision,
what the champion gate decided and why, and what the evidence cannot show. The training run
(:func:`ml.train.main`) builds it for every version right after the gate and logs it as
``validation_report.html`` at the root of the version's run (:func:`log_validation_reports`);
the version's tag ``validation_report`` points at it.

The figures come from :mod:`ml.validation_sections`; the gate's named criteria (calibration,
stability, fairness, data quality) come from the gate's record, evaluated for the run's
candidate only. The page embeds its plots as base64 PNGs and its style inline, so it opens
offline and can be archived as a single file. It holds no identifier and no applicant's values.
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2
import numpy as np
import pandas as pd
from mlflow import MlflowClient

from creditlake.settings import Settings
from ml import plots
from ml import validation_sections as sections
from ml.lineage import TrainingLineage
from ml.models import LR_SCORECARD, SCORE_SCALE, ScorecardPD
from ml.names import CHALLENGER, CHAMPION
from ml.run_logging import ModelOutcome
from ml.split import OOT_SHARE, TrainingData

REPORT_FILE = "validation_report.html"
#: The model-version tag that holds the report's artifact URI.
REPORT_TAG = "validation_report"
TEMPLATE = "validation_report.html.j2"

#: Limitations are written when the evidence is thinner than these.
SMALL_MONTH_ROWS = 100  # a month this small weighs little and measures noisily
MIN_OOT_BADS = 100  # fewer out-of-time bads leave the AUC wide open
MIN_HISTORY_MONTHS = 24  # two years: with fewer, each season is seen once at most
MAX_TRAIN_OOT_AUC_GAP = 0.05  # a wider gap suggests over-fitting or drift


@dataclass
class ReportImages:
    """PNG files of the version's ROC and KS plots (as the run logged them)."""

    roc: Path
    ks: Path

    @classmethod
    def draw(cls, outcome: ModelOutcome, data: TrainingData, folder: Path) -> ReportImages:
        """Draw the plots the run logs (:func:`ml.run_logging.log_model_run`) into ``folder``."""
        family, predictions = outcome.family, outcome.predictions
        return cls(
            roc=plots.plot_roc(
                {
                    "train": (data.y_train, predictions["train"]),
                    "out-of-time": (data.y_oot, predictions["oot"]),
                },
                folder / "roc.png",
                f"{family}: ROC",
            ),
            ks=plots.plot_ks(
                data.y_oot, predictions["oot"], folder / "ks_oot.png", f"{family}: KS, out of time"
            ),
        )

    def data_uris(self) -> dict[str, str]:
        return {
            name: "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode("ascii")
            for name, path in (("roc", self.roc), ("ks", self.ks))
        }


@dataclass
class ReportContext:
    """What the template renders; :func:`report_context` fills it."""

    header: dict[str, Any]
    population: dict[str, Any]
    lineage: dict[str, Any]
    features: list[dict[str, Any]]
    excluded: list[dict[str, str]]
    performance: dict[str, Any]
    calibration: dict[str, Any]
    stability: dict[str, Any]
    gate: dict[str, Any]
    explanations: dict[str, Any]
    limitations: list[str]
    images: dict[str, str] = field(default_factory=dict)

    def criteria(self, criterion: str) -> list[dict[str, Any]]:
        """The gate's criteria of one kind (``calibration``, ``fairness`` …) for this version."""
        return [c for c in self.gate["criteria"] if c.get("criterion") == criterion]


def gate_section(outcome: ModelOutcome, gate_record: dict[str, Any]) -> dict[str, Any]:
    """The gate's decision as it concerns this version, with its criteria if it was judged."""
    is_candidate = str(gate_record.get("candidate_version")) == str(outcome.version)
    if is_candidate:
        alias = gate_record["alias"]
        outcome_text = (
            f"received the alias “{alias}”"
            if alias == CHAMPION
            else f"was refused “{CHAMPION}” and received “{CHALLENGER}”"
        )
    else:
        outcome_text = (
            f"was not the run's candidate (the candidate was {gate_record.get('candidate_family')} "
            f"version {gate_record.get('candidate_version')}, with the higher out-of-time AUC): "
            "registered without an alias, and the gate evaluated no criteria for it"
        )
    criteria = list(gate_record.get("criteria") or []) if is_candidate else []
    return {
        "is_candidate": is_candidate,
        "outcome": outcome_text,
        "promoted": bool(gate_record.get("promoted")) and is_candidate,
        "reason": gate_record.get("reason", ""),
        "candidate_family": gate_record.get("candidate_family"),
        "candidate_version": gate_record.get("candidate_version"),
        "previous_champion_version": gate_record.get("previous_champion_version"),
        "previous_champion_oot_auc": gate_record.get("previous_champion_oot_auc"),
        "criteria": criteria,
        "failed": [c for c in criteria if not c.get("passed")],
    }


def _is_synthetic(settings: Settings) -> bool:
    """The synthetic generator writes its ground truth next to the data it generates."""
    folder = settings.oracle_dir
    return folder.is_dir() and any(folder.iterdir())


def _listing(names: list[str], shown: int = 8) -> str:
    more = len(names) - shown
    return ", ".join(names[:shown]) + (f" and {more} more" if more > 0 else "")


def limitations(context: ReportContext, outcome: ModelOutcome, settings: Settings) -> list[str]:
    """What the evidence cannot show, written from this run's own figures."""
    notes: list[str] = []
    population = context.population
    train, oot = population["sides"]["train"], population["sides"]["oot"]
    if _is_synthetic(settings):
        notes.append(
            "The data come from the project's synthetic generator (its ground-truth files are "
            "present in this deployment): the figures describe the generator's population, not "
            "a lender's real applicants, and say nothing about real-world performance."
        )
    first, last = train["months"][0], oot["months"][-1]
    months = (pd.Period(last, freq="M") - pd.Period(first, freq="M")).n + 1
    if months < MIN_HISTORY_MONTHS:
        notes.append(
            f"Only {months} months of labelled history ({first} to {last}): no full economic "
            "cycle or repeated seasonality is covered, so performance under a downturn is "
            "untested."
        )
    notes.append(
        "Trained only on booked loans whose labels have matured: applicants the lender declined "
        "are never observed (no reject inference), and the most recent months are absent until "
        "their labels mature."
    )
    thin = [m for m in population["months"] if m["rows"] < SMALL_MONTH_ROWS]
    if thin:
        notes.append(
            "Months with fewer than "
            f"{SMALL_MONTH_ROWS} rows weigh little and measure noisily: "
            + ", ".join(f"{m['month']} ({m['side']}, {m['rows']} rows)" for m in thin)
            + "."
        )
    low, high = context.performance["oot_auc_interval"]
    if oot["bads"] < MIN_OOT_BADS:
        notes.append(
            f"The out-of-time months hold only {oot['bads']} bads: the out-of-time AUC's 95% "
            f"interval is {low:.3f} to {high:.3f}."
        )
    gap = outcome.metrics["train_auc"] - outcome.metrics["oot_auc"]
    if gap > MAX_TRAIN_OOT_AUC_GAP:
        notes.append(
            f"The AUC falls by {gap:.3f} from training to out-of-time rows: over-fitting or a "
            "shift in the population; read the stability section."
        )
    weak = [f["name"] for f in context.features if f["iv"] < sections.WEAK_IV]
    if weak:
        notes.append(
            f"{len(weak)} of {len(context.features)} features have an information value below "
            f"{sections.WEAK_IV} (not predictive on their own): {_listing(weak)}."
        )
    constant = [f["name"] for f in context.features if f["n_bins"] <= 1]
    if constant:
        notes.append(
            f"{len(constant)} features take a single bin on the training rows (constant, so they "
            f"cannot inform this model): {_listing(constant)}."
        )
    drifted = [
        f"{f['name']} ({f['csi']:.3f})"
        for f in context.stability["features"]
        if f["status"] != "stable"
    ]
    if drifted:
        notes.append(
            f"{len(drifted)} features shifted between training and out-of-time rows (stability "
            f"index ≥ {settings.psi_watch}): {_listing(drifted, shown=6)}."
        )
    if context.stability["status"] != "stable":
        notes.append(
            f"The score's PSI from training to out-of-time is {context.stability['psi']:.3f} "
            f"({context.stability['status']})."
        )
    calibration = context.calibration
    if calibration["ratio"] is not None and abs(calibration["ratio"] - 1) > 0.2:
        notes.append(
            f"On out-of-time rows the mean predicted PD ({calibration['predicted']:.2%}) differs "
            f"from the observed bad rate ({calibration['observed']:.2%}) by more than a fifth: "
            "PDs need recalibration before they price or provision."
        )
    minimum = settings.gate_fairness_min_group_rows
    for criterion in context.criteria("fairness"):
        group = str(criterion.get("check", "")).removeprefix("approval_ratio:")
        small = [
            f"{row.get('value')} ({row.get('rows')} rows)"
            for row in criterion.get("table") or []
            if row.get("rows") is not None and row["rows"] < minimum
        ]
        if small:
            notes.append(
                f"Fairness, {group}: {', '.join(small)} below {minimum} rows out of time, so "
                "left out of the approval ratio; their treatment is not assessed."
            )
    if not context.gate["is_candidate"]:
        notes.append(
            "The gate's named criteria (calibration, stability, fairness, data quality) were "
            "evaluated for the run's candidate only, not for this version."
        )
    elif not context.gate["criteria"]:
        notes.append("The gate recorded no named criteria for this run.")
    for failed in context.gate["failed"]:
        kind = "refused promotion" if failed.get("blocking", True) else "flagged as a finding"
        notes.append(f"Gate criterion {failed.get('check')} {kind}: {failed.get('detail')}")
    if outcome.details.get("iv_selection_fallback"):
        notes.append(
            "No feature reached the scorecard's minimum information value, so all were kept."
        )
    if population["embargo_months"]:
        notes.append(
            f"Training stops {population['embargo_months']} months before the out-of-time "
            "months (the label window), so the model is older than its newest data."
        )
    return notes


def report_context(
    outcome: ModelOutcome,
    *,
    data: TrainingData,
    lineage: TrainingLineage,
    gate_record: dict[str, Any],
    settings: Settings,
    as_of_date: dt.date,
    images: ReportImages,
    scorecard: ScorecardPD | None = None,
) -> ReportContext:
    """Every figure of the report of ``outcome``'s version.

    ``scorecard`` is the run's scorecard, whose optbinning binning of the same training rows
    gives a LightGBM version its features' bins and IVs
    (:class:`~ml.validation_sections.FeatureBinning`); without one, a binning is fitted here.
    """
    model = outcome.fitted
    if model is None or set(outcome.predictions) != {"train", "oot"}:
        raise ValueError(
            f"model version {outcome.version} ({outcome.family}) carries no fitted model or "
            "predictions: the validation report is built inside the training run"
        )
    binning = sections.FeatureBinning.of(model, data, scorecard)
    pd_oot = outcome.predictions["oot"]
    importance, examples = sections.explain(model, data.x_oot, pd_oot)
    context = ReportContext(
        header={
            "model_name": data.target.name,
            "title": data.target.title,
            "version": outcome.version,
            "family": outcome.family,
            "run_id": outcome.run_id,
            "as_of_date": as_of_date.isoformat(),
            "score_scale": SCORE_SCALE.describe(),
            "oot_share": OOT_SHARE,
            "details": {k: v for k, v in outcome.details.items() if not isinstance(v, list | dict)},
        },
        population=sections.population(data),
        lineage=sections.lineage_rows(lineage),
        features=sections.features(model, binning, importance),
        excluded=[
            {"column": column, "reason": reason}
            for column, reason in sorted(data.selection.excluded.items())
        ],
        performance=sections.performance(outcome.metrics, data, pd_oot),
        calibration=sections.calibration(data, pd_oot),
        stability=sections.stability(
            outcome.predictions,
            sections.feature_stability(model, binning, data),
            watch=settings.psi_watch,
            act=settings.psi_act,
        ),
        gate=gate_section(outcome, gate_record),
        explanations={
            "family": outcome.family,
            "is_scorecard": outcome.family == LR_SCORECARD,
            "examples": examples,
        },
        limitations=[],
        images=images.data_uris(),
    )
    context.limitations = limitations(context, outcome, settings)
    return context


def _cell(value: Any, digits: int = 4) -> str:
    """A table cell: numbers rounded for reading, missing values as a dash."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if isinstance(value, bool | np.bool_):
        return "yes" if value else "no"
    if isinstance(value, int | np.integer):
        return f"{int(value):,}"
    if isinstance(value, float | np.floating):
        if math.isinf(value):
            return "∞" if value > 0 else "−∞"
        return f"{value:,.{digits}f}"
    return str(value)


def _pct(value: Any, digits: int = 2) -> str:
    return "—" if value is None else f"{float(value):.{digits}%}"


@functools.cache
def _environment() -> jinja2.Environment:
    """One template environment per process: the demo builds eight reports in a row."""
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(Path(__file__).with_name("templates")),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters["cell"] = _cell
    environment.filters["pct"] = _pct
    return environment


def render(context: ReportContext) -> str:
    """The report as one HTML page."""
    return _environment().get_template(TEMPLATE).render(report=context)


def build_validation_report(
    outcome: ModelOutcome,
    *,
    data: TrainingData,
    lineage: TrainingLineage,
    gate_record: dict[str, Any],
    settings: Settings,
    as_of_date: dt.date,
    images: ReportImages,
    scorecard: ScorecardPD | None = None,
) -> str:
    """The HTML validation report of ``outcome``'s version (see the module docstring)."""
    return render(
        report_context(
            outcome,
            data=data,
            lineage=lineage,
            gate_record=gate_record,
            settings=settings,
            as_of_date=as_of_date,
            images=images,
            scorecard=scorecard,
        )
    )


def log_validation_reports(
    client: MlflowClient,
    outcomes: dict[str, ModelOutcome],
    *,
    data: TrainingData,
    lineage: TrainingLineage,
    gate_record: dict[str, Any],
    settings: Settings,
    as_of_date: dt.date,
    workdir: Path,
) -> dict[str, str]:
    """Build every version's report, log it at the root of its run, tag the version with it.

    The plots are the ones the run already drew into ``workdir/<family>``
    (:func:`ml.run_logging.log_model_run`), drawn again only if absent. Returns
    ``{family: artifact URI}``.
    """
    scorecard = next(
        (o.fitted for o in outcomes.values() if isinstance(o.fitted, ScorecardPD)), None
    )
    uris = {}
    for family, outcome in outcomes.items():
        folder = workdir / family
        images = ReportImages(folder / "roc.png", folder / "ks_oot.png")
        if not (images.roc.is_file() and images.ks.is_file()):
            images = ReportImages.draw(outcome, data, folder)
        html = build_validation_report(
            outcome,
            data=data,
            lineage=lineage,
            gate_record=gate_record,
            settings=settings,
            as_of_date=as_of_date,
            images=images,
            scorecard=scorecard,
        )
        path = workdir / "validation" / family / REPORT_FILE
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(html, encoding="utf-8")
        client.log_artifact(outcome.run_id, str(path))
        uris[family] = f"runs:/{outcome.run_id}/{REPORT_FILE}"
        client.set_model_version_tag(data.target.name, outcome.version, REPORT_TAG, uris[family])
    return uris
