"""The MLflow tracking server of the stack: PostgreSQL store, served artifacts, basic-auth app.

``mlflow server --app-name basic-auth`` checks every request's user and password against its
user store (the ``mlflow_auth`` database) and every action against permissions. The stack gives
it no default permission (``NO_PERMISSIONS``): what a user may do comes only from the roles set up
here through MLflow's own auth API, with ``*`` patterns so that they cover experiments and models
registered later, by the pipeline or by anyone:

- ``ml_engineer``: MANAGE on every experiment and registered model, and USE of the workspace
  (creating experiments and models);
- ``data_engineer``, ``governance_reviewer``: READ on every experiment and registered model.

Workspaces are on (``--enable-workspaces``; everything lives in the ``default`` one, and clients
need no change) because only then is creating an experiment or a registered model a permission:
without them any logged-in user, the read-only reviewer included, may create new ones.

The configuration file holds the admin's password, so it is written among the secrets (mode
600), and rewritten at each ``up`` from the secret files; so is the libpq password file through
which the server reaches its databases (no password in its command line or environment).
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

from creditlake.settings import Settings
from orchestration.stack.accounts import ACCOUNTS, ADMIN, PIPELINE, StackSecrets
from orchestration.stack.postgres import HOST, Cluster

#: What each MLflow role may do on every resource of each type.
ROLE_PERMISSIONS = {
    "ml_engineer": "MANAGE",
    "data_engineer": "READ",
    "governance_reviewer": "READ",
}
RESOURCE_TYPES = ("experiment", "registered_model")
#: Roles that may create experiments and registered models (a workspace-wide USE grant).
CREATORS = ("ml_engineer",)
#: The one workspace: every experiment, model and role of the stack lives in it.
WORKSPACE = "default"


def base_url(settings: Settings) -> str:
    return f"http://{HOST}:{settings.stack_mlflow_port}"


def client_env(settings: Settings) -> dict[str, str]:
    """How creditlake's own MLflow calls reach this server: as the pipeline account, whose
    password ``ml.tracking`` reads from the secrets (the DAGs' tasks, the demo on the stack)."""
    return {"MLFLOW_TRACKING_URI": base_url(settings), "CREDITLAKE_MLFLOW_USER": PIPELINE.username}


def _write_private(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    path.touch(mode=0o600)
    path.chmod(0o600)
    path.write_text(text)
    return path


def password_file(settings: Settings, secrets: StackSecrets, cluster: Cluster) -> Path:
    """The ``mlflow`` role's password in a libpq password file among the secrets (mode 600).

    psycopg2 (libpq) reads it through ``PGPASSFILE``, so the store URIs that MLflow takes on its
    command line and passes to its workers in their environment carry no password.
    """
    line = f"{HOST}:{cluster.port}:*:mlflow:{_pgpass_escape(secrets.mlflow_db_password)}\n"
    return _write_private(settings.secrets_dir / "mlflow" / "pgpass", line)


def _pgpass_escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace(":", "\\:")


def store_uri(cluster: Cluster, database: str) -> str:
    """An MLflow store in the stack's PostgreSQL, its password left to ``password_file``."""
    return f"postgresql+psycopg2://mlflow@{HOST}:{cluster.port}/{database}"


def auth_config(settings: Settings, secrets: StackSecrets, cluster: Cluster) -> Path:
    """Write the basic-auth app's configuration among the secrets; its path."""
    text = (
        "[mlflow]\n"
        "default_permission = NO_PERMISSIONS\n"
        f"database_uri = {store_uri(cluster, 'mlflow_auth')}\n"
        f"admin_username = {ADMIN.username}\n"
        f"admin_password = {secrets.passwords[ADMIN.username]}\n"
        "authorization_function = mlflow.server.auth:authenticate_request_basic_auth\n"
    )
    return _write_private(settings.secrets_dir / "mlflow" / "basic_auth.ini", text)


def mlflow_env(settings: Settings, secrets: StackSecrets, cluster: Cluster) -> dict[str, str]:
    """Paths to the files that hold the secrets, and the one secret MLflow takes only from its
    environment: the Flask key of its CSRF tokens (``MLFLOW_FLASK_SERVER_SECRET_KEY``; MLflow 3
    reads no file for it and hands it to its workers in their environment)."""
    return {
        "MLFLOW_AUTH_CONFIG_PATH": str(auth_config(settings, secrets, cluster)),
        "PGPASSFILE": str(password_file(settings, secrets, cluster)),
        "MLFLOW_FLASK_SERVER_SECRET_KEY": secrets.mlflow_flask_secret_key,
    }


def command(settings: Settings, cluster: Cluster) -> list[str]:
    artifacts = settings.stack_dir / "mlflow-artifacts"
    artifacts.mkdir(parents=True, exist_ok=True)
    return [
        str(Path(sys.executable).parent / "mlflow"), "server",
        "--app-name", "basic-auth",
        "--backend-store-uri", store_uri(cluster, "mlflow"),
        "--artifacts-destination", artifacts.as_uri(),
        "--host", HOST, "--port", str(settings.stack_mlflow_port), "--workers", "1",
        "--enable-workspaces",
    ]  # fmt: skip


def health(settings: Settings) -> str:
    """``/health`` is the one route the basic-auth app leaves open."""
    import requests

    try:
        response = requests.get(f"{base_url(settings)}/health", timeout=5)
    except requests.RequestException as error:
        return f"unreachable ({type(error).__name__})"
    return "healthy" if response.ok else f"HTTP {response.status_code}"


def ensure_accounts(settings: Settings, secrets: StackSecrets) -> None:
    """Users, roles and grants through MLflow's auth REST API, as its admin; idempotent."""
    with warnings.catch_warnings():  # importing the routes warns about Starlette's future
        warnings.simplefilter("ignore")
        from mlflow.server.auth import routes
    from mlflow.utils.rest_utils import MlflowHostCreds, http_request

    admin = MlflowHostCreds(
        base_url(settings), username=ADMIN.username, password=secrets.passwords[ADMIN.username]
    )

    def call(endpoint: str, method: str, **kwargs) -> dict:
        response = http_request(admin, endpoint, method, max_retries=0, timeout=30, **kwargs)
        if response.status_code >= 400:
            raise RuntimeError(
                f"MLflow {method} {endpoint}: HTTP {response.status_code} {response.text[:300]}"
            )
        return response.json() if response.content else {}

    existing = {
        r["name"]: r
        for r in call(routes.LIST_ROLES, "GET", params={"workspace": WORKSPACE})["roles"]
    }
    for name, permission in ROLE_PERMISSIONS.items():
        if name not in existing:
            existing[name] = call(
                routes.CREATE_ROLE, "POST", json={"workspace": WORKSPACE, "name": name}
            )["role"]
        role_id = existing[name]["id"]
        granted = call(routes.LIST_ROLE_PERMISSIONS, "GET", params={"role_id": str(role_id)})
        have = {
            (g["resource_type"], g["resource_pattern"], g["permission"])
            for g in granted.get("role_permissions", [])
        }
        wanted = [(resource_type, permission) for resource_type in RESOURCE_TYPES]
        if name in CREATORS:
            wanted.append(("workspace", "USE"))
        for resource_type, permission in wanted:
            if (resource_type, "*", permission) not in have:
                call(
                    routes.ADD_ROLE_PERMISSION,
                    "POST",
                    json={
                        "role_id": role_id,
                        "resource_type": resource_type,
                        "resource_pattern": "*",
                        "permission": permission,
                    },
                )
    for account in ACCOUNTS:
        if account.mlflow_role is None:
            continue
        password = secrets.passwords[account.username]
        found = http_request(
            admin, routes.GET_USER, "GET", max_retries=0, params={"username": account.username}
        )
        if found.status_code == 404:
            call(
                routes.CREATE_USER,
                "POST",
                json={"username": account.username, "password": password},
            )
        else:
            call(
                routes.UPDATE_USER_PASSWORD,
                "PATCH",
                json={"username": account.username, "password": password},
            )
        assigned = call(routes.LIST_USER_ROLES, "GET", params={"username": account.username})
        if account.mlflow_role not in {r["name"] for r in assigned.get("roles", [])}:
            call(
                routes.ASSIGN_ROLE,
                "POST",
                json={"username": account.username, "role_id": existing[account.mlflow_role]["id"]},
            )
