"""``creditlake new-source``: the files a new landing source needs, written from one description.

A source is declared once, in the registry (``creditlake/sources.py``); the Spark job, the bronze
quality suite and the reconciliation follow it without further code. What does not follow by
itself is dbt: its source YAML must declare the bronze schema (a test checks it does) and a
staging model must name and type the columns. This module writes all three from one
:class:`SourceSpec`, so a new source starts consistent, and refuses anything that would leave the
project half-changed (an existing name, an unknown type or domain, a key that is not a column).

What it does not write is said in :data:`NEXT_STEPS` and in ``docs/ADDING_A_SOURCE.md``: the
generator's rows for the source, joins into intermediate models, and tests of real logic.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from creditlake import sources as registry
from creditlake.policy import PII_IDENTIFIER
from creditlake.settings import PROJECT_ROOT
from creditlake.sources import (
    DOMAIN_SYSTEMS,
    LINEAGE_COLUMNS,
    PARTITION_COLUMN,
    SOURCES,
    Column,
    Source,
    bronze_columns,
)

#: The line of ``creditlake/sources.py`` above which a new ``Source(...)`` is inserted.
REGISTRY_MARKER = "        # `creditlake new-source` adds a source above this line"
_NAME = re.compile(r"^[a-z][a-z0-9_]{1,62}$")
_DECIMAL = re.compile(r"^decimal\((\d{1,2}),(\d{1,2})\)$")
#: Registry (Spark SQL) types and the type staging casts them to: DuckDB's, which Spark shares,
#: except text, whose spelling differs (``text_type()`` in dbt_project/macros/types.sql).
DUCKDB_TYPES = {
    "string": "{{ text_type() }}",
    "int": "integer",
    "bigint": "bigint",
    "double": "double",
    "boolean": "boolean",
    "date": "date",
    "timestamp": "timestamp",
}
FLAGS = ("required", "pii", "positive", "non_negative")
#: Staging names of the lineage columns (the ones every staging model carries).
STAGING_LINEAGE = (
    (
        "ingest_date",
        "date",
        "ingest_date",
        "The delivery (as-of date) this version of the row came from.",
    ),
    (
        "_batch_id",
        "{{ text_type() }}",
        "ingest_batch_id",
        "The bronze ingest batch that wrote the row.",
    ),
    ("_ingested_at", "timestamp", "ingested_at", "When that batch was written (UTC)."),
    ("_row_number", "bigint", "source_row_number", "The row's 1-based line in its landing file."),
)
NEXT_STEPS = (
    "describe each column in the registry entry and both YAML files (the scaffold used its name)",
    "make the generator deliver the source (generator/), or the ingest DAG waits for its file",
    "add accepted values, relationships and unit tests for real logic to the staging YAML",
    "join it into intermediate models and marts where it is used",
    "run `make lint` and `make test`",
)


class NewSourceError(ValueError):
    """The description cannot become a source; the message names the part that is wrong."""


@dataclass(frozen=True)
class SourceSpec:
    """What a user says about a new source: enough to write the registry entry and dbt files."""

    name: str
    domain: str
    format: str
    key: str
    columns: tuple[Column, ...]
    description: str = ""

    @property
    def source(self) -> Source:
        return Source(
            name=self.name,
            domain=self.domain,
            format=self.format,
            key=self.key,
            columns=self.columns,
            description=self.description or f"{self.name} delivered by {self.system}.",
        )

    @property
    def system(self) -> str:
        return self.source.system


@dataclass
class Written:
    """The files the scaffold created or changed, for the user to review."""

    created: list[Path] = field(default_factory=list)
    changed: list[Path] = field(default_factory=list)


def parse_column(text: str) -> Column:
    """``name:type[:flag...]`` with flags required, pii (a C2 identifier), positive, non_negative.

    ``amount_cny:decimal(12,2):required:positive`` is a required amount that must be above zero.
    """
    name, _, rest = text.partition(":")
    type_, _, flags_text = rest.partition(":")
    if not _NAME.match(name):
        raise NewSourceError(f"column {text!r}: name must be lower_snake_case")
    if type_ not in DUCKDB_TYPES and not _DECIMAL.match(type_):
        known = ", ".join([*DUCKDB_TYPES, "decimal(p,s)"])
        raise NewSourceError(f"column {text!r}: type {type_!r} is not one of {known}")
    flags = [f for f in flags_text.split(":") if f]
    unknown = sorted(set(flags) - set(FLAGS))
    if unknown:
        raise NewSourceError(f"column {text!r}: unknown flag(s) {unknown}; known: {list(FLAGS)}")
    if "pii" in flags and type_ != "string":
        raise NewSourceError(f"column {text!r}: a personal identifier must be a string")
    return Column(
        name,
        type_,
        required="required" in flags,
        pii=PII_IDENTIFIER if "pii" in flags else None,
        positive="positive" in flags,
        non_negative="non_negative" in flags,
    )


def check_spec(spec: SourceSpec, known: dict[str, Source] = SOURCES) -> None:
    """Refuse a description that would clash with the project or break a layer's contract."""
    if not _NAME.match(spec.name):
        raise NewSourceError(f"source name {spec.name!r} must be lower_snake_case")
    if spec.name in known:
        raise NewSourceError(f"source {spec.name!r} already exists in creditlake/sources.py")
    if spec.domain not in DOMAIN_SYSTEMS:
        raise NewSourceError(
            f"domain {spec.domain!r} is not one of {sorted(DOMAIN_SYSTEMS)}; a new domain also "
            "needs its ingest DAG and source system (docs/ADDING_A_SOURCE.md)"
        )
    if spec.format not in ("csv", "jsonl"):
        raise NewSourceError(f"format {spec.format!r} must be csv or jsonl")
    names = [c.name for c in spec.columns]
    if len(set(names)) != len(names):
        raise NewSourceError(f"columns repeat a name: {names}")
    if spec.key not in names:
        raise NewSourceError(f"key {spec.key!r} is not one of the columns {names}")
    key = next(c for c in spec.columns if c.name == spec.key)
    if not key.required or key.tokenised:
        raise NewSourceError(f"key {spec.key!r} must be required and not personal data")
    reserved = {c.name for c in LINEAGE_COLUMNS} | {PARTITION_COLUMN}
    if reserved & set(names):
        raise NewSourceError(f"columns may not use the lineage names {sorted(reserved)}")


