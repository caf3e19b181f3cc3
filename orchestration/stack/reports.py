"""The report server: the governance site, the Data Docs and the dbt docs behind a login.

The pages are static files (``creditlake report`` writes ``<reports>/governance/``, Great
Expectations its Data Docs), so the server is a small ASGI app, run by uvicorn (already installed:
Airflow's api-server runs on it): Starlette's ``StaticFiles`` serves the folders (it refuses
paths that climb out of them), and every request except ``/healthz`` must carry HTTP basic
credentials of one of the stack's users, checked in constant time against the same secret files
as Airflow and MLflow. Basic auth rather than a login page: browsers prompt for it natively, it
is what MLflow's auth app does too, and on 127.0.0.1 nothing else sees the header. Every role may
read every page (the governance reviewer's job), so there is no per-page rule.

Started as ``uvicorn --factory orchestration.stack.reports:create_app``, it reads settings and
the passwords once, at start.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import sys
from html import escape
from pathlib import Path

from starlette.applications import Starlette
from starlette.responses import HTMLResponse, PlainTextResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send

from creditlake.secrets import secret
from creditlake.settings import Settings, get_settings
from orchestration.stack.accounts import PEOPLE

REALM = "creditlake reports"
#: The unauthenticated health check's path.
HEALTH_PATH = "/healthz"


def sites(settings: Settings) -> dict[str, tuple[str, Path, str]]:
    """URL prefix → (title, folder, page to open) of each site served."""
    from expectations.context import data_docs_site

    governance = settings.reports_dir / "governance"
    return {
        "governance": ("Governance report", governance, "index.html"),
        "data-docs": ("Great Expectations Data Docs", data_docs_site(settings), "index.html"),
        "dbt-docs": ("dbt docs", governance / "dbt_docs", "static_index.html"),
    }


class BasicAuth:
    """Refuse any request without a known user's credentials (401, with the browser's prompt)."""

    def __init__(self, app: ASGIApp, passwords: dict[str, str]) -> None:
        self.app = app
        self.passwords = passwords

    def allowed(self, header: str | None) -> bool:
        if not header or not header.startswith("Basic "):
            return False
        try:
            username, _, password = base64.b64decode(header[6:]).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return False
        expected = self.passwords.get(username)
        # Compare against something even for an unknown user, so timing says nothing about names.
        return hmac.compare_digest(password.encode(), (expected or "\0" * 32).encode()) and (
            expected is not None
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] != HEALTH_PATH:
            headers = dict(scope["headers"])
            header = headers.get(b"authorization", b"").decode("latin-1") or None
            if not self.allowed(header):
                response = Response(
                    "login required",
                    status_code=401,
                    headers={"WWW-Authenticate": f'Basic realm="{REALM}", charset="UTF-8"'},
                )
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


class _Site:
    """A folder's static files, or a 404 saying it is not built yet (rather than a 500)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.files = StaticFiles(directory=folder, html=True, check_dir=False)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not self.folder.is_dir():
            missing = PlainTextResponse(
                "not built yet: run `creditlake report` after a demo", status_code=404
            )
            await missing(scope, receive, send)
            return
        await self.files(scope, receive, send)


def _index(served: dict[str, tuple[str, Path, str]]) -> HTMLResponse:
    items = []
    for prefix, (title, folder, page) in served.items():
        if (folder / page).is_file():
            items.append(f'<li><a href="/{prefix}/{page}">{escape(title)}</a></li>')
        else:
            items.append(
                f"<li>{escape(title)}: not built yet (run <code>creditlake report</code> after a "
                "demo)</li>"
            )
    body = "\n".join(items)
    return HTMLResponse(
        f"<!doctype html><html><head><meta charset='utf-8'><title>creditlake reports</title>"
        f"</head><body><h1>creditlake reports</h1><ul>\n{body}\n</ul></body></html>"
    )


def command(settings: Settings) -> list[str]:
    return [
        sys.executable, "-m", "uvicorn", "--factory", "orchestration.stack.reports:create_app",
        "--host", "127.0.0.1", "--port", str(settings.stack_reports_port), "--no-access-log",
    ]  # fmt: skip


def create_app(settings: Settings | None = None) -> ASGIApp:
    settings = settings or get_settings()
    served = sites(settings)
    passwords = {a.username: secret(settings, f"users/{a.username}") for a in PEOPLE}
    routes = [
        Route("/", lambda request: _index(served)),
        Route(HEALTH_PATH, lambda request: PlainTextResponse("ok")),
        *(Mount(f"/{prefix}", _Site(folder)) for prefix, (_, folder, _) in served.items()),
    ]
    return BasicAuth(Starlette(routes=routes), passwords)
