"""Reading the platform's OpenLineage events back: the runs, the lineage graph and its picture.

Every DAG run writes its OpenLineage events under ``settings.lineage_dir``
(:mod:`orchestration.lineage_events`): a START and a COMPLETE or FAIL for the DAG run and for each
task, with the datasets each task read and wrote. Airflow tasks name the lake's Iceberg tables,
Cosmos adds what each dbt build read and wrote, and the quality gates attach what Great
Expectations found to the tables they validated. This module turns those files into:

- :func:`read_events`: the events, oldest first;
- :func:`dag_runs`: one row per DAG run with the event types it emitted;
- :func:`lineage_graph`: a graph whose nodes are jobs and datasets and whose edges run
  input → job → output, with each dataset's latest quality assertions per job that checked it;
- :func:`draw_lineage`: that graph as a picture (PNG or SVG, by the file's suffix).

The governance report calls these; nothing here needs Airflow.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from creditlake.settings import Settings

if TYPE_CHECKING:
    import networkx as nx

#: The OpenLineage job type facet's value for a DAG (as opposed to one of its tasks).
DAG_JOB_TYPE = "DAG"
#: Event types that end a run.
END_EVENTS = ("COMPLETE", "FAIL", "ABORT")
JOB, DATASET = "job", "dataset"


class LineageError(ValueError):
    """An event file cannot be read; the message names it."""


def read_events(settings: Settings) -> list[dict]:
    """Every OpenLineage event under ``settings.lineage_dir``, oldest first (none if no folder).

    Files are named by the time they were written, which breaks ties between events stamped
    with the same time. Half-written files (``.partial``) are not events yet and are skipped.
    """
    directory = settings.lineage_dir
    if not directory.is_dir():
        return []
    events = []
    for path in sorted(directory.glob("*.json")):
        try:
            event = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
            raise LineageError(
                f"OpenLineage event file {path} is not readable JSON: {error}"
            ) from None
        if not isinstance(event, dict) or "eventType" not in event or "run" not in event:
            raise LineageError(f"OpenLineage event file {path} holds no run event")
        events.append(event)
    # a stable sort keeps the files' order among events of the same time
    return sorted(events, key=lambda event: event.get("eventTime") or "")


def _job_type(event: dict) -> str | None:
    facet = (event.get("job", {}).get("facets") or {}).get("jobType") or {}
    return facet.get("jobType")


def _parent_run_id(event: dict) -> str | None:
    parent = (event.get("run", {}).get("facets") or {}).get("parent") or {}
    return (parent.get("run") or {}).get("runId")


def dag_runs(events: list[dict]) -> list[dict[str, Any]]:
    """One row per DAG run, in the order they started, with the events each emitted.

    Row keys: ``dag_id``, ``run_id`` (OpenLineage's), ``nominal_start_time``, ``event_types``
    (``["START", "COMPLETE"]`` for a whole successful run), ``started_at``, ``ended_at`` and
    ``task_states``: each task job whose events name this run as parent, with its last end event
    type. The provider derives a DAG run's id from its DAG, logical date and clear number, so a
    date run again from scratch (``dag.test`` replaces the earlier run) reuses the id: each START
    opens a new row, and a task's end belongs to the row whose time span holds it.
    """
    rows: list[dict[str, Any]] = []
    open_rows: dict[str, dict[str, Any]] = {}
    task_ends: list[tuple[str, str, str, str]] = []
    for event in events:
        run_id, kind, time = event["run"]["runId"], event["eventType"], event.get("eventTime", "")
        if _job_type(event) != DAG_JOB_TYPE:
            if (parent := _parent_run_id(event)) is not None and kind in END_EVENTS:
                task_ends.append((parent, time, event["job"]["name"], kind))
            continue
        row = open_rows.get(run_id)
        if kind == "START" or row is None:
            nominal = (event["run"].get("facets") or {}).get("nominalTime") or {}
            row = {
                "dag_id": event["job"]["name"],
                "run_id": run_id,
                "nominal_start_time": nominal.get("nominalStartTime"),
                "event_types": [],
                "started_at": time if kind == "START" else None,
                "ended_at": None,
                "task_states": {},
            }
            rows.append(row)
            open_rows[run_id] = row
        row["event_types"].append(kind)
        if kind in END_EVENTS:
            row["ended_at"] = time
            del open_rows[run_id]
    for parent, time, task, kind in task_ends:
        spans = [
            row
            for row in rows
            if row["run_id"] == parent
            and (row["started_at"] or "") <= time <= (row["ended_at"] or "9999")
        ]
        if spans:
            spans[-1]["task_states"][task] = kind
    for row in rows:
        row["task_states"] = dict(sorted(row["task_states"].items()))
    return rows


def node_id(kind: str, namespace: str, name: str) -> str:
    """The graph's key of a job or dataset (namespaces keep equal names apart)."""
    return f"{kind}:{namespace}/{name}"


def _quality(dataset: dict) -> list[dict] | None:
    facets = {**(dataset.get("facets") or {}), **(dataset.get("inputFacets") or {})}
    assertions = (facets.get("dataQualityAssertions") or {}).get("assertions")
    return list(assertions) if assertions is not None else None


def lineage_graph(events: list[dict]) -> nx.DiGraph:
    """Jobs and datasets as nodes, edges input dataset → job → output dataset, over all runs.

    Node attributes: ``kind`` (``job`` or ``dataset``), ``namespace``, ``name``; jobs also have
    ``runs`` (distinct run ids), ``last_state`` and ``is_dag``; datasets have ``quality``:
    ``{job name: {"event_time", "assertions"}}`` from the latest event of each job that checked
    it (Great Expectations gates, dbt tests), each assertion with ``assertion``, ``success``,
    ``column`` and ``severity``. An input that the same job also writes (the tests of a dbt build
    read the models it built) is recorded as a check, not an edge, so the graph stays acyclic.
    """
    import networkx as nx

    graph = nx.DiGraph()
    runs: dict[str, set[str]] = defaultdict(set)
    for event in events:
        job = event.get("job") or {}
        job_node = node_id(JOB, job.get("namespace", ""), job.get("name", ""))
        runs[job_node].add(event["run"]["runId"])
        if job_node not in graph:
            graph.add_node(
                job_node,
                kind=JOB,
                namespace=job.get("namespace", ""),
                name=job.get("name", ""),
                is_dag=_job_type(event) == DAG_JOB_TYPE,
            )
        graph.nodes[job_node]["last_state"] = event["eventType"]
        outputs = {
            node_id(DATASET, d["namespace"], d["name"]): d for d in event.get("outputs") or []
        }
        inputs = {node_id(DATASET, d["namespace"], d["name"]): d for d in event.get("inputs") or []}
        for key, dataset in {**inputs, **outputs}.items():
            if key not in graph:
                graph.add_node(
                    key,
                    kind=DATASET,
                    namespace=dataset["namespace"],
                    name=dataset["name"],
                    quality={},
                )
        for key, dataset in inputs.items():
            if key not in outputs:
                graph.add_edge(key, job_node)
            if (assertions := _quality(dataset)) is not None:
                graph.nodes[key]["quality"][job.get("name", "")] = {
                    "event_time": event.get("eventTime"),
                    "assertions": assertions,
                }
        for key in outputs:
            graph.add_edge(job_node, key)
    for job_node, run_ids in runs.items():
        graph.nodes[job_node]["runs"] = len(run_ids)
    return graph


def quality_status(node: dict[str, Any]) -> str | None:
    """``failed``, ``passed`` or ``None`` (never checked) for a dataset node of the graph.

    ``failed`` when the latest check of any job that checked it has a failed assertion of any
    severity other than ``warning``/``warn``/``info`` (those are recorded, they do not block).
    """
    checks = node.get("quality") or {}
    if not checks:
        return None
    for check in checks.values():
        for assertion in check["assertions"]:
            severity = str(assertion.get("severity") or "").lower()
            if not assertion.get("success") and severity not in ("warning", "warn", "info"):
                return "failed"
    return "passed"


def _label(node: dict[str, Any]) -> str:
    """A readable label: a task without its DAG, a table's last two parts, a path's last part."""
    if node["kind"] == JOB:
        return node["name"].split(".", 1)[-1]
    tail = node["name"].rstrip("/").rsplit("/", 1)[-1]
    parts = tail.split(".")
    return ".".join(parts[-2:]) if len(parts) > 1 else tail


def _layout(graph: nx.DiGraph) -> dict[str, tuple[float, float]]:
    """Left to right by generation (sources first), nodes of a generation stacked."""
    import networkx as nx

    positions: dict[str, tuple[float, float]] = {}
    for column, generation in enumerate(nx.topological_generations(graph)):
        for row, node in enumerate(sorted(generation)):
            positions[node] = (float(column), -float(row) + (len(generation) - 1) / 2)
    return positions


#: Colours of the picture: jobs, and datasets by quality status.
COLOURS = {JOB: "#dbe7f5", "passed": "#cdebd0", "failed": "#f6c9c4", None: "#eeeeee"}


def draw_lineage(events: list[dict], path: Path) -> Path:
    """Draw the lineage graph of ``events`` into ``path`` (``.png`` or ``.svg``); returns it.

    DAG-level jobs have no datasets and are left out of the picture; datasets are coloured by
    :func:`quality_status` (green passed, red failed, grey never checked), jobs are blue.
    """
    import matplotlib
    from matplotlib.figure import Figure  # no pyplot: no global figure state, no GUI backend

    if path.suffix.lower() not in (".png", ".svg"):
        raise ValueError(f"draw_lineage writes .png or .svg files, not {path.name}")
    graph = lineage_graph(events)
    graph.remove_nodes_from([n for n in list(graph) if graph.degree(n) == 0])
    positions = _layout(graph)
    per_column = Counter(x for x, _ in positions.values())
    columns, rows = len(per_column), max(per_column.values(), default=1)
    figure = Figure(figsize=(max(6.0, 2.6 * columns), max(3.0, 0.45 * rows)))
    axes = figure.subplots()
    axes.set_axis_off()
    for source, target in graph.edges:
        (x1, y1), (x2, y2) = positions[source], positions[target]
        axes.annotate(
            "",
            xy=(x2, y2),
            xytext=(x1, y1),
            arrowprops={
                "arrowstyle": "->",
                "color": "#8a8a8a",
                "lw": 0.6,
                "shrinkA": 28,
                "shrinkB": 28,
            },
        )
    for node, (x, y) in positions.items():
        data = graph.nodes[node]
        colour = COLOURS[JOB] if data["kind"] == JOB else COLOURS[quality_status(data)]
        axes.text(
            x,
            y,
            _label(data),
            ha="center",
            va="center",
            fontsize=7,
            bbox={
                "boxstyle": "round,pad=0.3" if data["kind"] == DATASET else "square,pad=0.3",
                "facecolor": colour,
                "edgecolor": "#555555",
                "linewidth": 0.5,
            },
        )
    if positions:
        axes.set_xlim(-0.6, columns - 0.4)
        ys = [y for _, y in positions.values()]
        axes.set_ylim(min(ys) - 0.8, max(ys) + 0.8)
    path.parent.mkdir(parents=True, exist_ok=True)
    # a fixed SVG id salt and no date: the same graph gives the same file
    with matplotlib.rc_context({"svg.hashsalt": "creditlake"}):
        figure.savefig(path, bbox_inches="tight", dpi=110, metadata=_metadata(path))
    return path


def _metadata(path: Path) -> dict[str, Any]:
    """No creation date in the file, so the same graph gives the same picture."""
    return {"Date": None} if path.suffix.lower() == ".svg" else {}
