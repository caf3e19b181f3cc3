"""The catalog sections of the governance site: the PII catalog and the lineage graph.

Both are read from what the tools already computed: the source registry says which landing
columns are personal and how they are handled, dbt's manifest says which warehouse columns carry
which category (column ``meta.pii``) and how models depend on each other (``parent_map``), and the
lake's catalog says what the bronze tables really hold. Only names and categories are read, never
a value.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from creditlake.lake import Lake, bronze_table
from creditlake.policy import (
    PII_DERIVED,
    PII_IDENTIFIER,
    PII_LOCATION,
    PII_TOKEN,
)
from creditlake.sources import CUSTOMER_DERIVED_COLUMNS, SOURCES

#: Where each category is handled, for the reader of the catalog.
HANDLING = {
    PII_IDENTIFIER: "replaced by a keyed HMAC-SHA256 token at landing → bronze "
    "(spark_jobs.transforms, creditlake.pii); the raw value never leaves landing",
    PII_LOCATION: "kept in bronze; generalised to city level before the marts",
    PII_DERIVED: "derived at landing → bronze from the identifier before it is tokenised",
}
#: Where tokenisation happens (a module path, so a reviewer can read the code).
TOKENISED_AT = "landing → bronze (spark_jobs/transforms.py)"


@dataclass(frozen=True)
class PersonalColumn:
    """One personal column of a landing source and what the platform does with it."""

    source: str
    column: str
    category: str
    handling: str
    #: The bronze column that replaces it (``<column>_token``), or "" when kept as it is.
    token_column: str
    tokenised_at: str


@dataclass(frozen=True)
class Carrier:
    """A table or model column holding a personal category (tokens included)."""

    relation: str
    kind: str  # "bronze table", "dbt source", "dbt model", ...
    column: str
    category: str


def load_manifest(path: Path) -> dict[str, Any] | None:
    """dbt's ``manifest.json``, or None when dbt has not parsed the project yet."""
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def personal_columns() -> list[PersonalColumn]:
    """Every personal column the source registry declares, with its handling at bronze."""
    found = []
    for source in SOURCES.values():
        for column in source.columns:
            if column.pii is None:
                continue
            found.append(
                PersonalColumn(
                    source=source.name,
                    column=column.name,
                    category=column.pii,
                    handling=HANDLING.get(column.pii, "see the source registry"),
                    token_column=column.bronze_name if column.tokenised else "",
                    tokenised_at=TOKENISED_AT if column.tokenised else "",
                )
            )
    for column in CUSTOMER_DERIVED_COLUMNS:
        if column.pii is not None:
            found.append(
                PersonalColumn(
                    "customers",
                    column.name,
                    column.pii,
                    HANDLING.get(column.pii, ""),
                    "",
                    TOKENISED_AT,
                )
            )
    return found


def _relation(node: dict[str, Any]) -> str:
    if node.get("resource_type") == "source":
        return f"{node.get('source_name')}.{node.get('name')}"
    return str(node.get("name"))


def manifest_carriers(manifest: dict[str, Any] | None) -> list[Carrier]:
    """Columns dbt declares personal (``meta.pii``), in sources and models alike."""
    if not manifest:
        return []
    nodes = [*manifest.get("sources", {}).values(), *manifest.get("nodes", {}).values()]
    found = []
    for node in nodes:
        for name, column in (node.get("columns") or {}).items():
            category = (column.get("meta") or {}).get("pii") or (
                (column.get("config") or {}).get("meta") or {}
            ).get("pii")
            if category:
                found.append(
                    Carrier(_relation(node), f"dbt {node.get('resource_type')}", name, category)
                )
    return sorted(found, key=lambda c: (c.kind, c.relation, c.column))


def bronze_carriers(lake: Lake) -> list[Carrier]:
    """Token columns the lake's bronze tables actually hold (their Iceberg schemas)."""
    found = []
    for source in SOURCES.values():
        table = bronze_table(source.name)
        if not lake.exists(table):
            continue
        present = set(lake.arrow_schema(table).names)
        found.extend(
            Carrier(table, "bronze table", column.bronze_name, PII_TOKEN)
            for column in source.pii_columns
            if column.bronze_name in present
        )
    return found


def raw_identifier_columns_in_bronze(lake: Lake) -> list[str]:
    """``table.column`` of any C2 column that reached bronze under its raw name (expect none)."""
    found = []
    for source in SOURCES.values():
        table = bronze_table(source.name)
        if lake.exists(table):
            present = set(lake.arrow_schema(table).names)
            found.extend(f"{table}.{c.name}" for c in source.pii_columns if c.name in present)
    return found


# Lineage from the manifest ------------------------------------------------------------------
#: Node kinds drawn in the lineage graph (tests and docs nodes are left out).
LINEAGE_KINDS = ("source", "model", "seed", "snapshot")


@dataclass(frozen=True)
class LineageGraph:
    """Nodes by layer (column of the drawing) and edges between them."""

    layers: dict[str, int]
    edges: list[tuple[str, str]]
    method: str


def _layer(unique_id: str, node: dict[str, Any]) -> int:
    """Column of a node: landing 0, bronze (dbt sources) 1, then staging, intermediate, marts."""
    if unique_id.startswith("landing."):
        return 0
    if node.get("resource_type") == "source":
        return 1
    path = str(node.get("path") or node.get("original_file_path") or "")
    for index, folder in enumerate(("staging", "intermediate", "marts"), start=2):
        if path.startswith(f"{folder}/") or f"/{folder}/" in path:
            return index
    return 5


def manifest_lineage(manifest: dict[str, Any] | None) -> LineageGraph:
    """Landing files → bronze tables (dbt sources) → models, from the manifest's ``parent_map``.

    A dbt source named like a registered landing source is that source's bronze table, so an edge
    ``landing.<source>`` → ``bronze.<source>`` stands for the Spark ingest.
    """
    if not manifest:
        return LineageGraph({}, [], "no dbt manifest")
    nodes = {**manifest.get("sources", {}), **manifest.get("nodes", {})}

    def label(unique_id: str) -> str:
        node = nodes[unique_id]
        if node.get("resource_type") == "source":
            return f"bronze.{node.get('name')}"
        return str(node.get("name"))

    kept = {uid for uid, n in nodes.items() if n.get("resource_type") in LINEAGE_KINDS}
    layers = {label(uid): _layer(uid, nodes[uid]) for uid in kept}
    edges = set()
    for child, parents in (manifest.get("parent_map") or {}).items():
        if child not in kept:
            continue
        edges.update((label(p), label(child)) for p in parents if p in kept)
    for uid in kept:
        node = nodes[uid]
        if node.get("resource_type") == "source" and node.get("name") in SOURCES:
            landing = f"landing.{node['name']}"
            layers[landing] = 0
            edges.add((landing, label(uid)))
    return LineageGraph(layers, sorted(edges), "dbt manifest (parent_map) and the source registry")
