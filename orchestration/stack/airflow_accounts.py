"""Airflow's roles, users and pools for the stack, run as ``python -m`` inside Airflow's
environment.

The FAB auth manager keeps users and roles in the metadata database. Its own roles (Viewer,
User, ...) are synced first; the stack's named roles are then built from the same permission
lists, so they follow FAB's definition of "read" and "operate DAGs" as the provider evolves:

- Data Engineer: Viewer + User (trigger, clear and mark DAG runs and task instances);
- ML Engineer, Governance Reviewer: Viewer (read DAGs, runs, logs; no triggers).

Passwords arrive on stdin as JSON ``{username: password}`` and are (re)set on every run, so the
secret files stay the single source of truth.
"""

from __future__ import annotations

import json
import sys

from orchestration.stack.accounts import ADMIN, DATA_ENGINEER, PEOPLE


def main() -> None:
    passwords: dict[str, str] = json.load(sys.stdin)
    from airflow.providers_manager import ProvidersManager

    # The ``[fab]`` options are the provider's: loaded the way Airflow's own CLI commands do.
    ProvidersManager().initialize_providers_configuration()
    _sync(passwords)
    from orchestration.warehouse import ensure_warehouse_pool

    ensure_warehouse_pool()


def _sync(passwords: dict[str, str]) -> None:
    from airflow.providers.fab.auth_manager.cli_commands.utils import get_application_builder

    with get_application_builder() as appbuilder:
        security = appbuilder.sm
        appbuilder.add_permissions(update_perms=True)
        security.sync_roles()
        for account in PEOPLE:
            role = security.add_role(account.airflow_role)  # the existing one if it exists
            if account is not ADMIN:  # FAB's own Admin role has every permission already
                permissions = list(security.VIEWER_PERMISSIONS)
                if account is DATA_ENGINEER:
                    permissions += security.USER_PERMISSIONS
                for action, resource in permissions:
                    security.add_permission_to_role(
                        role, security.create_permission(action, resource)
                    )
            user = security.find_user(account.username)
            if user is None:
                created = security.add_user(
                    account.username,
                    account.username.replace("_", " ").title(),
                    "(creditlake)",
                    f"{account.username}@creditlake.invalid",
                    role,
                    passwords[account.username],
                )
                if not created:
                    raise SystemExit(f"could not create the Airflow user {account.username}")
            else:
                user.roles = [role]
                security.update_user(user)
                security.reset_password(user.id, passwords[account.username])
    print(f"{len(PEOPLE)} Airflow users in their roles")


if __name__ == "__main__":
    main()
