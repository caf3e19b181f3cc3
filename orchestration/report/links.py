"""The documentation sites the governance site links to: GX Data Docs and dbt docs.

Both are copied into the site's folder and linked relatively, so the folder can be copied or
served as it is. dbt docs are generated for this run's warehouse with ``dbt docs generate
--static`` (one self-contained ``static_index.html``, manifest and catalog inlined) into a scratch
target folder, so the generation neither touches the project's ``target/`` nor leaves dbt's
working files in the site; its manifest is then the freshest description of the project, and the
PII and lineage sections read it.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from creditlake.settings import DBT_MANIFEST_PATH

if TYPE_CHECKING:
    from creditlake.settings import Settings

#: Folders of the copied sites, inside the governance site.
DATA_DOCS_DIR = "data_docs"
DBT_DOCS_DIR = "dbt_docs"
DBT_STATIC_INDEX = "static_index.html"


@dataclass(frozen=True)
class DocsLink:
    """One documentation site: its relative link, or why there is none."""

    title: str
    href: str
    note: str


@dataclass(frozen=True)
class DbtDocs:
    """The outcome of generating dbt docs: the link, and the manifest it was built from."""

    link: DocsLink
    manifest_path: Path


def data_docs_link(settings: Settings, out_dir: Path) -> DocsLink:
    """Copy the Great Expectations Data Docs site into the site and link its index.

    Pages still queued (a DAG run that stopped before its ``publish_quality_docs``) are
    rendered first, so the copy holds every validation.
    """
    from expectations.context import data_docs_index
    from expectations.data_docs import pending_count, render_data_docs

    if pending_count(settings):
        render_data_docs(settings)
    index = data_docs_index(settings)
    title = "Great Expectations Data Docs"
    if not index.is_file():
        return DocsLink(title, "", "no Data Docs yet: no quality gate has run")
    target = out_dir / DATA_DOCS_DIR
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(index.parent, target)
    return DocsLink(
        title, f"{DATA_DOCS_DIR}/index.html", "every validation of every suite and date"
    )


def generate_dbt_docs(settings: Settings, out_dir: Path) -> DbtDocs:
    """Run ``dbt docs generate --static`` against the warehouse and copy its static page.

    No as-of date is passed, so the warehouse is only read (its catalog), never re-pinned, and the
    pages show each model's SQL as written rather than compiled for one date. A
    failure is reported in the section rather than stopping the whole site, and the manifest of
    the last ``dbt parse`` is used instead.
    """
    from orchestration.dbt import DbtRunError, run_dbt

    title = "dbt docs"
    scratch = settings.staging_dir / "report-dbt-docs"
    shutil.rmtree(scratch, ignore_errors=True)
    if not settings.warehouse_path.is_file():
        return DbtDocs(DocsLink(title, "", "no warehouse has been built yet"), DBT_MANIFEST_PATH)
    target_path = ["--target-path", str(scratch)]
    try:
        # ``--no-compile`` (compiling needs an as-of date) skips writing manifest.json, which
        # ``--static`` then inlines: ``dbt parse`` writes it first.
        run_dbt(["parse", *target_path], settings, None)
        run_dbt(["docs", "generate", "--static", "--no-compile", *target_path], settings, None)
    except DbtRunError as error:
        first_line = str(error).splitlines()[0]
        return DbtDocs(
            DocsLink(title, "", f"dbt docs generate failed: {first_line}"), DBT_MANIFEST_PATH
        )
    target = out_dir / DBT_DOCS_DIR
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    shutil.copy2(scratch / DBT_STATIC_INDEX, target / DBT_STATIC_INDEX)
    note = f"models, sources, tests and columns of the warehouse {settings.warehouse_path.name}"
    return DbtDocs(
        DocsLink(title, f"{DBT_DOCS_DIR}/{DBT_STATIC_INDEX}", note), scratch / "manifest.json"
    )


def skipped_dbt_docs(reason: str) -> DbtDocs:
    """dbt docs not generated on request: the section says so; the last parse's manifest serves."""
    return DbtDocs(DocsLink("dbt docs", "", reason), DBT_MANIFEST_PATH)