# Registry ----------------------------------------------------------------------------------------
def _py(text: str) -> str:
    """A double-quoted Python string literal, as the formatter writes them."""
    return json.dumps(text, ensure_ascii=False)


def _column_literal(column: Column) -> str:
    arguments = [_py(column.name), _py(column.type)]
    arguments += [f"{flag}=True" for flag in FLAGS if flag != "pii" and getattr(column, flag)]
    if column.pii:
        arguments.append("pii=PII_IDENTIFIER")
    return f"                C({', '.join(arguments)}),"


def registry_entry(spec: SourceSpec) -> str:
    """The ``Source(...)`` literal for ``creditlake/sources.py``, in the file's own style."""
    source = spec.source
    domain_constant = next(
        name for name, value in _domain_constants().items() if value == spec.domain
    )
    lines = [
        "        Source(",
        f"            name={_py(source.name)},",
        f"            domain={domain_constant},",
        f"            format={_py(source.format)},",
        f"            key={_py(source.key)},",
        f"            description={_py(source.description)},",
        "            columns=(",
        *(_column_literal(c) for c in source.columns),
        "            ),",
        "        ),",
    ]
    return "\n".join(lines) + "\n"


def _domain_constants() -> dict[str, str]:
    """``DOMAIN_*`` name → value, so the entry names the registry's constant, not its text."""
    return {
        n: v for n, v in vars(registry).items() if n.startswith("DOMAIN_") and isinstance(v, str)
    }


# dbt ---------------------------------------------------------------------------------------------
def _description(column: Column) -> str:
    text = column.description or column.name.replace("_", " ")
    return text[0].upper() + text[1:].rstrip(".") + "."


def source_table_yaml(spec: SourceSpec) -> str:
    """The table entry of the dbt source: exactly the bronze schema, PII categories included."""
    source = spec.source
    lines = [
        f"      - name: {source.name}",
        f"        description: {_yaml_text(source.description)}",
        "        columns:",
    ]
    for column in bronze_columns(source):
        lines.append(f"          - name: {column.name}")
        lines.append(f"            description: {_yaml_text(_description(column))}")
        if column.pii:
            lines.append(f"            config: {{meta: {{pii: {column.pii}}}}}")
    lines.append(f"          - name: {PARTITION_COLUMN}")
    lines.append("            description: Partition; the as-of date whose delivery held the row.")
    return "\n".join(lines) + "\n"


def _staging_columns(source: Source) -> list[tuple[str, str, str, Column | None]]:
    """``(bronze name, DuckDB type, staging name, registry column)`` in staging order."""
    columns = []
    for column in bronze_columns(source):
        if column.name.startswith("_"):
            continue
        match = _DECIMAL.match(column.type)
        duckdb_type = (
            f"decimal({match.group(1)}, {match.group(2)})" if match else DUCKDB_TYPES[column.type]
        )
        columns.append((column.name, duckdb_type, column.name, column))
    columns += [(bronze, t, staged, None) for bronze, t, staged, _ in STAGING_LINEAGE]
    return columns


