"""
### Train and register the behaviour model (`b_card`)

Weekly, once the warehouse for the logical date has passed its quality gates (the B-card training
set's and the loans mart's), trains a WoE scorecard (optbinning) and a LightGBM model on
`marts.fct_b_card_training_set`: every loan current at a month end, with what was known then (its
repayment so far, the borrower's spending that month and the three before, the application's
features), labelled bad when the loan was 30+ days past due by the end of the sixth month after.
Out-of-time split on the snapshot month, MLflow logging, registration of both as versions of
`b_card`, and the same champion gate as the other models. Its score drives the monthly credit-limit
proposals on the active book.

`wait_for_warehouse` → `train_and_register` (announces `model.b_card`).

The DAG is built by a factory in `orchestration` (Airflow needs the words "airflow" and
"dag" in a file to parse it in safe mode).
"""

from orchestration.ml import build_train_dag

build_train_dag(__doc__, model="b_card")
