"""The model card: what the model is, on which data, how good it is, and the gate's decision.

One Markdown page per training run, logged next to the models (:mod:`ml.run_logging`), so that a
credit committee or a validator reads the purpose, the data window and split, the metrics of both
families, the score scale, the gate's rule and decision, the features and every excluded column
with its reason without opening the tracking store's tables.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from creditlake.settings import Settings
from ml.models import SCORE_SCALE
from ml.names import CHALLENGER, CHAMPION
from ml.run_logging import ModelOutcome
from ml.split import OOT_SHARE, TrainingData


def _figure(value: float | None) -> str:
    return "–" if value is None else f"{value:.4f}"


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
    target = data.target
    lines = [
        f"# Model card: `{target.name}` ({target.title}), as of {as_of_date}",
        "",
        "## Purpose",
        f"{target.purpose} Label `{target.label}` = 1: {target.label_meaning}.",
        "",
        "## Data window and split",
        f"- Source: `{target.training_table}`.",
        f"- Application months: {train_months[0]} to {oot_months[-1]}.",
        f"- Training months: {', '.join(train_months)} ({rows['train']} loans, bad rate "
        f"{bad_rates['train']:.2%}).",
        f"- Out-of-time months: {', '.join(oot_months)} ({rows['oot']} loans, bad rate "
        f"{bad_rates['oot']:.2%}): the latest whole months nearest {OOT_SHARE:.0%} of loans.",
        "- LightGBM's number of trees is chosen by 5-fold cross-validation inside the "
        "*training* rows; the out-of-time rows influence no choice.",
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
        f"The better out-of-time AUC of the run becomes `{CHAMPION}` only if every blocking "
        "check below passes (criteria and thresholds: `ml/criteria.py`, all from settings); "
        f"otherwise it becomes `{CHALLENGER}`. Findings are shown but do not refuse.",
        "",
        "| criterion | check | value | threshold | result |",
        "|---|---|---|---|---|",
        *(
            f"| {c['criterion']} | {c['check']} | {_figure(c['value'])} "
            f"| {_figure(c['threshold'])} | "
            + ("pass" if c["passed"] else ("**FAIL**" if c["blocking"] else "finding"))
            + " |"
            for c in gate_record.get("criteria", [])
        ),
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
