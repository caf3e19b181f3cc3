"""
### Score the day's applications with the champion model

Daily, once the warehouse for the logical date has passed its quality gate, loads
`models:/credit_pd@champion` from the MLflow registry and scores the applications received that day,
replacing that day's rows in `ml.application_scores` (application id, score, PD, model version,
scored date), so a re-run never duplicates scores.

`wait_for_warehouse` → `score_applications` (announces `ml.application_scores`).

The DAG is built by a factory in `orchestration` (Airflow needs the words "airflow" and
"dag" in a file to parse it in safe mode).
"""

from orchestration.ml import build_score_dag

build_score_dag(__doc__)
