"""Data Docs pages, rendered off the gate's path.

A gate's work is its verdict: the checkpoint stores the validation result, the ledger records it.
Rendering the pages a governance reader opens is reporting, and it used to be most of a small
delivery's gate: GX rebuilds the site index whole, listing every validation ever stored, after
each validation (0.2 s of a 0.35 s daily gate in the demo, growing with history). So a gate only
adds its validation to a queue next to the project (:data:`PENDING_FILE`), and
:func:`render_data_docs` renders every queued validation's pages and its suite's, rebuilds the
index once, localises the new pages for offline reading (:mod:`expectations.offline_docs`) and
empties the queue.

Under Airflow each DAG run that validates ends with ``publish_quality_docs``
(:func:`orchestration.common.quality_docs_task`), a teardown task: it runs whether the gates
passed or failed (a failed validation is the page a reviewer most needs), and the run's state
stays that of its work. Called directly, outside a DAG, the gates render at once
(``render_docs=True``, the default of :func:`expectations.validate.validate_bronze` and
:func:`~expectations.validate.validate_warehouse`). A queue left by a run that died before its
teardown is rendered by the next one.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from creditlake.settings import Settings

#: Validations whose pages are not rendered yet, one JSON line each (the identifier's tuple),
#: relative to the GX project root.
PENDING_FILE = Path("uncommitted") / "data_docs_pending.jsonl"


def pending_path(settings: Settings) -> Path:
    return settings.gx_dir / PENDING_FILE


def queue_pages(settings: Settings, identifier: Any) -> None:
    """Add a stored validation result (its ``ValidationResultIdentifier``) to the queue.

    Call it under :func:`expectations.context.project_lock`, which every writer and
    :func:`render_data_docs` hold, so a line is never half-read.
    """
    path = pending_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as handle:
        handle.write(json.dumps([str(part) for part in identifier.to_tuple()]) + "\n")


def _queued(path: Path) -> list[str]:
    if not path.is_file():
        return []
    return [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def pending_count(settings: Settings) -> int:
    """How many validations wait for their pages (read without importing GX)."""
    return len(_queued(pending_path(settings)))


def render_data_docs(settings: Settings) -> int:
    """Render the pages of every queued validation and of its suite, then the index, once.

    Returns how many validations were rendered (0 when nothing was queued: the site is left as
    it is). Holds the project lock throughout, so parallel gates queue behind it.
    """
    from great_expectations.data_context.types.resource_identifiers import (
        ExpectationSuiteIdentifier,
        ValidationResultIdentifier,
    )

    from expectations.context import data_docs_site, get_context, project_lock, update_data_docs
    from expectations.offline_docs import VENDOR_DIR, localise_pages, site_pages

    path = pending_path(settings)
    with project_lock(settings):
        lines = _queued(path)
        if not lines:
            path.unlink(missing_ok=True)
            return 0
        validations = list(
            dict.fromkeys(
                ValidationResultIdentifier.from_tuple(tuple(json.loads(line))) for line in lines
            )
        )
        suites = dict.fromkeys(
            ExpectationSuiteIdentifier(name=v.expectation_suite_identifier.name)
            for v in validations
        )
        site = data_docs_site(settings)
        # The pages this call writes (file times lag the clock by up to a tick: a second's
        # margin); every page the first time, so a site built before is localised too.
        since = time.time_ns() - 1_000_000_000 if (site / VENDOR_DIR).is_dir() else None
        update_data_docs(get_context(settings), [*validations, *suites])
        localise_pages(settings, site, site_pages(site, since))
        path.unlink()
    return len(validations)
