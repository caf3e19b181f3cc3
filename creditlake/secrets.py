"""Secrets: one backend per deployment, read by creditlake and by Airflow alike.

``CREDITLAKE_SECRETS_BACKEND`` chooses where every secret lives:

- ``local`` (the default): one file per secret under ``Settings.secrets_dir``, mode 600 in a
  folder of mode 700. The local stack's passwords and keys are generated the first time they are
  needed, so no password is ever written in code or chosen by default.
- ``aws``: AWS Secrets Manager, the secret ``name`` stored as ``<CREDITLAKE_SECRETS_PREFIX>/name``
  (the names the Terraform secrets module creates, e.g. ``creditlake-prod/pii-key``). Region,
  credentials and endpoint come from boto3's own chain (``AWS_DEFAULT_REGION``,
  ``AWS_ENDPOINT_URL``, the instance role), never from creditlake's settings. Nothing is generated
  there: a missing secret is an error that says how to put it.

The PII key is the secret ``pii-key`` in both; Airflow reads its connections, variables and
sensitive options from the same backend through ``orchestration.secrets_backend``.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from creditlake.settings import Settings, SettingsError

#: The HMAC key of the PII tokens (:func:`pii_key`).
PII_KEY = "pii-key"
#: Where the PII key lived before it was a secret of the backend like the others.
LEGACY_PII_KEY_FILE = "pii_key"
#: Passwords that are well known defaults of the tools the stack runs, or guessed first by anyone
#: who tries a login page; refused even when a user writes one into a secret file by hand.
DEFAULT_PASSWORDS = frozenset(
    {"admin", "airflow", "mlflow", "password", "password1234", "postgres", "changeme", "secret"}
)
#: Generated passwords have 24 URL-safe characters (~143 bits); a hand-set one needs at least 16.
MIN_PASSWORD_LENGTH = 16


class SecretsBackend(Protocol):
    """Where secrets are read and written; names are paths such as ``users/admin``."""

    def get(self, name: str) -> str | None:
        """The value, or None when the backend holds no secret of that name."""

    def put(self, name: str, value: str) -> None:
        """Create or replace the secret."""

    def where(self, name: str) -> str:
        """Where the secret ``name`` lives, for messages."""

    def missing(self, name: str) -> str:
        """Why ``name`` could not be read, and how to put it: the end of an error message."""


class LocalSecrets:
    """One file per secret, readable only by its owner."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def path(self, name: str) -> Path:
        return self.folder / name

    def open_folder(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.folder.chmod(0o700)  # the folder too: its listing says which users exist

    def get(self, name: str) -> str | None:
        """A file that others can read is refused rather than used: a secret that has leaked to
        other users of the machine is not one any more, and the message says how to fix it."""
        path = self.path(name)
        if not path.is_file():
            return None
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077:
            raise SettingsError(
                f"the secret file {path} can be read by other users (mode {mode:o})",
                f"run `chmod 600 {path}`",
            )
        value = path.read_text(encoding="utf-8").strip()
        if not value:
            raise SettingsError(
                f"the secret file {path} is empty", "delete it to have one generated"
            )
        return value

    def put(self, name: str, value: str) -> None:
        """Written aside and renamed over the old file, so no reader sees half a secret."""
        self.open_folder()
        path = self.path(name)
        aside = path.with_name(f".{path.name}.new")
        aside.unlink(missing_ok=True)
        _write_private(aside, value)
        aside.replace(path)

    def create(self, name: str, value: str) -> None:
        """Write a new secret, never over an existing one (two processes may race to make it)."""
        self.open_folder()
        _write_private(self.path(name), value)

    def where(self, name: str) -> str:
        return str(self.path(name))

    def missing(self, name: str) -> str:
        return f"no file {self.path(name)} (CREDITLAKE_SECRETS_DIR)"


class AwsSecrets:
    """AWS Secrets Manager, names under one prefix per deployment."""

    def __init__(self, prefix: str) -> None:
        import boto3

        self.prefix = prefix
        self.client = boto3.client("secretsmanager")

    def secret_id(self, name: str) -> str:
        return f"{self.prefix}/{name}"

    def get(self, name: str) -> str | None:
        errors = self.client.exceptions
        try:
            found = self.client.get_secret_value(SecretId=self.secret_id(name))
        except errors.ResourceNotFoundException:
            return None
        except errors.InvalidRequestException as error:  # e.g. marked for deletion
            raise SettingsError(
                f"the secret {self.secret_id(name)} cannot be read: {error}"
            ) from None
        value = (found.get("SecretString") or "").strip()
        if not value:
            raise SettingsError(
                f"the secret {self.secret_id(name)} has no value: {self._how_to_put(name)}"
            )
        return value

    def put(self, name: str, value: str) -> None:
        try:
            self.client.put_secret_value(SecretId=self.secret_id(name), SecretString=value)
        except self.client.exceptions.ResourceNotFoundException:
            self.client.create_secret(Name=self.secret_id(name), SecretString=value)

    def where(self, name: str) -> str:
        return f"{self.secret_id(name)} in AWS Secrets Manager"

    def _how_to_put(self, name: str) -> str:
        return (
            "put it with `aws secretsmanager put-secret-value --secret-id "
            f"{self.secret_id(name)} --secret-string ...` (create-secret --name if it does not "
            "exist; the Terraform secrets module creates the platform's)"
        )

    def missing(self, name: str) -> str:
        return (
            f"no secret {self.secret_id(name)} in AWS Secrets Manager "
            f"(CREDITLAKE_SECRETS_PREFIX={self.prefix}): {self._how_to_put(name)}"
        )


def secrets_backend(settings: Settings) -> LocalSecrets | AwsSecrets:
    """The backend that ``CREDITLAKE_SECRETS_BACKEND`` names."""
    if settings.secrets_backend == "aws":
        return AwsSecrets(settings.secrets_prefix)
    return LocalSecrets(settings.secrets_dir)


def read_secret(settings: Settings, name: str, fix: str = "") -> str:
    """The secret ``name``; an error naming where it was looked for (and ``fix``) when there is
    none."""
    backend = secrets_backend(settings)
    value = backend.get(name)
    if value is None:
        raise SettingsError(f"the secret {name!r} is missing: {backend.missing(name)}", fix)
    return value


def secret(settings: Settings, name: str, generate: Callable[[], str] | None = None) -> str:
    """The secret ``name``, generated on first use by the local backend.

    Secrets Manager gets no generated values: what a deployment's services share there is put by
    its operator (or Terraform), and a value made up by whichever process asked first would
    silently differ from the one the others were configured with.
    """
    backend = secrets_backend(settings)
    if isinstance(backend, LocalSecrets):
        backend.open_folder()
    value = backend.get(name)
    if value is not None:
        return value
    if not isinstance(backend, LocalSecrets):
        raise SettingsError(f"the secret {name!r} is missing: {backend.missing(name)}")
    with contextlib.suppress(FileExistsError):  # another process made it first: read theirs
        backend.create(name, (generate or new_password)())
    return backend.get(name) or ""


def put_secret(settings: Settings, name: str, value: str) -> None:
    """Create or replace the secret ``name`` (e.g. a connection string derived from others)."""
    secrets_backend(settings).put(name, value)


def ensure_pii_key(settings: Settings) -> bool:
    """Make a local PII key if there is none; True when a new key was written.

    A key from before it lived under its secret's name (``pii_key``) is renamed rather than
    replaced: a new key would orphan every token already in the lake.
    """
    backend = secrets_backend(settings)
    if backend.get(PII_KEY) is not None:
        return False
    if isinstance(backend, LocalSecrets):
        legacy = backend.path(LEGACY_PII_KEY_FILE)
        if legacy.is_file():
            legacy.rename(backend.path(PII_KEY))
            return False
    secret(settings, PII_KEY, lambda: secrets.token_hex(32))
    return True


def _write_private(path: Path, value: str) -> None:
    """Write ``value`` to a new file of mode 600 in a folder of mode 700 (never over a file)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    path.parent.chmod(0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(value)


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


def pii_key(settings: Settings) -> bytes:
    """The HMAC key for PII tokens: the ``pii-key`` secret of the secrets backend, in every
    deployment (a file on one machine, Secrets Manager in AWS), never an environment variable:
    a key in the environment is copied into every child process and every crash report."""
    local = settings.secrets_backend == "local"
    make_one = "run `creditlake init-secrets` to create one" if local else ""
    key = read_secret(
        settings,
        PII_KEY,
        f"{make_one} (or set CREDITLAKE_SECRETS_DIR to the folder that holds it)" if local else "",
    ).encode()
    if len(key) < 32:
        raise SettingsError(
            f"the PII tokenisation key ({PII_KEY} in the {settings.secrets_backend} secrets "
            "backend) must be at least 32 bytes long",
            "replace it with 64 random hex characters (`openssl rand -hex 32`); a new key "
            "changes every token, so keep the old one if the lake already holds tokens",
        )
    return key
