"""Airflow's secrets backend: creditlake's own (``creditlake.secrets``), so there is only one.

Named in ``[secrets] backend`` (``AIRFLOW__SECRETS__BACKEND``), this class is what Airflow asks,
before its environment variables and metadata database, for:

- connections: the secret ``airflow/connections/<conn_id>``, JSON or a URI;
- variables: ``airflow/variables/<key>``;
- sensitive options: ``[core] fernet_key_secret = fernet_key`` (or
  ``AIRFLOW__CORE__FERNET_KEY_SECRET``) reads ``airflow/fernet_key``. So the Fernet key, the
  metadata database's URI and the API's signing keys reach Airflow without ever being in its
  environment or on its command line.

Whether the secrets are local files or Secrets Manager is creditlake's setting
(``CREDITLAKE_SECRETS_BACKEND``), the same for Airflow as for the pipeline it runs.
"""

from __future__ import annotations

from airflow.secrets import BaseSecretsBackend

from creditlake.secrets import secrets_backend
from creditlake.settings import get_settings

#: Where Airflow's secrets live among creditlake's (the prefixes can be changed through
#: ``[secrets] backend_kwargs``, e.g. to share one Secrets Manager folder between deployments).
CONNECTIONS_PREFIX = "airflow/connections"
VARIABLES_PREFIX = "airflow/variables"
CONFIG_PREFIX = "airflow"


class CreditlakeSecretsBackend(BaseSecretsBackend):
    """Connections, variables and config options from creditlake's secrets backend; a name it
    does not hold is None, so that Airflow goes on to its next backend."""

    def __init__(
        self,
        connections_prefix: str = CONNECTIONS_PREFIX,
        variables_prefix: str = VARIABLES_PREFIX,
        config_prefix: str = CONFIG_PREFIX,
    ) -> None:
        super().__init__()
        self.connections_prefix = connections_prefix.strip("/")
        self.variables_prefix = variables_prefix.strip("/")
        self.config_prefix = config_prefix.strip("/")
        # Settings are read once per backend: Airflow builds one per process (and per config
        # lookup), and the environment that chooses the backend does not change in between.
        self._secrets = secrets_backend(get_settings())

    def _get(self, prefix: str, name: str) -> str | None:
        return self._secrets.get(self.build_path(prefix, name))

    def get_conn_value(self, conn_id: str, team_name: str | None = None) -> str | None:
        return self._get(self.connections_prefix, conn_id)

    def get_variable(self, key: str, team_name: str | None = None) -> str | None:
        return self._get(self.variables_prefix, key)

    def get_config(self, key: str) -> str | None:
        return self._get(self.config_prefix, key)
