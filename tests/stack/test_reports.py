"""The report server's app, without a server: every page behind a login, nothing outside it."""

from __future__ import annotations

from pathlib import Path

import pytest
from starlette.testclient import TestClient

from creditlake.secrets import secret
from creditlake.settings import get_settings
from orchestration.stack.reports import create_app


@pytest.fixture
def client(creditlake_home: Path) -> tuple[TestClient, str]:
    settings = get_settings()
    site = settings.reports_dir / "governance"
    site.mkdir(parents=True)
    (site / "index.html").write_text("<h1>Governance of run 42</h1>")
    password = secret(settings, "users/governance_reviewer")
    return TestClient(create_app(settings)), password


def test_pages_need_a_known_user_and_the_right_password(client) -> None:
    app, password = client
    refused = app.get("/governance/")
    assert refused.status_code == 401
    assert refused.headers["www-authenticate"].startswith("Basic realm=")
    assert refused.text == "login required"
    assert app.get("/governance/", auth=("governance_reviewer", password + "x")).status_code == 401
    assert app.get("/governance/", auth=("nobody", password)).status_code == 401
    page = app.get("/governance/", auth=("governance_reviewer", password))
    assert page.status_code == 200 and "Governance of run 42" in page.text


def test_the_health_check_is_the_one_open_path(client) -> None:
    app, _ = client
    assert app.get("/healthz").text == "ok"
    assert app.get("/healthz/../governance/").status_code == 401


def test_a_site_not_built_yet_says_so_and_nothing_outside_the_sites_is_served(client) -> None:
    app, password = client
    login = ("governance_reviewer", password)
    missing = app.get("/dbt-docs/static_index.html", auth=login)
    assert missing.status_code == 404 and "creditlake report" in missing.text
    index = app.get("/", auth=login)
    assert '<a href="/governance/index.html">' in index.text and "dbt docs: not built" in index.text
    # The secrets sit beside the reports in the home: no path may climb out to them.
    for path in (
        "/governance/../../secrets/users/governance_reviewer",
        "/governance/%2e%2e/pii_key",
    ):
        assert password not in app.get(path, auth=login).text
