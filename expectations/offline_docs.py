"""Great Expectations Data Docs that render without the network.

GX's Data Docs templates load Bootstrap, bootstrap-table, jQuery, Font Awesome, the datepicker and
Vega from public CDNs, and the logo from GX's web-assets bucket (with the project's id in the
address). Offline, or on a lender's restricted network, the pages show unstyled text and empty
tables: the list of validations is built by bootstrap-table in the browser.

GX's renderer stays as it is. A custom views folder cannot replace its templates (GX puts its own
template loader first), so this is a post-build step: after a checkpoint has built or rebuilt
pages, :func:`localise_pages` rewrites each address in :data:`CDN_ASSETS` to a file in the site's
``static/vendor/`` folder, copied from the npm packages of ``web/package.json`` (installed by
``make setup``; the versions are the ones GX's templates name, see the note on popper.js), and the
logo to GX's own image from its Python package. Subresource-integrity attributes go with the
CDN address they pinned. An address this table does not know fails loudly, so an upgrade of GX
that adds one cannot make the pages reach the internet again unnoticed.
"""

from __future__ import annotations

import filecmp
import os
import re
import shutil
from collections.abc import Iterable
from pathlib import Path

from creditlake.settings import Settings, SettingsError

#: The CDN addresses in GX's Data Docs templates → (npm package, file within it). GX asks for
#: popper.js 1.12.9, which Bootstrap 4.3.1 (its peer dependency is ^1.14.7) does not accept in
#: an npm install; 1.14.7 is the nearest it does. The filter-control CSS of bootstrap-table
#: 1.19.0 comes from 1.19.1, whose JavaScript GX loads.
CDN_ASSETS: dict[str, tuple[str, str]] = {
    "https://maxcdn.bootstrapcdn.com/bootstrap/4.3.1/css/bootstrap.min.css": (
        "bootstrap",
        "dist/css/bootstrap.min.css",
    ),
    "https://stackpath.bootstrapcdn.com/bootstrap/4.3.1/js/bootstrap.min.js": (
        "bootstrap",
        "dist/js/bootstrap.min.js",
    ),
    "https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.css": (
        "bootstrap-table",
        "dist/bootstrap-table.min.css",
    ),
    "https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.js": (
        "bootstrap-table",
        "dist/bootstrap-table.min.js",
    ),
    "https://unpkg.com/bootstrap-table@1.19.1/dist/extensions/filter-control/"
    "bootstrap-table-filter-control.min.js": (
        "bootstrap-table",
        "dist/extensions/filter-control/bootstrap-table-filter-control.min.js",
    ),
    "https://unpkg.com/bootstrap-table@1.19.0/dist/extensions/filter-control/"
    "bootstrap-table-filter-control.min.css": (
        "bootstrap-table",
        "dist/extensions/filter-control/bootstrap-table-filter-control.min.css",
    ),
    "https://unpkg.com/bootstrap-table@1.19.0/dist/extensions/filter-control/"
    "bootstrap-table-filter-control.css": (
        "bootstrap-table",
        "dist/extensions/filter-control/bootstrap-table-filter-control.css",
    ),
    "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/css/"
    "bootstrap-datepicker.min.css": (
        "bootstrap-datepicker",
        "dist/css/bootstrap-datepicker.min.css",
    ),
    "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/js/"
    "bootstrap-datepicker.min.js": (
        "bootstrap-datepicker",
        "dist/js/bootstrap-datepicker.min.js",
    ),
    "https://cdn.jsdelivr.net/npm/@forevolve/bootstrap-dark@1.1.0/dist/css/"
    "bootstrap-prefers-dark.css": (
        "@forevolve/bootstrap-dark",
        "dist/css/bootstrap-prefers-dark.css",
    ),
    "https://cdnjs.cloudflare.com/ajax/libs/font-awesome/6.6.0/css/all.min.css": (
        "@fortawesome/fontawesome-free",
        "css/all.min.css",
    ),
    "https://code.jquery.com/jquery-3.7.1.min.js": ("jquery", "dist/jquery.min.js"),
    "https://cdnjs.cloudflare.com/ajax/libs/popper.js/1.12.9/umd/popper.min.js": (
        "popper.js",
        "dist/umd/popper.min.js",
    ),
    "https://cdn.jsdelivr.net/npm/vega@5": ("vega", "build/vega.min.js"),
    "https://cdn.jsdelivr.net/npm/vega-lite@5": ("vega-lite", "build/vega-lite.min.js"),
    "https://cdn.jsdelivr.net/npm/vega-embed@6": ("vega-embed", "build/vega-embed.min.js"),
}
#: Folders a copied file loads relative to itself: Font Awesome's CSS loads ``../webfonts/``.
COMPANION_FOLDERS: dict[str, list[str]] = {"@fortawesome/fontawesome-free": ["webfonts"]}
#: GX's images bucket; the same images ship in its Python package.
GX_IMAGES_URL = "https://great-expectations-web-assets.s3.us-east-2.amazonaws.com/"
GX_IMAGES_IN_PACKAGE = ("render", "view", "static", "images")
#: Bucket images that the package lacks → the package image shown instead (the dark-mode logo of
#: the index page's style sheet).
GX_IMAGE_STAND_INS = {"full_logo_dark.png": "logo-long.png"}
#: Where the site keeps its copies, relative to the site's root.
VENDOR_DIR = Path("static") / "vendor"
IMAGES_DIR = Path("static") / "images"

