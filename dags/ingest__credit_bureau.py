"""
### Ingest external credit-bureau reports into bronze

Daily, for the run's logical date, the bureau report file is awaited in the landing zone, loaded by
Spark into bronze Parquet (bad rows quarantined, reconciled) and validated by Great Expectations.
Thin-file customers have no report; that absence is information, not an error.

Per source: `wait_for_landing` → `load_bronze` → `validate_bronze` (announces `bronze.<source>`).

The DAG is built by a factory in `orchestration` (Airflow needs the words "airflow" and
"dag" in a file to parse it in safe mode).
"""

from creditlake.sources import DOMAIN_CREDIT_BUREAU
from orchestration.ingest import build_ingest_dag

build_ingest_dag(DOMAIN_CREDIT_BUREAU, __doc__)
