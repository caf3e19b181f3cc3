"""Write the governance site: one static HTML page, its figures and the documentation it links.

``creditlake report`` calls :func:`build_site`. The site is a folder (default
``settings.reports_dir/governance``) whose links are all relative, so it can be copied to a file
share or served by any web server as it is; no JavaScript runs on the page. Every figure is read
from the run's own records each time (the ledger and quarantine tables, the gate summaries, dbt's
manifest, the MLflow registry and the warehouse), so the page can never disagree with them.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

from orchestration.report import catalog_sections, lake_sections, links, model_sections, plots
from orchestration.report.render import write_page

if TYPE_CHECKING:
    from creditlake.lake import Lake
    from creditlake.settings import Settings

#: Sub-folders the site owns: emptied on each build so nothing stale survives.
OWNED_DIRS = ("images", "models", links.DATA_DOCS_DIR, links.DBT_DOCS_DIR)
#: Section ids (stable: tests and bookmarks find sections by them) and their titles.
SECTIONS = (
    ("quality", "Data quality"),
    ("quarantine", "Quarantine"),
    ("freshness", "Freshness"),
    ("pii", "Personal information"),
    ("lineage", "Lineage"),
    ("models", "Models"),
    ("links", "Documentation"),
)


def default_out_dir(settings: Settings) -> Path:
    """Where ``creditlake report`` writes the site unless told otherwise."""
    return settings.reports_dir / "governance"


def _quality(settings: Settings, lake: Lake, out_dir: Path) -> dict[str, Any]:
    rows = lake_sections.gate_rows(settings, lake)
    trend = lake_sections.quality_trend(rows)
    plot = ""
    if trend:
        plot = _relative(
            plots.plot_quality_trend(trend, out_dir / "images" / "quality.png"), out_dir
        )
    return {"rows": rows, "trend": trend, "failed": sum(not r.passed for r in rows), "plot": plot}


def _quarantine(lake: Lake, out_dir: Path) -> dict[str, Any]:
    counts = lake_sections.quarantine_counts(lake)
    plot = ""
    if counts:
        plot = _relative(
            plots.plot_quarantine(counts, out_dir / "images" / "quarantine.png"), out_dir
        )
    return {
        "counts": counts,
        "by_reason": lake_sections.quarantine_by_source_reason(counts),
        "reconciliation": lake_sections.reconciliations(lake, counts),
        "plot": plot,
    }


def _freshness(settings: Settings) -> dict[str, Any]:
    from orchestration.freshness import freshness_dir, read_freshness

    return {
        "rows": read_freshness(settings),
        "origin": "dbt source freshness (SLA per source in its dbt YAML), one file per date in "
        f"{freshness_dir(settings).relative_to(settings.home).as_posix()}/",
    }


def _pii(lake: Lake, manifest: dict[str, Any] | None) -> dict[str, Any]:
    return {
        "columns": catalog_sections.personal_columns(),
        "carriers": [
            *catalog_sections.bronze_carriers(lake),
            *catalog_sections.manifest_carriers(manifest),
        ],
        "raw_in_bronze": catalog_sections.raw_identifier_columns_in_bronze(lake),
    }


def _lineage(settings: Settings, manifest: dict[str, Any] | None, out_dir: Path) -> dict[str, Any]:
    """The graph of the run's OpenLineage events when there are any; else dbt's manifest's.

    The events are what really ran (tasks, their inputs and outputs, the gates' verdicts); the
    manifest only says what dbt would build, so it is the fallback, and the section says which.
    """
    from orchestration import lineage

    image = out_dir / "images" / "lineage.png"
    try:
        events = lineage.read_events(settings)
    except lineage.LineageError as error:
        events, unreadable = [], f" (events not used: {error})"
    else:
        unreadable = ""
    if events:
        graph = lineage.lineage_graph(events)
        drawn = [node for node in graph if graph.degree(node) > 0]
        return {
            "method": f"{len(events)} OpenLineage events of the platform's DAG runs",
            "image": _relative(lineage.draw_lineage(events, image), out_dir),
            # the same graph as SVG: a reader zooms into a platform's worth of nodes
            "full": _relative(lineage.draw_lineage(events, image.with_suffix(".svg")), out_dir),
            "nodes": len(drawn),
            "edges": graph.number_of_edges(),
            "runs": lineage.dag_runs(events),
        }
    graph = catalog_sections.manifest_lineage(manifest)
    return {
        "method": f"{graph.method}; no OpenLineage events recorded{unreadable}",
        "image": _relative(plots.plot_lineage(graph, image), out_dir) if graph.layers else "",
        "full": "",
        "nodes": len(graph.layers),
        "edges": len(graph.edges),
        "runs": [],
    }


def _models(settings: Settings, lake: Lake, out_dir: Path) -> list[model_sections.ModelEntry]:
    uri = settings.mlflow_tracking_uri
    if uri.startswith("sqlite:///") and not Path(uri.removeprefix("sqlite:///")).is_file():
        return []  # no run has tracked anything; do not create an empty store
    from ml.tracking import configure_mlflow

    return model_sections.model_entries(configure_mlflow(settings), lake, settings, out_dir)


def _relative(path: Path, out_dir: Path) -> str:
    return path.relative_to(out_dir).as_posix()


def _dates(quality: dict[str, Any], quarantine: dict[str, Any]) -> list[str]:
    found = {r.as_of_date for r in quality["rows"]}
    found.update(r.as_of_date for r in quarantine["reconciliation"])
    return sorted(found)


def build_site(settings: Settings, out_dir: Path | None = None, *, dbt_docs: bool = True) -> Path:
    """Build the site into ``out_dir`` and return its ``index.html``.

    ``dbt_docs=False`` skips ``dbt docs generate`` (seconds to a minute on a large project); the
    links section then says so, and the PII and lineage sections read the last parse's manifest.
    """
    from creditlake.lake import Lake

    out_dir = (out_dir or default_out_dir(settings)).resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    for owned in OWNED_DIRS:
        shutil.rmtree(out_dir / owned, ignore_errors=True)
    lake = Lake.from_settings(settings)
    docs = (
        links.generate_dbt_docs(settings, out_dir)
        if dbt_docs
        else links.skipped_dbt_docs("not generated for this build (--no-dbt-docs)")
    )
    manifest = catalog_sections.load_manifest(docs.manifest_path)
    quality = _quality(settings, lake, out_dir)
    quarantine = _quarantine(lake, out_dir)
    context = {
        "built_at": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "home_name": settings.home.name,
        "dates": _dates(quality, quarantine),
        "toc": SECTIONS,
        "severities": lake_sections.SEVERITIES,
        "version_tags": model_sections.VERSION_TAGS,
        "quality": quality,
        "quarantine": quarantine,
        "freshness": _freshness(settings),
        "pii": _pii(lake, manifest),
        "lineage": _lineage(settings, manifest, out_dir),
        "models": _models(settings, lake, out_dir),
        "links": [links.data_docs_link(settings, out_dir), docs.link],
    }
    return write_page(context, out_dir)
