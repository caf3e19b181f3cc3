"""
### Train and register the collections model (`c_card`)

Weekly, once the warehouse for the logical date has passed its quality gates (the collections
training set's and the loans mart's), trains a WoE scorecard (optbinning) and a LightGBM model on
`marts.fct_collections_training_set`: every time a loan entered collections (an instalment missed
while the loan was current), with what was known at entry (the instalment, whether part of it was
paid by the due date, the loan's repayment history, the application's features), labelled not
cured when the instalment was still unpaid 30 days after its due date. Out-of-time split on the
entry month, MLflow logging, registration of both as versions of `c_card`, and the same champion
gate as the other models. Its score orders a collections queue: the least likely to cure first.

`wait_for_warehouse` → `train_and_register` (announces `model.c_card`).

The DAG is built by a factory in `orchestration` (Airflow needs the words "airflow" and
"dag" in a file to parse it in safe mode).
"""

from orchestration.ml import build_train_dag

build_train_dag(__doc__, model="c_card")
