"""Local secret bootstrap: a random PII key for a developer's machine.

In production the key comes from a secrets manager (``CREDITLAKE_PII_KEY`` injected by the
runtime); on one machine, ``creditlake init-secrets`` writes a random key to a file only its owner
can read. The key is generated, never written in code, and never printed.
"""

from __future__ import annotations

import os
import secrets

from creditlake.settings import Settings


def ensure_pii_key(settings: Settings) -> bool:
    """Create the key file if no key is configured; returns True when a new key was written."""
    if settings.pii_key_env or settings.pii_key_file.is_file():
        return False
    settings.pii_key_file.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(settings.pii_key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(secrets.token_hex(32))
    return True
