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
- :mod:`ml.gate`: the champion gate and the registry aliases ``champion``/``challenger``, judged
  on the named criteria of :mod:`ml.criteria` (discrimination, calibration, stability, fairness,
  data quality), every move in the audit log of :mod:`ml.alias_log`.
- :mod:`ml.model_card`: the Markdown model card logged with every run.
- :mod:`ml.validation_report`: each version's validation report (HTML, an MLflow artifact), its
  figures computed in :mod:`ml.validation_sections`.
- :mod:`ml.tracking`: where MLflow runs and models go (tracking store, artifact root).
- :mod:`ml.train`: one training run, step by step (the Airflow task's entry point).
- :mod:`ml.score`: daily batch scoring with ``models:/credit_pd@champion``.
- :mod:`ml.monitoring`: every champion's stability (score and feature PSI by month) and
  performance as its loans mature, with :mod:`ml.monitoring_tables` (the ``ml.monitoring_*``
  tables), :mod:`ml.monitoring_plots` (the trend plots) and :mod:`ml.monitoring_rules` (the
  severities and thresholds all three read).
- :mod:`ml.german_credit`: repeated cross-validation of both families on the public German
  Credit data, so the modelling code is checked against published results.
"""
