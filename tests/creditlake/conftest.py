"""Fixtures of the kernel's tests: the lake's catalog on each backend a deployment can use."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(params=["sqlite", "postgresql"])
def catalog_backend(
    request: pytest.FixtureRequest, creditlake_home: Path, monkeypatch: pytest.MonkeyPatch
) -> str:
    """The embedded SQLite catalog (the default), then a PostgreSQL catalog in a database of its
    own (a shared deployment's ``CREDITLAKE_CATALOG_URI``); the backend's SQLAlchemy dialect."""
    if request.param == "postgresql":
        server = request.getfixturevalue("postgres_server")
        test = request.node.name.split("[")[0].removeprefix("test_")[:40]
        monkeypatch.setenv("CREDITLAKE_CATALOG_URI", server.create_database(f"lake_{test}"))
    return request.param
