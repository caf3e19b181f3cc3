"""The source registry: the one contract between the generator, the Spark jobs, dbt and GX.

Each source is one file a day in ``landing/<source>/<yyyy-mm-dd>/<file_name>``. The registry says
what its columns are called and typed as, which are required, which carry personal financial
information (and so are replaced by keyed tokens at bronze), which amounts must be positive, and
its business key. Changing a source means changing it here, and every layer follows.

Types are Spark SQL type strings; landing files carry text, and bronze is typed to these.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from creditlake.policy import (
    DEFAULT_POLICY,
    PII_DERIVED,
    PII_IDENTIFIER,
    PII_LOCATION,
    PII_TOKEN,
)

if TYPE_CHECKING:
    import pyarrow as pa


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    required: bool = False
    #: PII category per JR/T 0171-2020 (creditlake.policy): C2 identifiers are tokenised at bronze.
    pii: str | None = None
    #: True when the value must be > 0 (money that cannot be negative or zero).
    positive: bool = False
    #: True when the value must be >= 0.
    non_negative: bool = False
    description: str = ""
    #: Plausible range: a value outside it is not a policy breach but a wrong value (a unit
    #: change such as fen for yuan, or swapped columns); the ingest quarantines it.
    min_value: float | None = None
    max_value: float | None = None

    @property
    def tokenised(self) -> bool:
        return self.pii == PII_IDENTIFIER

    @property
    def bronze_name(self) -> str:
        """Tokenised columns keep their meaning but say what they hold now."""
        return f"{self.name}_token" if self.tokenised else self.name


@dataclass(frozen=True)
class Source:
    name: str
    domain: str  # which ingestion DAG delivers it
    format: str  # "csv" or "jsonl"
    key: str
    columns: tuple[Column, ...]
    description: str
    #: Above this share of quarantined rows the ingest fails the delivery as a whole; None takes
    #: the deployment's ``Settings.max_quarantine_rate``.
    max_quarantine_rate: float | None = None

    @property
    def system(self) -> str:
        """The source system (dbt source name) that delivers this source."""
        return DOMAIN_SYSTEMS[self.domain]

    @property
    def staging_model(self) -> str:
        return f"stg_{self.system}__{self.name}"

    @property
    def file_name(self) -> str:
        return f"{self.name}.{self.format}"

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def pii_columns(self) -> list[Column]:
        return [c for c in self.columns if c.tokenised]

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(f"source {self.name!r} has no column {name!r}")


C = Column

#: Money amounts of one loan (or less) above this are not a policy breach (the credit limit, a
#: warning at bronze) but a wrong unit: five times the reference credit limit.
PLAUSIBLE_LOAN_AMOUNT_MAX_CNY = 5 * DEFAULT_POLICY.credit_limit_cny
#: Monthly income of a consumer-credit applicant; above it a value is in fen or misplaced.
PLAUSIBLE_MONTHLY_INCOME_MAX_CNY = 500_000.0
#: Bureau balances across all of a person's credit; larger is a unit error.
PLAUSIBLE_BALANCE_MAX_CNY = 10_000_000.0
LOAN_AMOUNT = {"max_value": PLAUSIBLE_LOAN_AMOUNT_MAX_CNY}

#: Lineage columns every bronze table carries after its source columns.
LINEAGE_COLUMNS: tuple[Column, ...] = (
    C("_source_file", "string", description="landing file the row came from"),
    C("_row_number", "bigint", description="1-based data row in that file (header excluded)"),
    C("_batch_id", "string", description="ingest batch: <source>/<as-of date>/<attempt time>"),
    C("_ingested_at", "timestamp", description="when the batch was written (UTC)"),
)
#: Bronze is partitioned by the as-of date that delivered the row (the run's logical date).
PARTITION_COLUMN = "ingest_date"

DOMAIN_LOAN_ORIGINATION = "loan_origination"
DOMAIN_CUSTOMER_BEHAVIOUR = "customer_behaviour"
DOMAIN_CREDIT_BUREAU = "credit_bureau"
#: The source system behind each domain. Its name is the dbt source's name and the staging folder
#: (``dbt_project/models/staging/<system>/``), so a source's bronze table is
#: ``source('<system>', '<source>')`` and its staging model ``stg_<system>__<source>``.
DOMAIN_SYSTEMS: dict[str, str] = {
    DOMAIN_LOAN_ORIGINATION: "los",
    DOMAIN_CUSTOMER_BEHAVIOUR: "behaviour",
    DOMAIN_CREDIT_BUREAU: "bureau",
}

SOURCES: dict[str, Source] = {
    s.name: s
    for s in (
        Source(
            name="customers",
            domain=DOMAIN_LOAN_ORIGINATION,
            format="csv",
            key="customer_id",
            description="Customer master from the loan origination system (LOS).",
            columns=(
                C("customer_id", "string", required=True),
                C("name", "string", required=True, pii=PII_IDENTIFIER),
                C(
                    "national_id",
                    "string",
                    required=True,
                    pii=PII_IDENTIFIER,
                    description="18-digit resident ID; birth date and sex are derived at bronze",
                ),
                C("mobile", "string", required=True, pii=PII_IDENTIFIER),
                C("bank_card_number", "string", required=True, pii=PII_IDENTIFIER),
                C("province", "string", required=True),
                C("city", "string", required=True),
                C("residence_type", "string", required=True, description="urban or rural"),
                C("is_new_citizen", "int", required=True, description="1 for 新市民"),
                C("education", "string", required=True),
                C("occupation", "string", required=True),
                C(
                    "monthly_income_cny",
                    "decimal(12,2)",
                    required=True,
                    non_negative=True,
                    max_value=PLAUSIBLE_MONTHLY_INCOME_MAX_CNY,
                ),
                C("registered_at", "timestamp", required=True),
            ),
        ),
        Source(
            name="applications",
            domain=DOMAIN_LOAN_ORIGINATION,
            format="csv",
            key="application_id",
            description="Credit applications and their decisions from the LOS.",
            columns=(
                C("application_id", "string", required=True),
                C("customer_id", "string", required=True),
                C("applied_at", "timestamp", required=True),
                C("channel", "string", required=True),
                C("product", "string", required=True),
                C(
                    "requested_amount_cny",
                    "decimal(12,2)",
                    required=True,
                    positive=True,
                    **LOAN_AMOUNT,
                ),
                C("term_months", "int", required=True, positive=True, max_value=360),
                C("purpose", "string", required=True),
                C("device_id", "string", required=True, pii=PII_IDENTIFIER),
                C("ip_address", "string", required=True, pii=PII_IDENTIFIER),
                C("decision", "string", required=True, description="approved or rejected"),
                C("decided_at", "timestamp", required=True),
                C("approved_amount_cny", "decimal(12,2)", positive=True, **LOAN_AMOUNT),
                C(
                    "apr",
                    "decimal(6,4)",
                    non_negative=True,
                    max_value=1.0,
                    description="annual rate, 0.18 = 18%",
                ),
            ),
        ),
        Source(
            name="loans",
            domain=DOMAIN_LOAN_ORIGINATION,
            format="csv",
            key="loan_id",
            description="Disbursed loans from the LOS.",
            columns=(
                C("loan_id", "string", required=True),
                C("application_id", "string", required=True),
                C("customer_id", "string", required=True),
                C("disbursed_at", "timestamp", required=True),
                C("principal_cny", "decimal(12,2)", required=True, positive=True, **LOAN_AMOUNT),
                C("apr", "decimal(6,4)", required=True, non_negative=True, max_value=1.0),
                C("term_months", "int", required=True, positive=True, max_value=360),
                C("first_due_date", "date", required=True),
            ),
        ),
        Source(
            name="repayment_schedules",
            domain=DOMAIN_LOAN_ORIGINATION,
            format="csv",
            key="installment_id",
            description="Equal-instalment amortisation schedule, one row per instalment.",
            columns=(
                C("installment_id", "string", required=True, description="<loan_id>-<number>"),
                C("loan_id", "string", required=True),
                C("installment_number", "int", required=True, positive=True),
                C("due_date", "date", required=True),
                C(
                    "principal_due_cny",
                    "decimal(12,2)",
                    required=True,
                    non_negative=True,
                    **LOAN_AMOUNT,
                ),
                C(
                    "interest_due_cny",
                    "decimal(12,2)",
                    required=True,
                    non_negative=True,
                    **LOAN_AMOUNT,
                ),
                C("total_due_cny", "decimal(12,2)", required=True, positive=True, **LOAN_AMOUNT),
            ),
        ),
        Source(
            name="repayments",
            domain=DOMAIN_LOAN_ORIGINATION,
            format="csv",
            key="repayment_id",
            description="Money received against an instalment (on time, late, partial or early).",
            columns=(
                C("repayment_id", "string", required=True),
                C("loan_id", "string", required=True),
                C("installment_number", "int", required=True, positive=True),
                C("paid_at", "timestamp", required=True),
                C("amount_cny", "decimal(12,2)", required=True, positive=True, **LOAN_AMOUNT),
                C("payment_channel", "string", required=True),
            ),
        ),
        Source(
            name="collection_actions",
            domain=DOMAIN_LOAN_ORIGINATION,
            format="csv",
            key="action_id",
            description="What the collections team did about a missed instalment (SMS, app push, "
            "calls) and the outcome; from the LOS's collections module.",
            columns=(
                C("action_id", "string", required=True),
                C("loan_id", "string", required=True),
                C("installment_number", "int", required=True, positive=True),
                C("action_at", "timestamp", required=True),
                C("channel", "string", required=True, description="sms, app_push or call"),
                C(
                    "outcome",
                    "string",
                    required=True,
                    description="delivered, no_answer, promise_to_pay, refused or wrong_number",
                ),
                C(
                    "contact_phone",
                    "string",
                    required=True,
                    pii=PII_IDENTIFIER,
                    description="the number contacted: the borrower's mobile",
                ),
                C("collector_id", "string", description="the agent (calls only)"),
                C("promised_date", "date", description="promise_to_pay only"),
                C(
                    "promised_amount_cny",
                    "decimal(12,2)",
                    positive=True,
                    description="promise_to_pay only",
                    **LOAN_AMOUNT,
                ),
            ),
        ),
        Source(
            name="app_events",
            domain=DOMAIN_CUSTOMER_BEHAVIOUR,
            format="jsonl",
            key="event_id",
            description="Mobile-app events: logins, page views, clicks, device or location changes",
            columns=(
                C("event_id", "string", required=True),
                C("customer_id", "string", required=True),
                C("event_at", "timestamp", required=True),
                C("event_type", "string", required=True),
                C("page", "string"),
                C("device_id", "string", required=True, pii=PII_IDENTIFIER),
                C("os", "string"),
                C("city", "string"),
                C("latitude", "double", pii=PII_LOCATION, min_value=-90, max_value=90),
                C("longitude", "double", pii=PII_LOCATION, min_value=-180, max_value=180),
            ),
        ),
        Source(
            name="transactions",
            domain=DOMAIN_CUSTOMER_BEHAVIOUR,
            format="jsonl",
            key="transaction_id",
            description="Card and wallet transactions seen by the lender.",
            columns=(
                C("transaction_id", "string", required=True),
                C("customer_id", "string", required=True),
                C("transacted_at", "timestamp", required=True),
                C("amount_cny", "decimal(12,2)", required=True, positive=True, **LOAN_AMOUNT),
                C("category", "string", required=True),
                C("merchant_id", "string", required=True),
                C("merchant_name", "string"),
            ),
        ),
        Source(
            name="bureau_reports",
            domain=DOMAIN_CREDIT_BUREAU,
            format="jsonl",
            key="report_id",
            description="External credit-bureau report per customer; none for thin-file customers.",
            columns=(
                C("report_id", "string", required=True),
                C("customer_id", "string", required=True),
                C("reported_at", "timestamp", required=True),
                C("bureau_score", "int", required=True, positive=True),
                C("credit_accounts_count", "int", required=True, non_negative=True),
                C("open_loans_count", "int", required=True, non_negative=True),
                C(
                    "outstanding_balance_cny",
                    "decimal(14,2)",
                    required=True,
                    non_negative=True,
                    max_value=PLAUSIBLE_BALANCE_MAX_CNY,
                ),
                C("max_days_past_due_24m", "int", required=True, non_negative=True),
                C("inquiries_6m_count", "int", required=True, non_negative=True),
                C("months_since_first_credit", "int", required=True, non_negative=True),
            ),
        ),
        # `creditlake new-source` adds a source above this line (docs/ADDING_A_SOURCE.md).
    )
}

#: Columns bronze adds to customers, derived from the national ID before it is tokenised.
CUSTOMER_DERIVED_COLUMNS: tuple[Column, ...] = (
    C("birth_date", "date", pii=PII_DERIVED, description="from national ID digits 7-14"),
    C("sex", "string", description="M or F, from national ID digit 17"),
)

DOMAINS: dict[str, list[str]] = {}
for _s in SOURCES.values():
    DOMAINS.setdefault(_s.domain, []).append(_s.name)


def get_source(name: str) -> Source:
    try:
        return SOURCES[name]
    except KeyError:
        raise KeyError(f"unknown source {name!r}; known: {', '.join(SOURCES)}") from None


def bronze_columns(source: Source) -> list[Column]:
    """The bronze schema, in order: source columns (PII tokenised), derived, lineage."""
    cols = [
        Column(
            c.bronze_name,
            "string" if c.tokenised else c.type,
            c.required,
            PII_TOKEN if c.tokenised else c.pii,
            c.positive,
            c.non_negative,
            c.description,
            c.min_value,
            c.max_value,
        )
        for c in source.columns
    ]
    if source.name == "customers":
        cols.extend(CUSTOMER_DERIVED_COLUMNS)
    cols.extend(LINEAGE_COLUMNS)
    return cols


#: Registry types with a fixed Arrow type (the name of its ``pyarrow`` factory).
ARROW_TYPES = {
    "string": "string",
    "int": "int32",
    "bigint": "int64",
    "double": "float64",
    "boolean": "bool_",
    "date": "date32",
}


def arrow_type(registry_type: str) -> pa.DataType:
    """The Arrow type a registry (Spark SQL) type is stored as in bronze.

    Both ingest engines write it and both quality-gate engines read it back: one mapping, so the
    DuckDB transform, the lake and the gates' type rules cannot disagree on what a column is.
    """
    import pyarrow as pa

    if registry_type == "timestamp":
        return pa.timestamp("us", tz="UTC")
    if registry_type.startswith("decimal("):
        precision, scale = registry_type[len("decimal(") : -1].split(",")
        return pa.decimal128(int(precision), int(scale))
    try:
        return getattr(pa, ARROW_TYPES[registry_type])()
    except KeyError:
        raise ValueError(
            f"registry type {registry_type!r} has no Arrow type in creditlake/sources.py "
            "ARROW_TYPES; add it there"
        ) from None
