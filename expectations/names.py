"""The names of the quality gates' suites, the tables they guard and their parameters.

Kept apart from :mod:`expectations.suites` (which imports Great Expectations) so that a reader
that only needs a name or a summary path, such as a DAG's readiness check, stays cheap to import.
"""

BRONZE_SUITE_PREFIX = "bronze_"
TRAINING_SET_SUITE = "warehouse_training_set"
FRAUD_TRAINING_SET_SUITE = "warehouse_fraud_training_set"
COLLECTIONS_TRAINING_SET_SUITE = "warehouse_collections_training_set"
B_CARD_TRAINING_SET_SUITE = "warehouse_b_card_training_set"
LOANS_SUITE = "warehouse_loans"
TRAINING_SET_TABLE = "marts.fct_application_training_set"
FRAUD_TRAINING_SET_TABLE = "marts.fct_fraud_training_set"
COLLECTIONS_TRAINING_SET_TABLE = "marts.fct_collections_training_set"
B_CARD_TRAINING_SET_TABLE = "marts.fct_b_card_training_set"
LOANS_TABLE = "marts.fct_loans"
#: The gate of each table a model trains on (a model waits for its training table's gate).
SUITE_OF_TABLE = {
    TRAINING_SET_TABLE: TRAINING_SET_SUITE,
    FRAUD_TRAINING_SET_TABLE: FRAUD_TRAINING_SET_SUITE,
    COLLECTIONS_TRAINING_SET_TABLE: COLLECTIONS_TRAINING_SET_SUITE,
    B_CARD_TRAINING_SET_TABLE: B_CARD_TRAINING_SET_SUITE,
    LOANS_TABLE: LOANS_SUITE,
}

#: The rows of a mart a gate for date D validates (``?`` is D). fct_loans is a per-date snapshot:
#: D's slice. The training set is an event mart whose rows are owned by the date their label
#: became known: the training set as of D is every row owned by D or earlier.
MART_ROWS_OF_DATE = {
    LOANS_TABLE: "as_of_date = ?",
    TRAINING_SET_TABLE: "as_of_date <= ?",
    FRAUD_TRAINING_SET_TABLE: "as_of_date <= ?",
    COLLECTIONS_TRAINING_SET_TABLE: "as_of_date <= ?",
    B_CARD_TRAINING_SET_TABLE: "as_of_date <= ?",
}

#: Suite parameters: the as-of date (midnight), and the first instant after it (rows dated on the
#: as-of date, at any time of day, are strictly before it).
AS_OF_DATE_PARAMETER = "as_of_date"
AS_OF_END_PARAMETER = "as_of_end"


def bronze_suite_name(source: str) -> str:
    """The suite (and gate) that guards ``source``'s bronze deliveries."""
    return f"{BRONZE_SUITE_PREFIX}{source}"
