"""Who can log into the local stack, with which role, and the secrets the services share.

Three named roles, one person each, plus an administrator who manages users and the account
the pipeline itself logs into MLflow with:

- data engineer: reads everything, triggers and clears DAG runs (Airflow), reads MLflow;
- ML engineer: reads DAGs, writes experiments and registered models in MLflow;
- governance reviewer: reads everything, changes nothing (no DAG triggers, no model versions);
- pipeline: the DAGs' tasks, writing runs and model versions to MLflow with the ML engineer's
  rights; it has no Airflow or report login (no person uses it).

Each user has one password for Airflow, MLflow and the report server, generated at the first
``stack up`` into ``<secrets>/users/<name>``; every key the services need (Airflow's Fernet key
and JWT secret, the database passwords) lives beside them. Nothing here is a default: a password
set by hand to ``admin`` or the like is refused before anything starts.
"""

from __future__ import annotations

import base64
import os
from dataclasses import dataclass, field

from creditlake.secrets import check_password, secret
from creditlake.settings import Settings


@dataclass(frozen=True)
class Account:
    username: str
    #: The Airflow (FAB) role, created by ``orchestration.stack.airflow_accounts`` (``None``: no
    #: Airflow login, nor one to the report server).
    airflow_role: str | None
    #: The MLflow role (``None``: MLflow's administrator, who needs none).
    mlflow_role: str | None
    description: str


ADMIN = Account("admin", "Admin", None, "manages users and roles; everything else too")
DATA_ENGINEER = Account(
    "data_engineer", "Data Engineer", "data_engineer", "triggers and clears DAG runs"
)
ML_ENGINEER = Account(
    "ml_engineer", "ML Engineer", "ml_engineer", "writes MLflow experiments and models"
)
GOVERNANCE_REVIEWER = Account(
    "governance_reviewer", "Governance Reviewer", "governance_reviewer", "reads everything"
)
PIPELINE = Account("pipeline", None, "ml_engineer", "the DAGs' tasks, in MLflow only")
ACCOUNTS = (ADMIN, DATA_ENGINEER, ML_ENGINEER, GOVERNANCE_REVIEWER, PIPELINE)
#: The accounts people log in with (Airflow, MLflow, the report server).
PEOPLE = tuple(a for a in ACCOUNTS if a.airflow_role is not None)


def _fernet_key() -> str:
    """The form Airflow's Fernet key takes: 32 random bytes, URL-safe base64."""
    return base64.urlsafe_b64encode(os.urandom(32)).decode()


@dataclass(frozen=True)
class StackSecrets:
    """Every secret of the stack, read (or generated) once per command."""

    passwords: dict[str, str] = field(repr=False)
    postgres_password: str = field(repr=False)
    airflow_db_password: str = field(repr=False)
    mlflow_db_password: str = field(repr=False)
    airflow_fernet_key: str = field(repr=False)
    airflow_jwt_secret: str = field(repr=False)
    airflow_api_secret_key: str = field(repr=False)
    mlflow_flask_secret_key: str = field(repr=False)

    @classmethod
    def load(cls, settings: Settings) -> StackSecrets:
        """Read every secret, generating the missing ones; refuse guessable passwords."""
        passwords = {a.username: secret(settings, f"users/{a.username}") for a in ACCOUNTS}
        for username, password in passwords.items():
            check_password(username, password)
        return cls(
            passwords=passwords,
            postgres_password=secret(settings, "postgres/superuser"),
            airflow_db_password=secret(settings, "postgres/airflow"),
            mlflow_db_password=secret(settings, "postgres/mlflow"),
            airflow_fernet_key=secret(settings, "airflow/fernet_key", _fernet_key),
            airflow_jwt_secret=secret(settings, "airflow/jwt_secret"),
            airflow_api_secret_key=secret(settings, "airflow/api_secret_key"),
            mlflow_flask_secret_key=secret(settings, "mlflow/flask_secret_key"),
        )
