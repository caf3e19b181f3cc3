"""Render the governance site's page from the gathered sections with Jinja2.

Autoescaping is on: every string on the page (suite names, reasons, an alias move's free-text
reason) is escaped, so nothing a user typed can turn into markup.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

TEMPLATES_DIR = Path(__file__).parent / "templates"
PAGE_TEMPLATE = "site.html.j2"
STYLESHEET = "style.css"


def render_page(context: dict[str, Any]) -> str:
    """The page's HTML for ``context`` (see :func:`orchestration.report.site.build_site`)."""
    from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

    environment = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=select_autoescape(["html", "j2"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return environment.get_template(PAGE_TEMPLATE).render(**context)


def write_page(context: dict[str, Any], out_dir: Path) -> Path:
    """Write ``index.html`` and its stylesheet, the page aside and renamed into place."""
    out_dir.mkdir(parents=True, exist_ok=True)
    shutil.copy2(TEMPLATES_DIR / STYLESHEET, out_dir / STYLESHEET)
    index = out_dir / "index.html"
    partial = out_dir / "index.html.partial"
    partial.write_text(render_page(context), encoding="utf-8")
    partial.replace(index)
    return index
