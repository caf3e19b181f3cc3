"""
### Score and decide the day's applications

Daily, once the warehouse for the logical date has passed its quality gate, loads the champions
`models:/credit_pd@champion` and (when there is one) `models:/fraud@champion` from the MLflow
registry, scores the applications received that day with each (PD, score, top adverse factors),
and decides each one with the strategy of `ml/decisions.py`: approve (with credit limit and APR),
refer or decline, with reason codes and the factors behind them. The day's rows of
`ml.application_scores` and `ml.application_decisions` are replaced in one transaction, so a
re-run never duplicates them.

Then `report_portfolio` draws the book as known that day (vintage curves, the roll-rate heat
map, credit PD by decision) and logs the plots to the MLflow experiment `portfolio`, and
`order_collections_queue` scores the day's entries into collections with `models:/c_card@champion`
and replaces the day's rows of `ml.collections_queue`, the least likely to cure first. On the day
that first knows a month end's book, `propose_limits` scores every loan current at that month end
with `models:/b_card@champion` (in the task's process on the embedded path, as a Spark UDF with a
cluster master: `CREDITLAKE_LIMITS_ENGINE`) and replaces the day's rows of `ml.limit_proposals`:
increase, hold or decrease, with the new limit and the reasons.

`wait_for_warehouse` → `score_applications` (announces `ml.application_scores`) →
`report_portfolio`, `order_collections_queue` and `propose_limits` (independent of each other;
the warehouse's one-writer pool runs the two that write it one at a time).

The DAG is built by a factory in `orchestration` (Airflow needs the words "airflow" and
"dag" in a file to parse it in safe mode).
"""

from orchestration.ml import build_score_dag

build_score_dag(__doc__)
