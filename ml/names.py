"""The names training and scoring must agree on: the registered model, its aliases, the tables.

Training writes these names into MLflow and scoring looks them up again, so they live in one
small module that both import; scoring then needs nothing from training's code (and none of its
imports) to find the champion.
"""

from __future__ import annotations

#: MLflow experiment of the training runs, and the registered model their versions belong to.
EXPERIMENT = "credit_pd"
REGISTERED_MODEL = "credit_pd"
#: Registry aliases: the version that scores, and the latest candidate that did not pass the gate.
CHAMPION = "champion"
CHALLENGER = "challenger"

#: Matured loans with their label (training) and every application without one (scoring).
TRAINING_TABLE = "marts.fct_application_training_set"
FEATURES_TABLE = "marts.fct_application_features"
