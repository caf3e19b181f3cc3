"""The models' part of the platform summary: champions against their oracles, the day's
decisions, the portfolio plots and the thin-file inclusion table.

Built only from what the platform wrote (the MLflow registry and runs, the warehouse's decisions),
except the oracle AUCs: the generator's true probabilities, kept apart from landing, are read
here (and only here) to show how close each champion gets to the best possible model.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from creditlake.settings import Settings


def table_text(rows: list[list[Any]], header: list[str]) -> str:
    widths = [max(len(str(x)) for x in column) for column in zip(header, *rows, strict=False)]
    lines = ["  ".join(str(h).ljust(w) for h, w in zip(header, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    lines += [
        "  ".join(
            str(c).rjust(w) if isinstance(c, int | float) else str(c).ljust(w)
            for c, w in zip(row, widths, strict=True)
        )
        for row in rows
    ]
    return "\n".join(lines)


DECISION_FIELDS = ("decision", "applications", "mean_pd", "mean_limit_cny", "mean_apr")
LIMIT_FIELDS = ("month_end", "proposal", "loans", "mean_pd", "mean_change_cny")
OUTCOME_FIELDS = ("contacted", "promised", "entries", "cure_rate", "promise_kept_rate")


def decisions_summary(settings: Settings) -> dict[str, Any]:
    """Decisions of the scored applications (ml.application_decisions): outcomes, reason codes."""
    if not settings.warehouse_path.is_file():
        return {}
    import duckdb

    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        if not _has_table(con, "ml", "application_decisions"):
            return {}
        outcomes = con.execute(
            "select decision, count(*), round(avg(credit_pd), 4), "
            "round(avg(credit_limit_cny), 0), round(avg(apr), 4) "
            "from ml.application_decisions group by 1 order by 2 desc"
        ).fetchall()
        codes = con.execute(
            "select code, count(*) from ("
            "select unnest(reason_codes) as code from ml.application_decisions"
            ") group by 1 order by 2 desc"
        ).fetchall()
        queued = (
            con.execute(
                "select count(*), count(distinct queued_date), round(avg(pd), 4) "
                "from ml.collections_queue"
            ).fetchone()
            if _has_table(con, "ml", "collections_queue")
            else None
        )
        limits = (
            con.execute(
                "select month_end, proposal, count(*), round(avg(pd), 4), "
                "round(avg(proposed_limit_cny - current_limit_cny), 0) "
                "from ml.limit_proposals group by all order by 1, 2"
            ).fetchall()
            if _has_table(con, "ml", "limit_proposals")
            else []
        )
        outcomes_of_collections = (
            con.execute(
                "select is_contacted, is_promised, count(*), round(avg(is_cured), 4), "
                "round(avg(is_promise_kept), 4) from marts.fct_collection_outcomes "
                "group by all order by 1, 2"
            ).fetchall()
            if _has_table(con, "marts", "fct_collection_outcomes")
            else []
        )
    return {
        "limit_proposals": [
            dict(zip(LIMIT_FIELDS, (str(row[0]), *row[1:]), strict=True)) for row in limits
        ],
        "collection_outcomes": [
            dict(zip(OUTCOME_FIELDS, row, strict=True)) for row in outcomes_of_collections
        ],
        "by_decision": [dict(zip(DECISION_FIELDS, row, strict=True)) for row in outcomes],
        "reason_codes": dict(codes),
        "collections_queue": (
            {"entries": queued[0], "days": queued[1], "mean_pd_not_cured": queued[2]}
            if queued
            else {}
        ),
    }


def _has_table(con: Any, schema: str, name: str) -> bool:
    return bool(
        con.execute(
            "select count(*) from information_schema.tables "
            "where table_schema = ? and table_name = ?",
            [schema, name],
        ).fetchone()[0]
    )


def portfolio_summary(settings: Settings) -> dict[str, Any]:
    """Where the latest portfolio plots are (ml.portfolio's latest MLflow run)."""
    from mlflow.exceptions import MlflowException

    from ml.portfolio import EXPERIMENT
    from ml.tracking import configure_mlflow

    client = configure_mlflow(settings)
    try:
        experiment = client.get_experiment_by_name(EXPERIMENT)
        if experiment is None:
            return {}
        runs = client.search_runs(
            [experiment.experiment_id], order_by=["attributes.start_time DESC"], max_results=1
        )
    except MlflowException:
        return {}
    if not runs:
        return {}
    run = runs[0]
    return {
        "run_name": run.info.run_name,
        "run_id": run.info.run_id,
        "plots": {
            item.path: f"{run.info.artifact_uri}/{item.path}"
            for item in client.list_artifacts(run.info.run_id)
            if item.path.endswith(".png")
        },
    }


#: The oracle of each model: the generator's true probability of its label, a column of the
#: ground truth kept apart from landing (generator.core writes it).
@dataclass(frozen=True)
class Oracle:
    """Where a model's truth is: a file of the oracle folder, its join keys and the probability
    of the model's label (``1 -`` it when the truth file holds the opposite outcome's)."""

    file: str
    keys: tuple[str, ...]
    expression: str


ORACLES = {
    "credit_pd": Oracle("loan_truth.parquet", ("loan_id",), "truth.true_pd"),
    "fraud": Oracle("loan_truth.parquet", ("loan_id",), "truth.true_fpd_p"),
    "b_card": Oracle("loan_month_truth.parquet", ("loan_month_id",), "truth.true_bcard_p"),
    # the C-card's label is "not cured": the truth file holds the chance of a cure
    "c_card": Oracle(
        "installment_truth.parquet", ("loan_id", "installment_number"), "1 - truth.true_cure_p"
    ),
}


def model_summary(settings: Settings, name: str = "credit_pd") -> dict[str, Any]:
    """Champion and challenger of model ``name``, their out-of-time metrics, and its oracle AUC."""
    from mlflow.exceptions import MlflowException

    from ml.tracking import configure_mlflow

    client = configure_mlflow(settings)
    result: dict[str, Any] = {"registered_model": name}
    try:
        versions = client.search_model_versions(f"name='{name}'")
    except MlflowException:
        return {}
    if not versions:
        return {}
    result["versions"] = len(versions)
    for alias in ("champion", "challenger"):
        try:
            version = client.get_model_version_by_alias(name, alias)
        except MlflowException:
            continue
        result[alias] = {"version": int(version.version), **dict(version.tags)}
    result["alias_log"] = _alias_log(settings, client, name)
    champion = result.get("champion")
    if champion:
        result["oracle"] = oracle_auc(settings, champion, name)
        inclusion = _run_json(client, champion.get("training_run_id"), "inclusion.json")
        if inclusion:
            result["inclusion"] = inclusion
    return result


def _alias_log(settings: Settings, client: Any, name: str) -> dict[str, Any]:
    """How many alias moves the audit log holds for ``name``, and whether the registry agrees."""
    from creditlake.lake import Lake
    from ml import alias_log

    moves = alias_log.history(Lake.from_settings(settings), name)
    return {
        "moves": sum(m.outcome == alias_log.MOVED for m in moves),
        "refused": sum(m.outcome == alias_log.REFUSED for m in moves),
        "disagreements": alias_log.discrepancies(client, name, moves),
    }


def _run_json(client: Any, run_id: str | None, name: str) -> dict[str, Any] | None:
    """A JSON artifact of a run, or ``None`` when the run or the artifact does not exist."""
    import tempfile

    from mlflow.exceptions import MlflowException

    if not run_id:
        return None
    with tempfile.TemporaryDirectory() as folder:
        try:
            path = client.download_artifacts(run_id, name, folder)
        except (MlflowException, OSError):
            return None
        return json.loads(Path(path).read_text())


def models_summary(settings: Settings) -> dict[str, dict[str, Any]]:
    """:func:`model_summary` of every model the platform trains (ml.names.MODELS), each with
    its monitoring's worst severities (ml.monitoring_tables.severity_by_model) when it has any."""
    from ml.monitoring_tables import severity_by_model
    from ml.names import MODELS

    models = {name: model_summary(settings, name) for name in MODELS}
    for name, monitoring in severity_by_model(settings).items():
        if models.get(name):
            models[name]["monitoring"] = monitoring
    return models


def oracle_auc(settings: Settings, champion: dict[str, Any], name: str = "credit_pd") -> dict:
    """AUC of the generator's true probability of the label on the champion's out-of-time rows."""
    from ml.names import model_target

    target = model_target(name)
    oracle = ORACLES.get(name)
    if oracle is None:
        return {}
    truth_file = settings.oracle_dir / oracle.file
    months = champion.get("oot_months")
    if not truth_file.is_file() or not months or not settings.warehouse_path.is_file():
        return {}
    import duckdb

    from ml.metrics import auc as auc_of

    month_list = [m.strip() for m in str(months).strip("[]").replace("'", "").split(",")]
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        frame = con.execute(
            f"select t.{target.label} as label, {oracle.expression} as truth "
            f"from {target.training_table} t "
            f"join read_parquet(?) truth using ({', '.join(oracle.keys)}) "
            f"where strftime(t.{target.month}, '%Y-%m') in (select unnest(?))",
            [str(truth_file), [m[:7] for m in month_list]],
        ).fetchdf()
    if frame["label"].nunique() < 2:
        return {}
    auc = auc_of(frame["label"].astype(float), frame["truth"])
    champion_auc = float(champion.get("oot_auc", "nan"))
    return {
        "oot_loans": len(frame),
        "oracle_auc": round(auc, 4),
        "champion_auc": round(champion_auc, 4),
        "ratio": round(champion_auc / auc, 3) if auc else None,
    }


def print_inclusion(inclusion: dict[str, Any], out=print) -> None:
    """The thin-file inclusion table of the application model's champion (ml.inclusion)."""
    from ml.inclusion import GROUP_LABELS

    out(
        f"\nThin-file inclusion (credit_pd champion's run, {inclusion['family']} refitted without "
        f"the {len(inclusion['behaviour_features_removed'])} behaviour features; out-of-time "
        f"applications; approval = share approved, safest first, at an observed bad rate "
        f"<= {inclusion['bad_rate']:.0%}):"
    )
    rows = [
        [
            GROUP_LABELS.get(g["group"], g["group"]),
            g["rows"],
            g["bads"],
            g["auc_with_behaviour"] if g["auc_with_behaviour"] is not None else "-",
            g["auc_without_behaviour"] if g["auc_without_behaviour"] is not None else "-",
            g["auc_lift"] if g["auc_lift"] is not None else "-",
            f"{g['approval_with_behaviour']:.1%}",
            f"{g['approval_without_behaviour']:.1%}",
        ]
        for g in inclusion["groups"]
    ]
    out(
        table_text(
            rows,
            [
                "group",
                "rows",
                "bads",
                "AUC with",
                "AUC without",
                "lift",
                "approved with",
                "approved without",
            ],
        )
    )


def _rounded(value: Any) -> Any:
    """A metric tag (text) as a 4-decimal number, or '-' when absent."""
    try:
        return round(float(value), 4)
    except (TypeError, ValueError):
        return "-"


def print_monitoring(models: dict[str, Any], out=print) -> None:
    """One line: each champion's worst monitoring severity, stability and performance apart."""
    parts = []
    for name, model in models.items():
        monitoring = model.get("monitoring")
        if not monitoring:
            continue
        checks = ", ".join(
            f"{kind} {monitoring[kind]['severity']} ({monitoring[kind]['months']} months)"
            for kind in ("stability", "performance")
            if kind in monitoring
        )
        parts.append(
            f"{name} v{monitoring['model_version']} {monitoring['severity'].upper()}: {checks}"
        )
    if parts:
        out(
            "Monitoring (ml.monitoring_*, DAG ml__monitor_models), worst month: " + "; ".join(parts)
        )


def print_models(summary: dict[str, Any], out=print) -> None:
    """Models against their oracles, decisions, portfolio plots and thin-file inclusion."""
    models = {name: m for name, m in summary.get("models", {}).items() if m.get("champion")}
    if models:
        out(
            "\nModels (champion's out-of-time AUC and KS against the oracle AUC of the true "
            "probability on the same loans):"
        )
        rows = []
        for name, model in models.items():
            champion, oracle = model["champion"], model.get("oracle") or {}
            challenger = model.get("challenger") or {}
            rows.append(
                [
                    name,
                    model["versions"],
                    f"v{champion['version']} {champion.get('model_family')}",
                    _rounded(champion.get("oot_auc")),
                    _rounded(champion.get("oot_ks")),
                    oracle.get("oracle_auc", "-"),
                    f"{oracle['ratio']:.1%}" if oracle.get("ratio") else "-",
                    oracle.get("oot_loans", "-"),
                    f"v{challenger['version']} {_rounded(challenger.get('oot_auc'))}"
                    if challenger
                    else "-",
                ]
            )
        out(
            table_text(
                rows,
                [
                    "model",
                    "versions",
                    "champion",
                    "OOT AUC",
                    "OOT KS",
                    "oracle AUC",
                    "ratio",
                    "OOT loans",
                    "challenger AUC",
                ],
            )
        )
        logs = {name: m["alias_log"] for name, m in models.items() if "alias_log" in m}
        counts = ", ".join(
            f"{name} {log['moves']} moved, {log['refused']} refused" for name, log in logs.items()
        )
        problems = [p for g in logs.values() for p in g["disagreements"]]
        out(
            f"Alias audit log (creditlake models history NAME): {counts}; registry "
            + ("agrees with it" if not problems else "DISAGREES: " + "; ".join(problems))
        )
        print_monitoring(models, out)
    decisions = summary.get("decisions") or {}
    if decisions.get("by_decision"):
        from ml.decisions import REASON_CODES

        out("\nDecisions of the scored applications (ml.application_decisions):")
        out(
            table_text(
                [
                    [
                        d["decision"],
                        d["applications"],
                        d["mean_pd"],
                        d["mean_limit_cny"] if d["mean_limit_cny"] is not None else "-",
                        d["mean_apr"] if d["mean_apr"] is not None else "-",
                    ]
                    for d in decisions["by_decision"]
                ],
                ["decision", "applications", "mean PD", "mean limit CNY", "mean APR"],
            )
        )
        for code, count in decisions["reason_codes"].items():
            out(f"  {code} {REASON_CODES.get(code, '')}: {count}")
        queue = decisions.get("collections_queue") or {}
        if queue:
            out(
                f"Collections queue (ml.collections_queue, ordered by c_card): {queue['entries']} "
                f"entries over {queue['days']} days, mean probability of not curing "
                f"{queue['mean_pd_not_cured']}"
            )
    if decisions.get("limit_proposals"):
        out("\nCredit-limit proposals on the active book (ml.limit_proposals, scored by b_card):")
        out(
            table_text(
                [
                    [p["month_end"], p["proposal"], p["loans"], p["mean_pd"], p["mean_change_cny"]]
                    for p in decisions["limit_proposals"]
                ],
                ["month end", "proposal", "loans", "mean PD", "mean change CNY"],
            )
        )
    if decisions.get("collection_outcomes"):
        out("\nCollections outcomes (marts.fct_collection_outcomes: cured within 30 days):")
        out(
            table_text(
                [
                    [
                        "yes" if o["contacted"] else "no",
                        "yes" if o["promised"] else "no",
                        o["entries"],
                        f"{o['cure_rate']:.1%}",
                        f"{o['promise_kept_rate']:.1%}"
                        if o["promise_kept_rate"] is not None
                        else "-",
                    ]
                    for o in decisions["collection_outcomes"]
                ],
                ["contacted", "promised to pay", "entries", "cured", "promise kept"],
            )
        )
    portfolio = summary.get("portfolio") or {}
    if portfolio.get("plots"):
        out(f"\nPortfolio plots (MLflow run '{portfolio['run_name']}'):")
        for name, uri in portfolio["plots"].items():
            out(f"  {name:<24} {uri}")
    inclusion = models.get("credit_pd", {}).get("inclusion")
    if inclusion:
        print_inclusion(inclusion, out)
