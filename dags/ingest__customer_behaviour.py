"""
### Ingest customer-behaviour feeds into bronze

Daily, for the run's logical date, the mobile-app event feed and the transaction feed (JSON Lines)
are awaited in the landing zone, loaded by Spark into bronze Parquet (device IDs tokenised,
malformed JSON lines and bad values quarantined with their reason, reconciled) and validated by
Great Expectations. These feeds drive the behaviour features of thin-file applicants.

Per source: `wait_for_landing` → `load_bronze` → `validate_bronze` (announces `bronze.<source>`).

The DAG is built by a factory in `orchestration` (Airflow needs the words "airflow" and
"dag" in a file to parse it in safe mode).
"""

from creditlake.sources import DOMAIN_CUSTOMER_BEHAVIOUR
from orchestration.ingest import build_ingest_dag

build_ingest_dag(DOMAIN_CUSTOMER_BEHAVIOUR, __doc__)
