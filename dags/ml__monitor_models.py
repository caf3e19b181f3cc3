"""
### Monitor every champion as its loans mature

Weekly, once the warehouse for the logical date has passed the quality gates of every model's
training set and of the loans mart, measures each model that has a `champion` in the MLflow
registry (`credit_pd`, `fraud`, `b_card`, `c_card`) with `ml/monitoring.py`:

- **stability**: for each month after the champion's development window, the PSI of the score
  and of every feature it reads, from the development sample (the scored population of the
  months it trained on) to the month: rows in `ml.monitoring_stability` and, per feature,
  `ml.monitoring_feature_psi`;
- **maturing performance**: for each later month whose loans have reached the label's horizon,
  rows, bads, observed and mean predicted bad rate and the champion's AUC (with its standard
  error): rows in `ml.monitoring_performance`.

Each model's months are replaced in one transaction (one row per model and month, whatever the
number of re-runs), and its trend plot is drawn to `<reports>/monitoring/<model>.png`. Severities
come from settings (`CREDITLAKE_PSI_WATCH`/`_ACT`, `CREDITLAKE_MONITORING_AUC_WARN_DROP`/
`_FAIL_DROP`, `CREDITLAKE_MONITORING_MIN_BADS`): a `fail` month fails its model's task without
retries after the rows are written, a `warn` is logged, and a model without a champion is skipped.

`wait_for_warehouse` → `monitor_credit_pd`, `monitor_fraud`, `monitor_b_card`, `monitor_c_card`
(independent; the warehouse's one-writer pool runs them one at a time).

The DAG is built by a factory in `orchestration` (Airflow needs the words "airflow" and
"dag" in a file to parse it in safe mode).
"""

from orchestration.monitoring import build_monitor_dag

build_monitor_dag(__doc__)
