"""The stack's secrets and logins, without starting it: generated, private, never a default."""

from __future__ import annotations

import base64
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from stack_helpers import stack_env

from creditlake.secrets import check_password, secret
from creditlake.settings import PROJECT_ROOT, SettingsError, get_settings
from orchestration.stack.accounts import ACCOUNTS, StackSecrets


@pytest.mark.parametrize(
    ("username", "password"),
    [
        ("admin", "admin"),
        ("admin", "ADMIN"),
        ("ml_engineer", "password1234"),
        ("airflow", "airflow"),
        ("data_engineer", "data_engineer"),
        ("data_engineer", "short-but-odd"),
    ],
)
def test_guessable_passwords_are_refused(username: str, password: str) -> None:
    with pytest.raises(SettingsError, match=username):
        check_password(username, password)


def test_a_generated_password_passes() -> None:
    check_password("admin", "kX9-q2vZ_r8LmA0pTw3yHc4e")


def test_secrets_are_generated_once_into_private_files(creditlake_home: Path) -> None:
    settings = get_settings()
    loaded = StackSecrets.load(settings)
    again = StackSecrets.load(settings)
    assert loaded == again  # read back, not generated anew
    assert stat.S_IMODE(settings.secrets_dir.stat().st_mode) == 0o700
    files = [p for p in settings.secrets_dir.rglob("*") if p.is_file()]
    assert {stat.S_IMODE(p.stat().st_mode) for p in files} == {0o600}
    assert {p.name for p in (settings.secrets_dir / "users").iterdir()} == {
        a.username for a in ACCOUNTS
    }
    assert len(base64.urlsafe_b64decode(loaded.airflow_fernet_key)) == 32


def test_a_secret_others_can_read_is_refused(creditlake_home: Path) -> None:
    settings = get_settings()
    secret(settings, "users/admin")
    (settings.secrets_dir / "users" / "admin").chmod(0o644)
    with pytest.raises(SettingsError, match="chmod 600"):
        secret(settings, "users/admin")


def test_stack_up_refuses_a_default_password_before_starting_anything(tmp_path: Path) -> None:
    home = tmp_path / "home"
    users = home / "secrets" / "users"
    users.mkdir(parents=True)
    (home / "secrets").chmod(0o700)
    (users / "admin").write_text("admin\n")
    (users / "admin").chmod(0o600)
    env, _ = stack_env(home)
    result = subprocess.run(
        [sys.executable, "-m", "orchestration.cli", "stack", "up"],
        env=env,
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert "password of 'admin' is a well known default" in result.stderr
    assert not (home / "stack").exists()
