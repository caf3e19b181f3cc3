"""What each role sees in the local stack's web pages, checked in headless Chromium.

The API tests (``test_stack.py``) say what the servers allow; these checks say what a person
in a browser gets: the Airflow login form and its pages, MLflow's model registry behind HTTP
basic auth, the report server's pages. Each check waits for a specific text (a run id, a
version's alias), never for a fixed time, so that two busy cores only make it slower, and
leaves a screenshot that shows the data it checked.

The browser may only talk to 127.0.0.1: every other request is aborted and recorded, so a page
that fetches a font or telemetry from the internet fails the test instead of hanging it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote, urlsplit

from browser import CHROMIUM_FLAGS, chromium

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Page, Route

#: One page's wait: the React UIs fetch their data after the page loads, slowly on busy cores.
PAGE_TIMEOUT_MS = 120_000
VIEWPORT = {"width": 1280, "height": 800}
LOOPBACK = "127.0.0.1"
#: MLflow runs with workspaces on; its UI asks which one unless the address says it.
MLFLOW_WORKSPACE = "default"
CHAMPION = "champion"


@dataclass(frozen=True)
class Login:
    username: str
    password: str = field(repr=False)


@dataclass(frozen=True)
class StackFacts:
    """What the stack must show: produced by a fixture that ran real work in it."""

    dag_id: str
    #: Runs of ``dag_id`` that finished in success, by run id.
    run_ids: tuple[str, ...]
    model_name: str
    champion_version: str
    #: An as-of date the governance report covers, and a suite the Data Docs list.
    report_date: str
    data_docs_suite: str


@dataclass
class LoopbackBrowser:
    """Chromium limited to 127.0.0.1; screenshots go to ``shots/<role>/<page>.png``."""

    browser: Browser
    shots: Path
    refused: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)

    def context(self, login: Login | None = None, basic_auth: bool = False) -> BrowserContext:
        credentials = (
            {"username": login.username, "password": login.password}
            if basic_auth and login
            else None
        )
        context = self.browser.new_context(viewport=VIEWPORT, http_credentials=credentials)
        context.set_default_timeout(PAGE_TIMEOUT_MS)
        context.set_default_navigation_timeout(PAGE_TIMEOUT_MS)
        context.route("**/*", self._only_loopback)
        context.on("page", lambda page: page.on("pageerror", self._page_error))
        return context

    def _only_loopback(self, route: Route) -> None:
        url = route.request.url
        parts = urlsplit(url)
        if parts.scheme in ("http", "https", "ws", "wss") and parts.hostname != LOOPBACK:
            self.refused.append(url)
            route.abort()
        else:
            route.continue_()

    def _page_error(self, error: object) -> None:
        self.page_errors.append(str(error))

    def shot(self, page: Page, role: str, name: str) -> Path:
        path = self.shots / role / f"{name}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(path))
        return path


@contextmanager
def loopback_browser(shots: Path) -> Iterator[LoopbackBrowser]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium(), args=CHROMIUM_FLAGS)
        try:
            yield LoopbackBrowser(browser, shots)
        finally:
            browser.close()


# --- Airflow: the FAB login form, then the React UI on the session it set ----------------------


def airflow_login(session: LoopbackBrowser, base: str, login: Login) -> Page:
    """Sign in through FAB's form; the page it lands on is the React UI's home."""
    import re

    page = session.context().new_page()
    page.goto(f"{base}/auth/login/", wait_until="load")
    page.fill("#username", login.username)
    page.fill("#password", login.password)
    page.click("input[type=submit]")
    page.wait_for_url(re.compile(r"^(?!.*/auth/login).*$"))
    page.get_by_role("link", name="Dags").first.wait_for()
    return page


def check_airflow_refuses_wrong_password(session: LoopbackBrowser, base: str, login: Login) -> None:
    """The form comes back with FAB's warning, and no session cookie lets the UI in."""
    page = session.context().new_page()
    page.goto(f"{base}/auth/login/", wait_until="load")
    page.fill("#username", login.username)
    page.fill("#password", login.password)
    page.click("input[type=submit]")
    page.get_by_text("Invalid login. Please try again.").wait_for()
    assert "/auth/login" in page.url, page.url
    session.shot(page, login.username, "airflow_wrong_password")
    page.goto(f"{base}/api/v2/dags", wait_until="load")
    assert page.evaluate("document.body.innerText").strip().startswith('{"detail"'), page.url


def check_airflow_dags(page: Page, base: str, role: str, session: LoopbackBrowser, dag_ids) -> None:
    page.goto(f"{base}/dags", wait_until="load")
    for dag_id in dag_ids:
        page.get_by_role("link", name=dag_id, exact=True).first.wait_for()
    session.shot(page, role, "airflow_dags")


