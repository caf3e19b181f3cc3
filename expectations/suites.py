"""Expectation suites, built in code from the source registry and the lending policy.

Suites are generated, never hand-edited JSON, so they cannot drift from the schema: a column added
to ``creditlake/sources.py`` is checked at bronze the next time a partition is validated, and a
policy value changed in settings (``CREDITLAKE_APR_CAP``, ``CREDITLAKE_CREDIT_LIMIT_CNY``) changes
the rule everywhere at once.

What lives here, and what does not
----------------------------------
Every rule has one home (``docs/quality.md`` lists each table's rules and where they live):

* the **source registry + Spark ingest job** admit rows: required values, types, amount signs,
  national-ID validity and one row per key within a delivery. A row that breaks one is
  quarantined with its reason, so these are never checked again downstream;
* **dbt** holds the structural rules of the warehouse: keys (contracts and key tests), accepted
  values, relationships, row arithmetic;
* **Great Expectations** (this module) keeps what neither can express: the bronze partition's
  write contract (columns and types as the registry declares them, identifiers that are tokens),
  distributions (row count, bad rate), point-in-time rules against the date being validated,
  cross-table rules (a schedule repays its loan), and policy rules with their severities.

Severities
----------
* **critical** — the bronze write contract, the rules a model depends on (bad rate, borrower
  age, no future data, a schedule that repays its principal). A failure means the data cannot be
  trusted, so the quality gate stops the pipeline.
* **warning** — lending-policy rules on individual records: APR above the policy cap, an amount
  above the per-borrower credit limit. Such a record is real and structurally valid: the source
  system did grant or request it. Dropping it would hide it, and stopping the pipeline would block
  every other record of the day, so it flows on and the breach is recorded in the quality summary
  and Data Docs for the governance team to follow up. A loan whose schedule misses an instalment
  (quarantined at bronze, so already reported) is a warning too; the critical schedule rule
  covers complete schedules.

Warehouse suites are built from the columns the mart actually has: a missing *optional* column
skips only the rule that needs it (logged, and listed in the quality summary as skipped).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import great_expectations as gx
from great_expectations import expectations as gxe
from great_expectations.expectations.expectation import Expectation

from creditlake.policy import PII_TOKEN, TOKEN_REGEX, Policy
from creditlake.settings import Settings
from creditlake.severity import FAIL, GX_NAMES, WARN
from creditlake.sources import Column, Source, bronze_columns
from expectations.column_types import SPARK, expected_type
from expectations.names import (
    AS_OF_DATE_PARAMETER,
    AS_OF_END_PARAMETER,
    B_CARD_TRAINING_SET_SUITE,
    B_CARD_TRAINING_SET_TABLE,
    COLLECTIONS_TRAINING_SET_SUITE,
    COLLECTIONS_TRAINING_SET_TABLE,
    FRAUD_TRAINING_SET_SUITE,
    FRAUD_TRAINING_SET_TABLE,
    LOANS_SUITE,
    LOANS_TABLE,
    TRAINING_SET_SUITE,
    TRAINING_SET_TABLE,
    bronze_suite_name,
)

logger = logging.getLogger(__name__)

#: GX's words for the platform's severities (creditlake.severity): fail and warn.
CRITICAL = GX_NAMES[FAIL]
WARNING = GX_NAMES[WARN]
INFO = "info"
SEVERITIES = (CRITICAL, WARNING, INFO)

BAD_RATE_MIN = 0.01
BAD_RATE_MAX = 0.5


@dataclass(frozen=True)
class PolicyCap:
    """A lending-policy ceiling on one column of one table (a source or a mart).

    ``limit`` reads the ceiling from the :class:`~creditlake.policy.Policy` in force, so the rule
    follows configuration rather than a number copied into code.
    """

    table: str
    column: str
    limit: Callable[[Policy], float]
    rule: str


def _apr_cap(policy: Policy) -> float:
    return policy.apr_cap


def _credit_limit(policy: Policy) -> float:
    return policy.credit_limit_cny


_APR_RULE = "APR within the policy cap (Policy.apr_cap, CREDITLAKE_APR_CAP)"
_LIMIT_RULE = (
    "amount within the per-borrower unsecured credit limit "
    "(Policy.credit_limit_cny, CREDITLAKE_CREDIT_LIMIT_CNY)"
)

POLICY_CAPS: tuple[PolicyCap, ...] = (
    PolicyCap("applications", "apr", _apr_cap, _APR_RULE),
    PolicyCap("applications", "requested_amount_cny", _credit_limit, _LIMIT_RULE),
    PolicyCap("applications", "approved_amount_cny", _credit_limit, _LIMIT_RULE),
    PolicyCap("loans", "apr", _apr_cap, _APR_RULE),
    PolicyCap("loans", "principal_cny", _credit_limit, _LIMIT_RULE),
    PolicyCap(TRAINING_SET_TABLE, "apr", _apr_cap, _APR_RULE),
    PolicyCap(LOANS_TABLE, "apr", _apr_cap, _APR_RULE),
    PolicyCap(LOANS_TABLE, "principal_cny", _credit_limit, _LIMIT_RULE),
)

_POLICY_NOTE = (
    "Policy rule, severity warning: a breach is a real, structurally valid record that the "
    "governance team must review; it is reported, and does not stop the pipeline."
)


# Small helpers ------------------------------------------------------------------------------------
def policy_caps(table: str) -> list[PolicyCap]:
    return [cap for cap in POLICY_CAPS if cap.table == table]


def policy_cap_expectation(cap: PolicyCap, settings: Settings) -> Expectation:
    """A warning-level ceiling, labelled so Data Docs show the severity next to the rule."""
    limit = float(cap.limit(settings.policy))
    return gxe.ExpectColumnValuesToBeBetween(
        column=cap.column,
        max_value=limit,
        severity=WARNING,
        description=f"[warning] policy: {cap.column} at most {limit:g}",
        notes=f"{cap.rule}: at most {limit:g}. {_POLICY_NOTE}",
    )


# Bronze -------------------------------------------------------------------------------------------
def _column_expectations(column: Column, engine: str) -> list[Expectation]:
    """The write contract of one bronze column: its registry type (as ``engine`` names it; see
    :mod:`expectations.column_types`), and a token if it was PII.

    Required values, amount signs and keys are not repeated here: the ingest job quarantines
    every row that breaks one, with its reason, so a bronze row has passed them by construction.
    """
    rules: list[Expectation] = [
        gxe.ExpectColumnValuesToBeOfType(
            column=column.name,
            type_=expected_type(column.type, engine),
            notes=f"bronze is typed to the registry: {column.type}",
        )
    ]
    if column.pii == PII_TOKEN:
        rules.append(
            gxe.ExpectColumnValuesToMatchRegex(
                column=column.name,
                regex=TOKEN_REGEX,
                notes="personal identifier replaced by its keyed HMAC-SHA256 token",
            )
        )
    return rules


def bronze_expectations(
    source: Source, settings: Settings, engine: str = SPARK
) -> list[Expectation]:
    """Every rule for one bronze partition of ``source``, in a stable order, for the gate engine
    that will run them (only the column types' names differ between engines)."""
    columns = bronze_columns(source)
    rules: list[Expectation] = [
        gxe.ExpectTableColumnsToMatchOrderedList(
            column_list=[c.name for c in columns],
            notes="bronze schema = creditlake.sources.bronze_columns(source), in order",
        ),
    ]
    for column in columns:
        rules.extend(_column_expectations(column, engine))
    rules.extend(policy_cap_expectation(cap, settings) for cap in policy_caps(source.name))
    return rules


def bronze_suite(source: Source, settings: Settings, engine: str = SPARK) -> gx.ExpectationSuite:
    return gx.ExpectationSuite(
        name=bronze_suite_name(source.name),
        expectations=bronze_expectations(source, settings, engine),
        meta={"layer": "bronze", "source": source.name},
    )


# Warehouse ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class MartRules:
    """The expectations a mart's actual columns allow, and the rules skipped for lack of one."""

    expectations: list[Expectation]
    skipped: list[str]


def _optional(
    column: str, columns: Sequence[str], suite: str, rule: str, skipped: list[str]
) -> bool:
    """True when ``column`` is present; otherwise record and log that ``rule`` is skipped."""
    if column in columns:
        return True
    message = f"{rule} skipped: column {column!r} is not in the mart"
    logger.warning("%s: %s", suite, message)
    skipped.append(message)
    return False


def _mart_policy_rules(
    table: str, columns: Sequence[str], suite: str, settings: Settings, skipped: list[str]
) -> list[Expectation]:
    return [
        policy_cap_expectation(cap, settings)
        for cap in policy_caps(table)
        if _optional(cap.column, columns, suite, f"policy cap on {cap.column}", skipped)
    ]


#: Columns that date a training-set row; none may be later than the as-of date. A feature or
#: label from after that date would make a model look better than it can be, and a performance
#: window ending later means the label had not matured.
APPLICATION_DATE_COLUMNS = ("applied_at", "applied_date", "application_month")
TRAINING_SET_DATE_COLUMNS = (
    *APPLICATION_DATE_COLUMNS,
    "disbursed_date",
    "performance_window_end_date",
)
#: The anti-fraud training set's: the first due date must be before the as-of date (its label,
#: 30 days later, even more so).
FRAUD_TRAINING_SET_DATE_COLUMNS = (*APPLICATION_DATE_COLUMNS, "first_due_date")
#: The collections training set's: the missed instalment's due date and its month.
COLLECTIONS_TRAINING_SET_DATE_COLUMNS = (*APPLICATION_DATE_COLUMNS, "due_date", "entry_month")
#: The B-card training set's: the month end and its month.
B_CARD_TRAINING_SET_DATE_COLUMNS = (*APPLICATION_DATE_COLUMNS, "month_end", "snapshot_month")
#: Share of collections entries not cured: most borrowers who miss a due date pay within days, so
#: the label's rate is not the bad rate of a book; outside this range the label is broken.
NOT_CURED_RATE_MIN = 0.02
NOT_CURED_RATE_MAX = 0.8
#: The as-of date that owns a mart row (dbt writes it from its ``as_of_date`` var).
BUILD_DATE_COLUMN = "as_of_date"


def _build_date_rule(
    columns: Sequence[str], suite: str, skipped: list[str], slice_only: bool = True
) -> list[Expectation]:
    """The rows validated belong to the date validated (a snapshot's slice) or to dates up to it.

    A snapshot mart is read as the date's slice, so every row must carry that date: a stale
    build would not. An event mart is read as every row owned up to the date, so none may come
    from a later date's build.
    """
    if not _optional(BUILD_DATE_COLUMN, columns, suite, "build date check", skipped):
        return []
    if not slice_only:
        return [
            gxe.ExpectColumnValuesToBeBetween(
                column=BUILD_DATE_COLUMN,
                max_value={"$PARAMETER": AS_OF_DATE_PARAMETER},
                notes="no row owned by a later date than the one validated",
            )
        ]
    return [
        gxe.ExpectColumnValuesToBeBetween(
            column=BUILD_DATE_COLUMN,
            min_value={"$PARAMETER": AS_OF_DATE_PARAMETER},
            max_value={"$PARAMETER": AS_OF_DATE_PARAMETER},
            notes="the mart was built as of the date being validated, not a stale build",
        )
    ]


def training_set_rules(columns: Sequence[str], settings: Settings) -> MartRules:
    """Rules for ``marts.fct_application_training_set`` given the columns it has."""
    return _labelled_set_rules(
        columns,
        settings,
        TRAINING_SET_SUITE,
        TRAINING_SET_TABLE,
        "is_bad",
        TRAINING_SET_DATE_COLUMNS,
    )


def fraud_training_set_rules(columns: Sequence[str], settings: Settings) -> MartRules:
    """Rules for ``marts.fct_fraud_training_set`` (label: first-payment default)."""
    return _labelled_set_rules(
        columns,
        settings,
        FRAUD_TRAINING_SET_SUITE,
        FRAUD_TRAINING_SET_TABLE,
        "is_first_payment_default",
        FRAUD_TRAINING_SET_DATE_COLUMNS,
    )


def collections_training_set_rules(columns: Sequence[str], settings: Settings) -> MartRules:
    """Rules for ``marts.fct_collections_training_set`` (label: not cured within 30 days)."""
    return _labelled_set_rules(
        columns,
        settings,
        COLLECTIONS_TRAINING_SET_SUITE,
        COLLECTIONS_TRAINING_SET_TABLE,
        "is_not_cured",
        COLLECTIONS_TRAINING_SET_DATE_COLUMNS,
        label_rate=(NOT_CURED_RATE_MIN, NOT_CURED_RATE_MAX),
    )


def b_card_training_set_rules(columns: Sequence[str], settings: Settings) -> MartRules:
    """Rules for ``marts.fct_b_card_training_set`` (label: 30+ days past due within 6 months)."""
    return _labelled_set_rules(
        columns,
        settings,
        B_CARD_TRAINING_SET_SUITE,
        B_CARD_TRAINING_SET_TABLE,
        "is_bad_6m",
        B_CARD_TRAINING_SET_DATE_COLUMNS,
    )


def _labelled_set_rules(
    columns: Sequence[str],
    settings: Settings,
    suite: str,
    table: str,
    label: str,
    date_columns: Sequence[str],
    label_rate: tuple[float, float] | None = None,
) -> MartRules:
    """A model's training set: not empty, a plausible label rate, adults, nothing from later."""
    low, high = label_rate or (BAD_RATE_MIN, BAD_RATE_MAX)
    skipped: list[str] = []
    # Key, label values and label completeness are the model's contract in dbt (primary key,
    # not_null, accepted_values); here: what a row-by-row rule cannot see.
    rules: list[Expectation] = [
        gxe.ExpectTableRowCountToBeBetween(min_value=1, notes="a training set cannot be empty"),
        gxe.ExpectColumnMeanToBeBetween(
            column=label,
            min_value=low,
            max_value=high,
            notes=f"a label rate outside {low:.0%}-{high:.0%} means a broken label, not a "
            "riskier book",
        ),
    ]
    if _optional(
        "age_at_application_years", columns, suite, "borrower age at application", skipped
    ):
        rules.append(
            gxe.ExpectColumnValuesToBeBetween(
                column="age_at_application_years",
                min_value=settings.policy.min_borrower_age_years,
                notes="policy: borrowers are adults at the application date (critical)",
            )
        )
    for column in date_columns:
        if _optional(column, columns, suite, "no future data", skipped):
            rules.append(
                gxe.ExpectColumnValuesToBeBetween(
                    column=column,
                    max_value={"$PARAMETER": AS_OF_END_PARAMETER},
                    strict_max=True,
                    notes="no future data: nothing dated after the as-of date",
                )
            )
    # the training set as of the date: every row owned by it or an earlier date (an event mart)
    rules.extend(_build_date_rule(columns, suite, skipped, slice_only=False))
    rules.extend(_mart_policy_rules(table, columns, suite, settings, skipped))
    return MartRules(rules, skipped)


#: Rows of ``marts.fct_loans`` whose schedule holds every instalment (pandas query syntax).
COMPLETE_SCHEDULE = "installments_count == term_months"


def schedule_principal_expectation(only_complete_schedules: bool) -> Expectation:
    """The schedule repays exactly the principal lent: critical.

    Checked on complete schedules only, when the mart says which those are: an incomplete one
    (an instalment quarantined at bronze) cannot add up, and is reported by the completeness rule.
    """
    from great_expectations.expectations.row_conditions import PassThroughCondition

    condition = (
        PassThroughCondition(pass_through_filter=COMPLETE_SCHEDULE)
        if only_complete_schedules
        else None
    )
    return gxe.ExpectColumnPairValuesToBeEqual(
        column_A="scheduled_principal_cny",
        column_B="principal_cny",
        row_condition=condition,
        notes="the repayment schedule repays exactly the principal disbursed",
    )


def loans_rules(columns: Sequence[str], settings: Settings) -> MartRules:
    """Rules for ``marts.fct_loans`` given the columns it has."""
    suite = LOANS_SUITE
    skipped: list[str] = []
    # The key is the model's dbt contract (primary key). The date's snapshot is read: an empty
    # one means the build for the date has not run.
    rules: list[Expectation] = [
        gxe.ExpectTableRowCountToBeBetween(
            min_value=1, notes="the loans snapshot of the date validated exists"
        )
    ]
    complete = _optional(
        "installments_count", columns, suite, "schedule completeness", skipped
    ) and _optional("term_months", columns, suite, "schedule completeness", skipped)
    if complete:
        rules.append(
            gxe.ExpectColumnPairValuesToBeEqual(
                column_A="installments_count",
                column_B="term_months",
                severity=WARNING,
                description="[warning] completeness: a loan's schedule has all its instalments",
                notes=(
                    "An instalment quarantined at bronze (a defective delivery row) leaves its "
                    "loan's schedule incomplete. The row is already in quarantine and the "
                    "reconciliation report, so the gap is reported here, not failed again."
                ),
            )
        )
    if _optional(
        "scheduled_principal_cny", columns, suite, "schedule sums to principal", skipped
    ) and _optional("principal_cny", columns, suite, "schedule sums to principal", skipped):
        rules.append(schedule_principal_expectation(complete))
    rules.extend(_build_date_rule(columns, suite, skipped))
    rules.extend(_mart_policy_rules(LOANS_TABLE, columns, suite, settings, skipped))
    return MartRules(rules, skipped)


def warehouse_suite(name: str, table: str, rules: MartRules) -> gx.ExpectationSuite:
    return gx.ExpectationSuite(
        name=name,
        expectations=rules.expectations,
        meta={"layer": "warehouse", "table": table},
    )
