"""Data Docs pages load their CSS, JavaScript, fonts and images from files beside them."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from creditlake.settings import get_settings
from expectations.offline_docs import (
    CDN_ASSETS,
    VENDOR_DIR,
    OfflineDocsError,
    is_vendored_copy,
    localise_page,
    localise_pages,
    site_pages,
)

JQUERY = "https://code.jquery.com/jquery-3.7.1.min.js"
POPPER = "https://cdnjs.cloudflare.com/ajax/libs/popper.js/1.12.9/umd/popper.min.js"
LOGO = "https://great-expectations-web-assets.s3.us-east-2.amazonaws.com/logo-long.png?d=1&x=2"
DARK_LOGO = "https://great-expectations-web-assets.s3.us-east-2.amazonaws.com/full_logo_dark.png"
PAGE = f"""<html><head>
<link rel="stylesheet" href="{next(iter(CDN_ASSETS))}"/>
<script src="{POPPER}" integrity="sha384-abc" crossorigin="anonymous"></script>
<style>.logo {{ background: url('{DARK_LOGO}') 0 0 no-repeat; }}</style>
</head><body>
<img
  class="NO-CACHE" src="{LOGO}" alt="GX"/>
<a href="https://greatexpectations.io">a link is not a load</a>
<script src="{JQUERY}"></script>
</body></html>"""


@pytest.fixture
def site(tmp_path: Path) -> Path:
    page = tmp_path / "validations" / "suite" / "2026-01-01" / "run" / "page.html"
    page.parent.mkdir(parents=True)
    page.write_text(PAGE, encoding="utf-8")
    (tmp_path / "index.html").write_text(PAGE, encoding="utf-8")
    return tmp_path


def test_every_load_points_at_a_copy_beside_the_page(site: Path) -> None:
    pages = site_pages(site)
    assert localise_pages(get_settings(), site, pages) == 2
    index = (site / "index.html").read_text(encoding="utf-8")
    deep = pages[1].read_text(encoding="utf-8")
    assert '<script src="static/vendor/jquery/dist/jquery.min.js">' in index
    assert '<script src="../../../../static/vendor/popper.js/dist/umd/popper.min.js">' in deep
    assert "integrity" not in deep and "crossorigin" not in deep  # they pinned the CDN's bytes
    assert 'src="static/images/logo-long.png"' in index
    assert "url('static/images/logo-long.png')" in index  # the dark logo's stand-in
    assert '<a href="https://greatexpectations.io">' in index
    for page in pages:  # every file a page loads exists
        loads = re.findall(r"""(?:src|href)="([^"]+)"|url\('([^']+)'\)""", page.read_text())
        targets = [a or b for a, b in loads if not (a or b).startswith("https:")]
        assert len(targets) == 5
        assert all((page.parent / target).is_file() for target in targets), (page, targets)
    assert localise_pages(get_settings(), site, pages) == 0  # a second pass changes nothing


def test_an_address_without_a_local_copy_fails_naming_it(site: Path) -> None:
    page = site / "index.html"
    page.write_text('<script src="https://cdn.example.com/x.js"></script>', encoding="utf-8")
    with pytest.raises(OfflineDocsError, match=r"index.html: loads https://cdn.example.com/x.js"):
        localise_page(page, site)


def test_missing_web_assets_name_the_setting(site: Path, monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv("CREDITLAKE_WEB_ASSETS_DIR", str(tmp_path / "nowhere"))
    with pytest.raises(OfflineDocsError, match=r"CREDITLAKE_WEB_ASSETS_DIR=.*nowhere.*make setup"):
        localise_pages(get_settings(), site, site_pages(site))


def test_only_byte_identical_copies_count_as_third_party(site: Path) -> None:
    settings = get_settings()
    localise_pages(settings, site, site_pages(site))
    copy = site / VENDOR_DIR / "jquery" / "dist" / "jquery.min.js"
    assert is_vendored_copy(copy, settings)
    copy.write_bytes(copy.read_bytes() + b"// 13912345678")
    assert not is_vendored_copy(copy, settings)
    assert not is_vendored_copy(site / "index.html", settings)
