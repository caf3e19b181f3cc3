"""Headless Chromium with the network off, for tests of the pages the platform writes.

Debian's Chromium (``make check-browser`` installs it), driven by Playwright pointed at that
binary: Playwright's own browser download needs the internet. The browser context is offline and
every request is recorded, so a test can say both "the page rendered" and "nothing left the
machine". Chromium's own background traffic (updates, sync) is switched off by its flags.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Page

CHROMIUM_FLAGS = [
    "--no-sandbox",  # the tests may run as root
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
#: Addresses that stay on the machine.
LOCAL_SCHEMES = ("file:", "data:", "blob:", "about:")


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        raise RuntimeError(
            "Chromium is not installed: run `make check-browser` (installs Debian's chromium)"
        )
    return found


@dataclass
class OfflineBrowser:
    """Pages opened with the network off; what they asked for and what went wrong in them."""

    browser: Browser
    context: BrowserContext
    requests: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)

    @property
    def external_requests(self) -> list[str]:
        return [url for url in self.requests if not url.startswith(LOCAL_SCHEMES)]

    def open(self, path: Path) -> Page:
        page = self.context.new_page()
        page.on("pageerror", lambda error: self.page_errors.append(f"{path}: {error}"))
        page.goto(path.resolve().as_uri(), wait_until="load")
        return page


@contextmanager
def offline_browser(width: int = 1400, height: int = 900) -> Iterator[OfflineBrowser]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium(), args=CHROMIUM_FLAGS)
        context = browser.new_context(offline=True, viewport={"width": width, "height": height})
        session = OfflineBrowser(browser, context)
        context.on("request", lambda request: session.requests.append(request.url))
        context.on("requestfailed", lambda request: session.failed.append(request.url))
        try:
            yield session
        finally:
            browser.close()
