"""The cases ``python -m bench --cases`` can run, by name.

To add a case: a module here with a class that has ``name``, ``baseline`` (the engine ratios are
taken against), ``peers(scale, options) -> list[Peer]`` (each peer an argv, usually a child
script in ``bench/peers/``, with a ``prepare`` that makes its fresh home before each repeat) and
``check(scale, runs) -> dict`` (findings across engines, e.g. equal outputs; ``{}`` if none);
then one line in :data:`CASES`. The harness (``bench/core.py``, ``bench/__main__.py``) does the
rest: interleaving, timing, memory, medians, ratios, JSON, plots and the Markdown table.
"""

from __future__ import annotations

from bench.cases.demo import DemoCase
from bench.cases.ingest import IngestCase
from bench.cases.ml import MlCase
from bench.cases.warehouse import WarehouseCase
from bench.cases.warehouse_history import WarehouseHistoryCase

CASES = {
    case.name: case
    for case in (IngestCase(), WarehouseCase(), WarehouseHistoryCase(), DemoCase(), MlCase())
}
