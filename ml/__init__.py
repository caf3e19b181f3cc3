"""Credit-risk models for creditlake: the application PD model ``credit_pd`` and its benchmark.

Read in the order of a training run:

- :mod:`ml.names`: the experiment, registered model, alias and table names training and scoring
  share.
- :mod:`ml.data`: read-only reads of the training set from the warehouse, the label, the month.
- :mod:`ml.features`: which columns are features, and the reason every other one is excluded.
- :mod:`ml.split`: the out-of-time split (earlier months train, the latest months validate).
- :mod:`ml.models`: the two model families (optbinning WoE scorecard, LightGBM) and the MLflow
  ``pyfunc`` wrapper that gives both the same ``pd``/``score`` output.
- :mod:`ml.metrics`: AUC, KS, Gini, decile/calibration tables and PSI, in plain numpy/pandas so
  that validation reports do not depend on any one modelling library.
- :mod:`ml.plots`: ROC and KS curves as PNG files for MLflow and the validation report.
- :mod:`ml.run_logging`: what a training run logs to MLflow, and registering each fitted model.
- :mod:`ml.gate`: the champion gate and the registry aliases ``champion``/``challenger``.
- :mod:`ml.model_card`: the Markdown model card logged with every run.
- :mod:`ml.tracking`: where MLflow runs and models go (tracking store, artifact root).
- :mod:`ml.train`: one training run, step by step (the Airflow task's entry point).
- :mod:`ml.score`: daily batch scoring with ``models:/credit_pd@champion``.
- :mod:`ml.german_credit`: repeated cross-validation of both families on the public German
  Credit data, so the modelling code is checked against published results.
"""
