"""
### Ingest loan origination system (LOS) exports into bronze

Daily, for the run's logical date, each LOS export (customers, applications, loans, repayment
schedules, repayments) is awaited in the landing zone, loaded by Spark into the bronze Iceberg
tables (typed to the source registry, PII replaced by HMAC tokens, bad rows quarantined with their
reason, reconciled: landing rows = bronze + quarantined + duplicates dropped) and validated by
Great Expectations. Re-running a date replaces that date's partitions; a file already loaded
under another date is refused.

Per source, write-audit-publish: `wait_for_landing` → `load_bronze` (write: staged on the date's
audit branch of the Iceberg tables) → `validate_bronze` (audit: the gate's verdict goes to the lake
ledger) → `publish_bronze` (publish, only what the gate passed; announces `bronze.<source>`).

The DAG is built by a factory in `orchestration` (Airflow needs the words "airflow" and
"dag" in a file to parse it in safe mode).
"""

from creditlake.sources import DOMAIN_LOAN_ORIGINATION
from orchestration.ingest import build_ingest_dag

build_ingest_dag(DOMAIN_LOAN_ORIGINATION, __doc__)
