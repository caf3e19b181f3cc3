"""Local secrets: generated once, kept in files only their owner can read, never printed.

In production the PII key comes from a secrets manager (``CREDITLAKE_PII_KEY`` injected by the
runtime); on one machine, ``creditlake init-secrets`` writes a random key to a file only its owner
can read. The local stack (``creditlake stack up``) keeps its passwords and keys beside it in the
same way: one file per secret under ``Settings.secrets_dir`` (mode 600, in a folder of mode 700),
each generated the first time it is needed, so no password is ever written in code or chosen by
default.
"""

from __future__ import annotations

import os
import secrets
import stat
from collections.abc import Callable
from pathlib import Path

from creditlake.settings import Settings, SettingsError

#: Passwords that are well known defaults of the tools the stack runs, or guessed first by anyone
#: who tries a login page; refused even when a user writes one into a secret file by hand.
DEFAULT_PASSWORDS = frozenset(
    {"admin", "airflow", "mlflow", "password", "password1234", "postgres", "changeme", "secret"}
)
#: Generated passwords have 24 URL-safe characters (~143 bits); a hand-set one needs at least 16.
MIN_PASSWORD_LENGTH = 16


def ensure_pii_key(settings: Settings) -> bool:
    """Create the key file if no key is configured; returns True when a new key was written."""
    if settings.pii_key_env or settings.pii_key_file.is_file():
        return False
    _write_private(settings.pii_key_file, secrets.token_hex(32))
    return True


def _write_private(path: Path, value: str) -> None:
    """Write ``value`` to a new file of mode 600 in a folder of mode 700 (never over a file)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    path.parent.chmod(0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(value)


def secret(settings: Settings, name: str, generate: Callable[[], str] | None = None) -> str:
    """The secret ``name`` (a path under the secrets folder), generated on first use.

    A file that others can read is refused rather than used: a secret that has leaked to other
    users of the machine is not one any more, and the message says how to fix the mode.
    """
    settings.secrets_dir.mkdir(parents=True, exist_ok=True)
    settings.secrets_dir.chmod(0o700)  # the folder too: its listing says which users exist
    path = settings.secrets_dir / name
    if not path.is_file():
        _write_private(path, (generate or new_password)())
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise SettingsError(
            f"the secret file {path} can be read by other users (mode {mode:o}): "
            f"run `chmod 600 {path}`"
        )
    value = path.read_text(encoding="utf-8").strip()
    if not value:
        raise SettingsError(f"the secret file {path} is empty: delete it to have one generated")
    return value


def new_password() -> str:
    return secrets.token_urlsafe(18)


def check_password(username: str, password: str) -> None:
    """Refuse a password that anyone could guess: a tool's default, the user's name, or short."""
    lowered = password.lower()
    if lowered in DEFAULT_PASSWORDS or lowered == username.lower():
        raise SettingsError(
            f"the password of {username!r} is a well known default: delete its secret file "
            "to have a random one generated"
        )
    if len(password) < MIN_PASSWORD_LENGTH:
        raise SettingsError(
            f"the password of {username!r} has {len(password)} characters; at least "
            f"{MIN_PASSWORD_LENGTH} are required (delete its secret file to have one generated)"
        )
