"""The names training and scoring must agree on: each model's registry name, table and label.

Training writes these names into MLflow and scoring looks them up again, so they live in one
small module that both import; scoring then needs nothing from training's code (and none of its
imports) to find a champion. Every model the platform registers is a :class:`ModelTarget` in
:data:`MODELS`: what it predicts, the event mart it learns from, its label column and the mart of
applications it scores. Adding a model means adding a target here and its training mart in dbt.
"""

from __future__ import annotations

from dataclasses import dataclass

#: Registry aliases: the version that scores, and the latest candidate that did not pass the gate.
CHAMPION = "champion"
CHALLENGER = "challenger"

#: Every application with what was known when it arrived: what application models score.
FEATURES_TABLE = "marts.fct_application_features"


@dataclass(frozen=True)
class ModelTarget:
    """One registered model: its name (also its MLflow experiment), label and tables."""

    name: str
    title: str  # what a reader calls it, e.g. "application PD (A-card)"
    purpose: str  # one sentence for the model card
    training_table: str  # event mart: one row per labelled example, owned by its label's date
    label: str  # 0/1 column of the training table
    label_meaning: str  # what 1 means
    #: The mart the model scores, whose columns bound the features (a column unknown when scoring
    #: would leak the outcome); None when the training mart holds only what was known at its
    #: event and its dbt YAML marks the rest ``ml_feature: false``.
    features_table: str | None = FEATURES_TABLE
    month: str = "application_month"  # the column the out-of-time split cuts on
    #: Measure what behaviour features do for thin-file applicants (ml.inclusion) in each run.
    measures_inclusion: bool = False
    #: Months between the last training month and the first out-of-time month. A model whose
    #: rows recur for the same loan month after month, each labelled by what happens over the
    #: next months, needs its label window as the gap: a later training row's label would tell
    #: the model the outcome of an out-of-time row of the same loan (ml.split).
    embargo_months: int = 0
    #: The column whose rows recur (one loan's month-end snapshots): the cross-validation that
    #: picks LightGBM's tree count keeps each value's rows in one fold. Split at random instead,
    #: the same loan's neighbouring months, labelled alike, sat on both sides of every fold: the
    #: B-card's inner AUC read 0.94 against 0.78 out of time, and boosting ran to the tree cap.
    cv_group: str | None = None

    @property
    def experiment(self) -> str:
        return self.name

    @property
    def dbt_node(self) -> str:
        """The dbt model behind the training table, as dbt's manifest names it."""
        return f"model.creditlake.{self.training_table.split('.')[-1]}"


CREDIT_PD = ModelTarget(
    name="credit_pd",
    title="application PD (A-card)",
    purpose="Probability that an approved, disbursed application goes bad, used to score new "
    "applications.",
    training_table="marts.fct_application_training_set",
    label="is_bad",
    label_meaning="ever 30+ days past due within 6 months on book (matured loans only)",
    measures_inclusion=True,
)
FRAUD = ModelTarget(
    name="fraud",
    title="application fraud (anti-fraud)",
    purpose="Probability that an approved application is a first-payment default, the way "
    "application fraud shows in a lender's books, used to hold or decline suspected fraud.",
    training_table="marts.fct_fraud_training_set",
    label="is_first_payment_default",
    label_meaning="first instalment 30+ days past due (loans whose first instalment was observed "
    "for 30 days)",
)
C_CARD = ModelTarget(
    name="c_card",
    title="collections (C-card)",
    purpose="Probability that a loan entering collections (an instalment missed while the loan "
    "was current) is not cured within 30 days, used to order the collections queue.",
    training_table="marts.fct_collections_training_set",
    label="is_not_cured",
    label_meaning="the missed instalment still unpaid 30 days after its due date (it rolled to "
    "30+ days past due); 0 = cured",
    features_table="marts.fct_collection_entries",
    month="entry_month",
)
B_CARD = ModelTarget(
    name="b_card",
    title="behaviour (B-card)",
    purpose="Probability that a loan current at a month end is 30+ days past due within the "
    "next 6 months, from its repayment so far and the borrower's recent spending; used to "
    "propose each month's credit-limit increases and decreases on the active book.",
    training_table="marts.fct_b_card_training_set",
    label="is_bad_6m",
    label_meaning="30+ days past due by the end of the sixth month after the month end (matured "
    "snapshots only)",
    features_table="marts.fct_b_card_snapshots",
    month="snapshot_month",
    embargo_months=6,  # the label window (Policy.performance_window_months)
    cv_group="loan_id",
)
#: Every model the platform trains, by registered name.
MODELS: dict[str, ModelTarget] = {
    target.name: target for target in (CREDIT_PD, FRAUD, B_CARD, C_CARD)
}

# The application PD model's names, as the scoring DAG and older callers know them.
EXPERIMENT = CREDIT_PD.experiment
REGISTERED_MODEL = CREDIT_PD.name
TRAINING_TABLE = CREDIT_PD.training_table


def model_target(name: str) -> ModelTarget:
    """The target registered as ``name``; an unknown name is an error that lists the known ones."""
    try:
        return MODELS[name]
    except KeyError:
        raise KeyError(f"no model {name!r}; known: {', '.join(MODELS)}") from None