#: A tag that makes the browser load something (navigation links, ``<a href>``, do not).
_LOADING_TAG = re.compile(r"<(?:script|link|img|iframe|source|video|audio)\b[^>]*>", re.IGNORECASE)
_EXTERNAL = re.compile(r"""\b(src|href)\s*=\s*(["'])((?:https?:)?//[^"']+)\2""", re.IGNORECASE)
#: A CSS ``url(...)`` of another host, in a style block or a style attribute.
_CSS_URL = re.compile(r"""url\(\s*(["']?)((?:https?:)?//[^"')\s]+)\1\s*\)""", re.IGNORECASE)
_INTEGRITY = re.compile(r"""\s(?:integrity|crossorigin)\s*=\s*(["'])[^"']*\1""", re.IGNORECASE)


class OfflineDocsError(SettingsError):
    """A page loads an address with no local copy, or the web assets are not installed."""


def _gx_images() -> Path:
    import great_expectations

    return Path(great_expectations.__file__).parent.joinpath(*GX_IMAGES_IN_PACKAGE)


def _copy_if_changed(source: Path, target: Path) -> None:
    if target.is_file() and target.stat().st_size == source.stat().st_size:
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)


def vendor_assets(site: Path, assets: Path) -> None:
    """Copy every file of :data:`CDN_ASSETS` (and its companion folders) into the site once."""
    if not assets.is_dir():
        raise OfflineDocsError(
            f"CREDITLAKE_WEB_ASSETS_DIR={assets} does not exist: the Data Docs' CSS and "
            "JavaScript are installed from npm by `make setup` (npm ci in web/)"
        )
    packages: set[str] = set()
    for package, file in CDN_ASSETS.values():
        source = assets / package / file
        if not source.is_file():
            raise OfflineDocsError(
                f"{source} is missing from CREDITLAKE_WEB_ASSETS_DIR={assets}: run `make setup` "
                "(npm ci in web/) after web/package.json changed"
            )
        _copy_if_changed(source, site / VENDOR_DIR / package / file)
        packages.add(package)
    for package in packages:
        for folder in COMPANION_FOLDERS.get(package, []):
            for source in sorted((assets / package / folder).rglob("*")):
                if source.is_file():
                    relative = source.relative_to(assets / package)
                    _copy_if_changed(source, site / VENDOR_DIR / package / relative)


def _local_target(url: str, site: Path) -> Path | None:
    """The site file that replaces ``url``; None when there is none."""
    address = url.split("?", 1)[0].split("#", 1)[0]
    if address in CDN_ASSETS:
        package, file = CDN_ASSETS[address]
        return site / VENDOR_DIR / package / file
    if address.startswith(GX_IMAGES_URL):
        name = address.removeprefix(GX_IMAGES_URL)
        name = GX_IMAGE_STAND_INS.get(name, name)
        source = _gx_images() / name
        if "/" not in name and source.is_file():
            target = site / IMAGES_DIR / name
            _copy_if_changed(source, target)
            return target
    return None


def localise_page(page: Path, site: Path) -> bool:
    """Rewrite one page's external loads to the site's copies; True when the page changed.

    Raises :class:`OfflineDocsError` naming the page and the address when a tag loads an address
    without a local copy.
    """
    html = page.read_text(encoding="utf-8")

    def local(url: str) -> str:
        target = _local_target(url, site)
        if target is None:
            raise OfflineDocsError(
                f"{page}: loads {url}, which has no local copy; add its npm package to "
                "web/package.json and its address to expectations.offline_docs.CDN_ASSETS"
            )
        return Path(os.path.relpath(target, page.parent)).as_posix()

    def rewrite_tag(tag_match: re.Match[str]) -> str:
        tag = tag_match.group(0)
        found = list(_EXTERNAL.finditer(tag))
        for external in found:
            attribute, quote, url = external.groups()
            tag = tag.replace(external.group(0), f"{attribute}={quote}{local(url)}{quote}")
        return _INTEGRITY.sub("", tag) if found else tag

    def rewrite_css_url(css_url: re.Match[str]) -> str:
        quote, url = css_url.groups()
        return f"url({quote}{local(url)}{quote})"

    localised = _CSS_URL.sub(rewrite_css_url, _LOADING_TAG.sub(rewrite_tag, html))
    if localised == html:
        return False
    page.write_text(localised, encoding="utf-8")
    return True


def site_pages(site: Path, changed_since_ns: int | None = None) -> list[Path]:
    """The site's HTML pages, optionally only those written at or after a time (``st_mtime_ns``)."""
    pages = sorted(site.rglob("*.html"))
    if changed_since_ns is None:
        return pages
    return [page for page in pages if page.stat().st_mtime_ns >= changed_since_ns]


def localise_pages(settings: Settings, site: Path, pages: Iterable[Path]) -> int:
    """Vendor the assets into ``site`` and localise ``pages``; how many pages changed."""
    pages = list(pages)
    if not pages:
        return 0
    vendor_assets(site, settings.web_assets_dir)
    return sum(localise_page(page, site) for page in pages)


def is_vendored_copy(path: Path, settings: Settings) -> bool:
    """Whether ``path`` is a site's copy of a web asset, byte for byte the installed npm file.

    Such a file is third-party code and fonts, not data: the PII scan skips it (font binaries
    hold digit runs shaped like mobile numbers). A copy that differs from its package file in
    any byte is scanned like everything else.
    """
    parts = path.parts
    marker = VENDOR_DIR.parts
    for start in range(len(parts) - len(marker)):
        if parts[start : start + len(marker)] == marker:
            installed = settings.web_assets_dir.joinpath(*parts[start + len(marker) :])
            return installed.is_file() and filecmp.cmp(path, installed, shallow=False)
    return False