def check_airflow_runs(page: Page, base: str, role: str, session: LoopbackBrowser, facts) -> None:
    """The DAG's grid and runs list show each run, and each run's page says Success."""
    page.goto(f"{base}/dags/{facts.dag_id}/runs", wait_until="load")
    for run_id in facts.run_ids:
        row = page.get_by_role("row").filter(has_text=run_id)
        row.get_by_text("Success", exact=True).wait_for()
    session.shot(page, role, "airflow_runs")
    for run_id in facts.run_ids:
        page.goto(f"{base}/dags/{facts.dag_id}/runs/{quote(run_id, safe='')}", wait_until="load")
        page.get_by_text(run_id, exact=True).first.wait_for()
        page.get_by_text("Success", exact=True).first.wait_for()
        # every task instance of the run, in the run's table, finished in success
        page.get_by_text("Task Instances", exact=False).first.wait_for()
    session.shot(page, role, "airflow_run")


def trigger_from_ui(page: Page, base: str, dag_id: str) -> tuple[int, dict]:
    """Press Trigger in the DAG's page and submit the dialog; the API's answer to the UI."""
    page.goto(f"{base}/dags/{dag_id}", wait_until="load")
    page.get_by_role("button", name="Trigger Dag").click()
    dialog = page.get_by_role("dialog")
    submit = dialog.get_by_role("button", name="Trigger", exact=True)
    with page.expect_response(
        lambda r: r.request.method == "POST" and r.url.endswith(f"/dags/{dag_id}/dagRuns")
    ) as answer:
        submit.click()
    response = answer.value
    try:
        body = response.json()
    except ValueError:
        body = {}
    return response.status, body


def check_trigger_refused(page: Page, base: str, role: str, session, dag_id: str) -> int:
    """Airflow 3.3 with FAB shows the button to a read-only role; the API refuses the run."""
    status, _ = trigger_from_ui(page, base, dag_id)
    page.get_by_role("dialog").get_by_text("403 Forbidden").wait_for()
    page.get_by_text("Access Denied").first.wait_for()
    session.shot(page, role, "airflow_trigger_refused")
    return status


# --- MLflow: HTTP basic auth, the model registry pages ------------------------------------------


def _dismiss_popups(page: Page) -> None:
    """The registry's "new UI" announcement and the assistant panel cover the table."""
    close = page.get_by_role("dialog").get_by_role("button", name="Close")
    if close.count():
        close.first.click()


def check_mlflow_champion(session: LoopbackBrowser, base: str, login: Login, facts) -> Page:
    page = session.context(login, basic_auth=True).new_page()
    suffix = f"?workspace={MLFLOW_WORKSPACE}"
    page.goto(f"{base}/#/models/{facts.model_name}{suffix}", wait_until="load")
    page.get_by_role("heading", name=facts.model_name).first.wait_for()
    # the alias chip reads "@ champion" (a no-break space), in the version's own row
    row = page.get_by_role("row").filter(has_text=f"Version {facts.champion_version}")
    row.filter(has_text=CHAMPION).wait_for()
    _dismiss_popups(page)
    session.shot(page, login.username, "mlflow_model")
    page.goto(
        f"{base}/#/models/{facts.model_name}/versions/{facts.champion_version}{suffix}",
        wait_until="load",
    )
    page.get_by_text(f"Version {facts.champion_version}").first.wait_for()
    page.get_by_text(CHAMPION).first.wait_for()
    _dismiss_popups(page)
    session.shot(page, login.username, "mlflow_version")
    return page


def mlflow_create_from_page(page: Page, base: str, name: str) -> dict[str, int]:
    """Create an experiment and a registered model with the page's own credentials: what the
    UI's create buttons send (MLflow 3.17 shows no create button to any role on the models page,
    so the request is made from the logged-in browser rather than by clicking)."""
    found = {}
    for path in ("experiments/create", "registered-models/create"):
        response = page.request.post(f"{base}/ajax-api/2.0/mlflow/{path}", data={"name": name})
        found[path] = response.status
    return found


def anonymous_status(session: LoopbackBrowser, url: str) -> int:
    """What a browser without credentials gets. Chromium answers a 401 challenge it cannot meet
    with a navigation error (``ERR_INVALID_AUTH_CREDENTIALS``) rather than a page, so the status
    is read with the context's own request client, which has the same (absent) credentials."""
    context = session.context()
    try:
        return context.request.get(url).status
    finally:
        context.close()


# --- the report server ----------------------------------------------------------------------------


def check_report_pages(session: LoopbackBrowser, base: str, login: Login, expect) -> None:
    """Each page of ``expect`` (``{name: (path, text)}``) renders the text for this user."""
    page = session.context(login, basic_auth=True).new_page()
    for name, (path, text) in expect.items():
        response = page.goto(f"{base}{path}", wait_until="load")
        assert response is not None and response.status == 200, (path, response)
        page.get_by_text(text).filter(visible=True).first.wait_for()
        session.shot(page, login.username, name)
    page.context.close()
