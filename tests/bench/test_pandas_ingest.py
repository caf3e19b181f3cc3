"""The pandas ingest peer decides each row as the Spark job does: a few inline CSV rows whose
outcomes (bronze, quarantine with its reason, duplicate) are worked out by hand from the rules in
spark_jobs/row_rules.py and spark_jobs/transforms.py."""

from __future__ import annotations

from bench.peers.pandas_ingest import checks, first_failure, outcomes, parse_lines, typed
from creditlake.sources import get_source

HEADER = (
    "installment_id,loan_id,installment_number,due_date,"
    "principal_due_cny,interest_due_cny,total_due_cny"
)
LINES = [
    HEADER,
    "L1-1,L1,1,2026-02-05,100.00,10.00,110.00",  # row 1: bronze
    "L1-1,L1,1,2026-02-05,100.00,10.00,110.00",  # row 2: exact copy of row 1
    "L1-1,L1,1,2026-02-05,100.00,10.00,111.00",  # row 3: same key, other text: clash
    "L1-2,L1,two,2026-03-05,100.00,10.00,110.00",  # row 4: wrong type
    "L1-3,L1,3,2026-04-05,-1.00,10.00,110.00",  # row 5: negative principal
    "L1-4,,4,2026-05-05,100.00,10.00,110.00",  # row 6: loan_id missing
    "L1-5,L1,5",  # row 7: three fields of seven
    "L1-6,L1,6,2026-06-05,100.00,10.00,0.00",  # row 8: total must be positive
    "L1-7,L1,7,2026-07-05,100.00,10.00,2000000.00",  # row 9: above the plausible maximum
]


def test_rows_end_as_the_spark_job_decides_them() -> None:
    source = get_source("repayment_schedules")
    frame = parse_lines("\n".join(LINES) + "\n", source, marks={})
    values = {c.name: typed(frame[c.name], c.type) for c in source.columns}
    reason, _ = first_failure(frame, checks(frame, values, source))
    decided = outcomes(frame, source.key, reason)
    reasons = [None if r != r else r for r in decided["_reason"]]  # NaN (no reason) as None
    found = dict(
        zip(frame["_row_number"], zip(decided["_outcome"], reasons, strict=True), strict=True)
    )
    assert found == {
        1: ("bronze", None),
        2: ("duplicate", None),
        3: ("quarantine", "duplicate_key"),
        4: ("quarantine", "wrong_type:installment_number"),
        5: ("quarantine", "negative_amount:principal_due_cny"),
        6: ("quarantine", "missing_required:loan_id"),
        7: ("quarantine", "malformed_row"),
        8: ("quarantine", "non_positive_amount:total_due_cny"),
        9: ("quarantine", "out_of_range:total_due_cny"),
    }
