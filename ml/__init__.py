"""Credit-risk models for creditlake: the application PD model ``credit_pd`` and its benchmark.

- :mod:`ml.metrics`: AUC, KS, Gini, decile/calibration tables and PSI, in plain numpy/pandas so
  that validation reports do not depend on any one modelling library.
- :mod:`ml.plots`: ROC and KS curves as PNG files for MLflow and the validation report.
- :mod:`ml.models`: the two model families (optbinning WoE scorecard, LightGBM) and the MLflow
  ``pyfunc`` wrapper that gives both the same ``pd``/``score`` output.
- :mod:`ml.train`: out-of-time training, MLflow registration and the champion gate.
- :mod:`ml.score`: daily batch scoring with ``models:/credit_pd@champion``.
- :mod:`ml.german_credit`: repeated cross-validation of both families on the public German
  Credit data, so the modelling code is checked against published results.
"""
