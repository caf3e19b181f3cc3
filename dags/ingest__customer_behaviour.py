"""
### Ingest customer-behaviour feeds into bronze

Daily, for the run's logical date, the mobile-app event feed and the transaction feed (JSON Lines)
are awaited in the landing zone, loaded by Spark into the bronze Iceberg tables (device IDs
tokenised, malformed JSON lines and bad values quarantined with their reason, reconciled) and
validated by Great Expectations. These feeds drive the behaviour features of thin-file applicants.

Per source, write-audit-publish: `wait_for_landing` → `load_bronze` (write: staged on the date's
audit branch of the Iceberg tables) → `validate_bronze` (audit: the gate's verdict goes to the lake
ledger) → `publish_bronze` (publish, only what the gate passed; announces `bronze.<source>`).

The DAG is built by a factory in `orchestration` (Airflow needs the words "airflow" and
"dag" in a file to parse it in safe mode).
"""

from creditlake.sources import DOMAIN_CUSTOMER_BEHAVIOUR
from orchestration.ingest import build_ingest_dag

build_ingest_dag(DOMAIN_CUSTOMER_BEHAVIOUR, __doc__)