def staging_sql(spec: SourceSpec) -> str:
    """The staging model: only rename and cast, then keep each key's latest delivery."""
    source = spec.source
    casts = ",\n".join(
        f"        cast({bronze} as {duckdb_type}) as {staged}"
        for bronze, duckdb_type, staged, _ in _staging_columns(source)
    )
    return (
        "with\n\n"
        "source as (\n\n"
        f"    select * from {{{{ source('{spec.system}', '{source.name}') }}}}\n"
        "    where {{ delivered_by_as_of_date() }}\n\n"
        "),\n\n"
        "-- name and type every column\n"
        "renamed as (\n\n"
        "    select\n"
        f"{casts}\n"
        "    from source\n\n"
        "),\n\n"
        "-- a row re-delivered on a later day is known by its latest delivery\n"
        "final as (\n\n"
        f"    {{{{ keep_latest_delivery('renamed', ['{source.key}']) }}}}\n\n"
        ")\n\n"
        "select * from final\n"
    )


def staging_yaml(spec: SourceSpec) -> str:
    """The staging model's YAML: description, owner, PII tags, and the key's grain test."""
    source = spec.source
    pii_tags = sorted({c.pii for c in bronze_columns(source) if c.pii})
    lines = [
        "version: 2",
        "",
        "models:",
        f"  - name: {source.staging_model}",
        f"    description: {_yaml_text(source.description.rstrip('.'))}, as delivered up to the "
        "as-of date, one row per key (the latest delivery wins).",
        "    config:",
        "      meta:",
        "        owner: data-engineering",
        f"        pii: [{', '.join(pii_tags)}]",
        "    columns:",
    ]
    for _, _, staged, column in _staging_columns(source):
        description = (
            _description(column)
            if column is not None
            else next(d for _, _, s, d in STAGING_LINEAGE if s == staged)
        )
        lines.append(f"      - name: {staged}")
        lines.append(f"        description: {_yaml_text(description)}")
        if column is not None and column.pii:
            lines.append(f"        config: {{meta: {{pii: {column.pii}}}}}")
        if staged == source.key:
            lines.append("        data_tests: [unique, not_null]")
    return "\n".join(lines) + "\n"


def _yaml_text(text: str) -> str:
    """Plain YAML scalars unless the text needs quoting."""
    return f'"{text}"' if any(ch in text for ch in ":#{}[]&*!|>'\"%@`") else text


# Writing -----------------------------------------------------------------------------------------
def write_source(spec: SourceSpec, root: Path = PROJECT_ROOT) -> Written:
    """Write the registry entry, the dbt source table and the staging model under ``root``.

    Everything is checked and rendered before the first file is touched, and files that exist
    are never overwritten, so a refused description changes nothing.
    """
    import yaml

    check_spec(spec)
    registry = root / "creditlake" / "sources.py"
    staging_dir = root / "dbt_project" / "models" / "staging" / spec.system
    sources_yaml = staging_dir / f"_{spec.system}__sources.yml"
    model = spec.source.staging_model
    new_files = {
        staging_dir / f"{model}.sql": staging_sql(spec),
        staging_dir / f"{model}.yml": staging_yaml(spec),
    }

    registry_text = registry.read_text(encoding="utf-8")
    if registry_text.count(REGISTRY_MARKER) != 1:
        raise NewSourceError(f"{registry} has lost its marker line {REGISTRY_MARKER.strip()!r}")
    if not sources_yaml.is_file():
        raise NewSourceError(f"{sources_yaml} does not exist: the domain's dbt sources are missing")
    existing = [path for path in new_files if path.exists()]
    if existing:
        raise NewSourceError(f"{existing[0]} already exists; remove it or choose another name")
    sources_text = sources_yaml.read_text(encoding="utf-8").rstrip("\n") + "\n\n"
    sources_text += source_table_yaml(spec)
    declared = yaml.safe_load(sources_text)["sources"][0]["tables"]
    if declared[-1]["name"] != spec.name:
        raise NewSourceError(f"{sources_yaml}: its tables list must be the file's last entry")

    registry.write_text(
        registry_text.replace(REGISTRY_MARKER, registry_entry(spec) + REGISTRY_MARKER),
        encoding="utf-8",
    )
    sources_yaml.write_text(sources_text, encoding="utf-8")
    for path, text in new_files.items():
        path.write_text(text, encoding="utf-8")
    return Written(created=list(new_files), changed=[registry, sources_yaml])
