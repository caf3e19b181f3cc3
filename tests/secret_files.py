"""The PII key of a test home, where the local secrets backend reads it.

The key is a secret of the backend in every deployment, never an environment variable, so a test
that needs a known key (to compare tokens it computes itself) writes it the way an operator's
``creditlake init-secrets`` would: ``<home>/secrets/pii-key``, mode 600 in a folder of mode 700.
Plain file operations, so that the session's conftest can call this before creditlake is imported.
"""

from __future__ import annotations

import os
from pathlib import Path

#: The PII key of the session's home and of ``creditlake_home``.
TEST_PII_KEY = "test-only-pii-key-0123456789abcdef0123456789abcdef"


def put_pii_key(home: Path, key: str) -> Path:
    """Write (or replace) the PII key of the creditlake home ``home``; its path."""
    folder = Path(home) / "secrets"
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    folder.chmod(0o700)
    path = folder / "pii-key"
    path.unlink(missing_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return path
