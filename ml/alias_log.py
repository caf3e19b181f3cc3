"""The append-only log of registry alias moves: who held ``champion`` and ``challenger``, and why.

MLflow keeps only the current holder of an alias (mlflow issue 2169): once a champion is
displaced, the registry no longer says it ever was one. Every alias change creditlake makes goes
through :func:`move_alias` or :func:`log_refusal` here: the champion gate after each training run
(a promotion, or a refused candidate that becomes ``challenger``), and a person's promotion or
rollback through ``creditlake models promote|rollback``. Each appends one row to
``lake.alias_moves``, an append-only table beside the delivery ledger (its snapshots make any
rewrite visible): which alias, from which version to which, when, by which MLflow run or user,
the gate's figures and a reason.

The log and the alias cannot share a transaction: the alias lives behind MLflow's API (a tracking
server, in a shared deployment) and the log in the lake's catalog. So the row is written *before*
the move, a move that then fails appends a ``failed`` row, and :func:`discrepancies` compares the
last logged holder of each alias with the registry. A move that was logged but never happened (a
crash in between), or one made outside creditlake, is reported, never hidden.
"""

from __future__ import annotations

import datetime as dt
import getpass
import json
from dataclasses import asdict, dataclass, field
from typing import Any

from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

from creditlake import ledger
from creditlake.lake import LEDGER_NAMESPACE, Lake
from ml.names import CHAMPION

ALIAS_MOVES = f"{LEDGER_NAMESPACE}.alias_moves"

# Actions: who asked for the move.
GATE = "gate"
PROMOTE = "promote"
ROLLBACK = "rollback"
# Outcomes.
MOVED = "moved"
REFUSED = "refused"
FAILED = "failed"


class AliasLogError(ValueError):
    """An alias move that cannot be made (no reason given, nothing to roll back to)."""


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True)
class AliasMove:
    """One row of the log: an alias moved (or a move refused or failed) for one model."""

    model: str
    alias: str
    from_version: str | None
    to_version: str | None
    action: str
    outcome: str
    actor: str
    reason: str
    #: The gate's figures and thresholds as JSON text ("{}" for a person's decision).
    gate: str = "{}"
    recorded_at: dt.datetime = field(default_factory=_now)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["recorded_at"] = self.recorded_at.isoformat()
        data["gate"] = json.loads(self.gate)
        return data


def _schema() -> Any:
    import pyarrow as pa

    text = pa.string()
    return pa.schema(
        [
            *(pa.field(name, text) for name in ("model", "alias", "from_version", "to_version")),
            *(pa.field(name, text) for name in ("action", "outcome", "actor", "reason", "gate")),
            pa.field("recorded_at", pa.timestamp("us", tz="UTC")),
        ]
    )


def _append(lake: Lake, move: AliasMove) -> AliasMove:
    import pyarrow as pa

    lake.append(ALIAS_MOVES, pa.Table.from_pylist([asdict(move)], schema=_schema()))
    return move


def current_holder(client: MlflowClient, model: str, alias: str) -> str | None:
    """The version holding ``alias`` in the registry now, or ``None``."""
    try:
        return str(client.get_model_version_by_alias(model, alias).version)
    except MlflowException:
        return None


def move_alias(
    client: MlflowClient,
    lake: Lake,
    model: str,
    alias: str,
    version: str,
    *,
    action: str,
    actor: str,
    reason: str,
    gate: dict[str, Any] | None = None,
) -> AliasMove:
    """Log, then move ``alias`` of ``model`` to ``version``; a move that fails after it was
    logged gets a ``failed`` row (an unknown version is refused before anything is logged)."""
    if not reason.strip():
        raise AliasLogError(f"moving {model}@{alias} needs a reason for the audit log")
    client.get_model_version(model, str(version))  # an unknown version fails here, unlogged
    previous = current_holder(client, model, alias)
    move = AliasMove(
        model,
        alias,
        previous,
        str(version),
        action,
        MOVED,
        actor,
        reason,
        json.dumps(gate or {}, sort_keys=True, default=str),
    )
    _append(lake, move)
    try:
        client.set_registered_model_alias(model, alias, str(version))
    except MlflowException as error:
        failed = {"outcome": FAILED, "reason": str(error), "recorded_at": _now()}
        _append(lake, AliasMove(**{**asdict(move), **failed}))
        raise
    return move


