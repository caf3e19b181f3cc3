"""The Great Expectations file context under ``settings.gx_dir``, created on first use.

Importing Great Expectations and opening a context costs seconds, so the context is opened once per
process and per ``gx_dir`` and reused; this module imports GX only inside its functions, which
lets ``data_docs_index`` be called (e.g. by the platform summary) without paying for it.

Every object a run needs (data source, asset, batch definition, suite, validation definition,
checkpoint) is added or updated in place, so running a date twice, or after an upgrade changed a
suite, neither fails on "already exists" nor leaves a stale definition behind. Parallel Airflow
tasks share the project, so each run holds :func:`project_lock` while it touches it.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from creditlake.settings import Settings

if TYPE_CHECKING:
    from great_expectations import Checkpoint, ExpectationSuite
    from great_expectations.core.batch_definition import BatchDefinition
    from great_expectations.data_context import AbstractDataContext

DATA_DOCS_SITE = "local_site"
#: Where GX's default file context writes the local Data Docs site, relative to the context root.
DATA_DOCS_SITE_DIR = Path("uncommitted") / "data_docs" / DATA_DOCS_SITE
SPARK_DATASOURCE = "creditlake_bronze"
PANDAS_DATASOURCE = "creditlake_warehouse"
#: Bronze validated in-process (the DuckDB ingest's gate): its own data source, so Data Docs say
#: which layer a pandas validation was of.
PANDAS_BRONZE_DATASOURCE = "creditlake_bronze_in_process"
BATCH_DEFINITION = "whole_dataframe"
PROJECT_FILE = "great_expectations.yml"
LOCK_FILE = ".creditlake.lock"

#: How much of each result GX keeps. BASIC keeps counts (element, unexpected, missing) but, with
#: ``exclude_unexpected_values`` and a zero sample size, no unexpected values, no value counts and
#: no failing rows: validation results and Data Docs hold no personal data even when a token or
#: identifier column fails.
RESULT_FORMAT: dict[str, Any] = {
    "result_format": "BASIC",
    "partial_unexpected_count": 0,
    "include_unexpected_rows": False,
    "exclude_unexpected_values": True,
    "return_unexpected_index_query": False,
}

#: gx_dir → (its context, the project file's modification time when this process last saw it).
_CONTEXTS: dict[Path, tuple[AbstractDataContext, int | None]] = {}
#: (context root, suite name) → (context, fingerprint of the stored suite, its checkpoint).
_CHECKPOINTS: dict[tuple[str, str], tuple[AbstractDataContext, str, Checkpoint]] = {}
#: Context root → (its context, the site builder of its local Data Docs site).
_SITE_BUILDERS: dict[str, tuple[AbstractDataContext, Any]] = {}
_LOCK = threading.Lock()


def data_docs_site(settings: Settings) -> Path:
    """The folder of the local Data Docs site."""
    return settings.gx_dir / DATA_DOCS_SITE_DIR


def data_docs_index(settings: Settings) -> Path:
    """The Data Docs home page (it exists once a validation has run)."""
    return data_docs_site(settings) / "index.html"


def _enabled(config: Any, key: str) -> bool:
    try:
        return bool(config[key])
    except (KeyError, AttributeError):
        return True


def _configure(context: AbstractDataContext) -> None:
    """Turn off what must not run on a lender's machine: analytics (no network) and console bars;
    and the Data Docs' "how to" buttons, which send a governance reader to GX's tutorials.

    Only written when different, so an existing project file is not rewritten on every start.
    """
    from great_expectations.data_context.types.base import ProgressBarsConfig

    changed = False
    if context.variables.analytics_enabled is not False:
        context.variables.analytics_enabled = False
        changed = True
    bars = context.variables.progress_bars
    if bars is None or _enabled(bars, "globally") or _enabled(bars, "metric_calculations"):
        context.variables.progress_bars = ProgressBarsConfig(
            globally=False, metric_calculations=False
        )
        changed = True
    sites = context.variables.data_docs_sites or {}
    site = sites.get(DATA_DOCS_SITE)
    if site is not None and site.get("show_how_to_buttons", True):
        site["show_how_to_buttons"] = False
        context.variables.data_docs_sites = sites
        changed = True
    if changed:
        context.variables.save()


def _project_stamp(root: Path) -> int | None:
    config = root / PROJECT_FILE
    return config.stat().st_mtime_ns if config.is_file() else None


def get_context(settings: Settings) -> AbstractDataContext:
    """The file context rooted at ``settings.gx_dir``, opened once per process.

    It is opened again when the project file changed since this process last saw it (another
    process added a data asset) or disappeared, so a long-lived process never writes back a stale
    copy of the project over another's changes. Call it under :func:`project_lock`.
    """
    root = settings.gx_dir
    with _LOCK:
        cached = _CONTEXTS.get(root)
        stamp = _project_stamp(root)
        if cached is not None and stamp is not None and cached[1] == stamp:
            return cached[0]
        import great_expectations as gx

        root.mkdir(parents=True, exist_ok=True)
        context = gx.get_context(mode="file", context_root_dir=str(root))
        _configure(context)
        _CONTEXTS[root] = (context, _project_stamp(root))
        return context


def remember_project_state(settings: Settings) -> None:
    """Record the project file as this process left it, so its own writes keep the cache valid."""
    with _LOCK:
        cached = _CONTEXTS.get(settings.gx_dir)
        if cached is not None:
            _CONTEXTS[settings.gx_dir] = (cached[0], _project_stamp(settings.gx_dir))


@contextmanager
def project_lock(settings: Settings) -> Iterator[None]:
    """Hold the GX project for one validation, across processes.

    Airflow runs the validation tasks of different sources in parallel processes that share one
    project; GX rewrites its project file and the Data Docs index without locking, so each run
    (set-up, validation, Data Docs) takes an exclusive lock on a file next to the project.
    """
    settings.gx_dir.mkdir(parents=True, exist_ok=True)
    with open(settings.gx_dir / LOCK_FILE, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _batch_definition(datasource: Any, asset_name: str) -> BatchDefinition:
    try:
        asset = datasource.get_asset(asset_name)
    except LookupError:
        asset = datasource.add_dataframe_asset(name=asset_name)
    try:
        return asset.get_batch_definition(BATCH_DEFINITION)
    except KeyError:
        return asset.add_batch_definition_whole_dataframe(BATCH_DEFINITION)


def dataframe_batch_definition(
    context: AbstractDataContext, engine: str, asset_name: str, layer: str = "warehouse"
) -> BatchDefinition:
    """A whole-dataframe batch definition on the Spark or pandas data source (created if new)."""
    sources = context.data_sources
    if engine == "spark":
        name, add = SPARK_DATASOURCE, sources.add_spark
    elif engine == "pandas":
        name = PANDAS_BRONZE_DATASOURCE if layer == "bronze" else PANDAS_DATASOURCE
        add = sources.add_pandas
    else:
        raise ValueError(f"engine must be 'spark' or 'pandas', not {engine!r}")
    try:
        datasource = sources.get(name)
    except KeyError:
        datasource = add(name=name)
    return _batch_definition(datasource, asset_name)


def suite_fingerprint(suite: ExpectationSuite, batch_definition: BatchDefinition) -> str:
    """Identity of what a checkpoint would store: the rules, the suite's meta and its data."""
    payload = {
        "name": suite.name,
        "meta": suite.meta,
        "expectations": [e.configuration.to_json_dict() for e in suite.expectations],
        "batch_definition": batch_definition.id,
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


def checkpoint_for(
    context: AbstractDataContext, suite: ExpectationSuite, batch_definition: BatchDefinition
) -> Checkpoint:
    """Store ``suite`` and a checkpoint named after it that validates and stores the result.

    Storing an existing suite costs seconds (GX compares every expectation with every stored
    one), so an unchanged suite reuses the checkpoint this process stored last time. The
    checkpoint has no Data Docs action: :func:`update_data_docs` renders the pages after it ran.
    """
    import great_expectations as gx

    key = (str(context.root_directory), suite.name)
    fingerprint = suite_fingerprint(suite, batch_definition)
    cached = _CHECKPOINTS.get(key)
    if cached is not None and cached[0] is context and cached[1] == fingerprint:
        return cached[2]
    # Adding or updating the checkpoint adds or updates its validation definition, which in turn
    # adds or updates the suite: one call stores all three.
    validation = gx.ValidationDefinition(name=suite.name, data=batch_definition, suite=suite)
    checkpoint = context.checkpoints.add_or_update(
        gx.Checkpoint(
            name=suite.name,
            validation_definitions=[validation],
            actions=[],
            result_format=RESULT_FORMAT,
        )
    )
    _CHECKPOINTS[key] = (context, fingerprint, checkpoint)
    return checkpoint


def update_data_docs(context: AbstractDataContext, resource_identifiers: list[Any]) -> None:
    """Render the pages of ``resource_identifiers`` (a validation result and its suite) and the
    index, with one site builder per context and process.

    GX's ``UpdateDataDocsAction`` does the same through ``build_data_docs``, which instantiates
    a new ``SiteBuilder`` from the site's configuration on every call, and with it new Jinja
    environments: every page template (55 of them) is compiled again for each validation, most
    of a validation's Data Docs time. The builder is made here once, by the same
    ``instantiate_class_from_config`` call from the same site configuration, and its ``build``
    (GX's incremental build: only these resources' pages, then the index) is called for each
    validation; its views keep their compiled templates. After the first build, which copies GX's
    static assets into the site, the builder's own section and index builders are called, as its
    ``build`` calls them, without copying the same assets again (a hundred files per validation).
    Call it under :func:`project_lock`.
    """
    from great_expectations.data_context.util import instantiate_class_from_config

    root = str(context.root_directory)
    cached = _SITE_BUILDERS.get(root)
    if cached is None or cached[0] is not context:
        builder = instantiate_class_from_config(
            config=context.variables.data_docs_sites[DATA_DOCS_SITE],
            runtime_environment={
                "data_context": context,
                "root_directory": context.root_directory,
                "site_name": DATA_DOCS_SITE,
            },
            config_defaults={
                "class_name": "SiteBuilder",
                "module_name": "great_expectations.render.renderer.site_builder",
            },
        )
        # the first build also copies GX's static assets (style sheets, images) into the site
        builder.build(resource_identifiers=resource_identifiers, build_index=True)
        _SITE_BUILDERS[root] = (context, builder)
        return
    # what SiteBuilder.build does, less copying the unchanged static assets again
    builder = cached[1]
    for section in builder.site_section_builders.values():
        section.build(resource_identifiers=resource_identifiers)
    builder.site_index_builder.build(build_index=True)
