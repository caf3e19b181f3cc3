"""
### Train and register the anti-fraud model (`fraud`)

Weekly, once the warehouse for the logical date has passed its quality gates (the anti-fraud
training set's and the loans mart's), trains a WoE scorecard (optbinning) and a LightGBM model on
`marts.fct_fraud_training_set`: approved loans whose first instalment has been observed for 30
days, labelled first-payment default (FPD, how application fraud shows in a lender's books), with
the application-time features including the link features (other customers' applications from
the same device or IP address, customers sharing the mobile number). Out-of-time split, MLflow
logging, registration of both as versions of `fraud`, and the same champion gate as `credit_pd`.

`wait_for_warehouse` → `train_and_register` (announces `model.fraud`).

The DAG is built by a factory in `orchestration` (Airflow needs the words "airflow" and
"dag" in a file to parse it in safe mode).
"""

from orchestration.ml import build_train_dag

build_train_dag(__doc__, model="fraud")