def log_refusal(
    lake: Lake,
    model: str,
    alias: str,
    current: str | None,
    candidate: str,
    *,
    action: str,
    actor: str,
    reason: str,
    gate: dict[str, Any] | None = None,
) -> AliasMove:
    """Log that ``candidate`` was refused ``alias`` (which stays with ``current``)."""
    gate_text = json.dumps({**(gate or {}), "candidate_version": str(candidate)}, default=str)
    move = AliasMove(model, alias, current, current, action, REFUSED, actor, reason, gate_text)
    return _append(lake, move)


def history(lake: Lake, model: str) -> list[AliasMove]:
    """Every row logged for ``model``, oldest first."""
    from pyiceberg.expressions import EqualTo

    return [AliasMove(**row) for row in ledger.rows(lake, ALIAS_MOVES, EqualTo("model", model))]


def logged_holders(moves: list[AliasMove]) -> dict[str, str | None]:
    """Each alias's holder according to the log: the target of its last move, unless that move
    then failed (its ``failed`` row gives the alias back to the version it came from)."""
    holders: dict[str, str | None] = {}
    for move in moves:
        if move.outcome == MOVED:
            holders[move.alias] = move.to_version
        elif move.outcome == FAILED:
            holders[move.alias] = move.from_version
    return {alias: version for alias, version in holders.items() if version is not None}


def discrepancies(client: MlflowClient, model: str, moves: list[AliasMove]) -> list[str]:
    """Where the registry and the log disagree about who holds an alias (should be none)."""
    try:
        aliases = client.get_registered_model(model).aliases or {}
    except MlflowException:  # not registered at all
        aliases = {}
    registry = {alias: str(version) for alias, version in aliases.items()}
    logged = logged_holders(moves)
    found = []
    for alias in sorted(set(registry) | set(logged)):
        if registry.get(alias) != logged.get(alias):
            found.append(
                f"{model}@{alias}: the registry has version {registry.get(alias)}, the audit log "
                f"{logged.get(alias)} (a move made outside creditlake, or one that did not finish)"
            )
    return found


def rollback_target(moves: list[AliasMove], alias: str = CHAMPION) -> str:
    """The version that held ``alias`` before its current holder (by the log)."""
    moved = [m for m in moves if m.alias == alias and m.outcome == MOVED]
    if not moved or moved[-1].from_version is None:
        raise AliasLogError(f"the audit log has no earlier holder of {alias!r} to roll back to")
    return moved[-1].from_version


def person() -> str:
    """Who runs the command, for a manual move's ``actor``."""
    try:
        return f"user:{getpass.getuser()}"
    except (KeyError, OSError):  # no user name in a bare container
        return "user:unknown"


def format_history(moves: list[AliasMove], problems: list[str]) -> str:
    """The log as a table a reviewer reads, followed by any disagreement with the registry."""
    header = ("recorded at (UTC)", "alias", "from", "to", "action", "outcome", "actor", "reason")
    rows = [
        (
            m.recorded_at.strftime("%Y-%m-%d %H:%M:%S"),
            m.alias,
            m.from_version or "-",
            m.to_version or "-",
            m.action,
            m.outcome,
            m.actor,
            m.reason,
        )
        for m in moves
    ]
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header) - 1)]
    lines = []
    for row in [header, *rows]:
        cells = [str(c).ljust(w) for c, w in zip(row[:-1], widths, strict=True)]
        lines.append("  ".join([*cells, str(row[-1])]))
    lines.append("registry: " + ("agrees with the log" if not problems else "DISAGREES"))
    lines.extend(f"  {problem}" for problem in problems)
    return "\n".join(lines)
