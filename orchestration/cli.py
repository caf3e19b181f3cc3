"""``creditlake``: the command line of the platform.

Sub-commands import their heavy dependencies lazily, so ``creditlake --help`` is instant and a
missing optional piece (say, Java for Spark) is reported by the command that needs it.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import os
import shutil
import sys
from pathlib import Path

from creditlake.preflight import CATALOG, FOLDERS, JAVA, LANDING
from creditlake.preflight import check as check_configuration
from creditlake.settings import SettingsError, get_settings


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a date in yyyy-mm-dd form") from None


def _generator_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument(
        "--behaviour-events",
        type=int,
        default=2_000_000,
        help="app events + transactions over the whole timeline (approximate)",
    )
    parser.add_argument(
        "--extract-date",
        type=_date,
        default=dt.date(2026, 1, 1),
        help="logical date of the initial full extract",
    )
    parser.add_argument("--days", type=int, default=3, help="daily incremental deliveries")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument(
        "--defect-rate",
        type=float,
        default=0.002,
        help="share of rows given a realistic defect (0 for clean data)",
    )
    parser.add_argument(
        "--late-source",
        default="transactions",
        help="source whose last daily file is delivered late ('' for none)",
    )


def _generator_config(args: argparse.Namespace):
    from generator import GeneratorConfig

    return GeneratorConfig(
        customers=args.customers,
        behaviour_events=args.behaviour_events,
        extract_date=args.extract_date,
        days=args.days,
        seed=args.seed,
        defect_rate=args.defect_rate,
        late_source=args.late_source or None,
    )


def cmd_generate(args: argparse.Namespace) -> None:
    from generator import generate

    report = generate(_generator_config(args), get_settings())
    print(json.dumps(report.to_dict(), indent=2, default=str))


def cmd_deliver_late(args: argparse.Namespace) -> None:
    from generator import deliver_late

    for location in deliver_late(get_settings()):
        print(f"delivered {location}")


def cmd_init_secrets(args: argparse.Namespace) -> None:
    from creditlake.secrets import PII_KEY, ensure_pii_key, secrets_backend

    settings = get_settings()
    created = ensure_pii_key(settings)
    where = secrets_backend(settings).where(PII_KEY)
    print(f"{'created' if created else 'kept existing'} PII key {where}")


def cmd_demo(args: argparse.Namespace) -> None:
    from orchestration.demo import run_demo
    from orchestration.summary import build_summary, print_summary

    _use_stack(args.on_stack)
    settings = get_settings()
    demo = run_demo(_generator_config(args), settings, on_stack=args.on_stack)
    print_summary(build_summary(settings, demo))


def cmd_summary(args: argparse.Namespace) -> None:
    from orchestration.summary import build_summary, print_summary

    print_summary(build_summary(get_settings(), None))


def cmd_german_credit(args: argparse.Namespace) -> None:
    from ml.german_credit import main

    def progress(line: str) -> None:  # on stderr: stdout stays the JSON result
        print(line, file=sys.stderr, flush=True)

    result = main(get_settings(), repeats=args.repeats, folds=args.folds, progress=progress)
    print(json.dumps(result, indent=2, default=str))


def cmd_pii_scan(args: argparse.Namespace) -> None:
    from orchestration.pii_scan import scan_platform

    findings = scan_platform(get_settings())
    for finding in findings:
        print(finding)
    print(f"{len(findings)} raw identifiers found downstream of landing")
    if findings:
        raise SystemExit(1)


def cmd_new_source(args: argparse.Namespace) -> None:
    """Write the registry entry, dbt source table and staging model of a new landing source."""
    from orchestration.new_source import (
        NEXT_STEPS,
        NewSourceError,
        SourceSpec,
        parse_column,
        write_source,
    )

    try:
        spec = SourceSpec(
            name=args.name,
            domain=args.domain,
            format=args.format,
            key=args.key,
            columns=tuple(parse_column(text) for text in args.column),
            description=args.description or "",
        )
        written = write_source(spec)
    except NewSourceError as error:
        print(f"creditlake new-source: {error}", file=sys.stderr)
        raise SystemExit(2) from None
    for path in written.changed:
        print(f"changed {path}")
    for path in written.created:
        print(f"created {path}")
    print("next:")
    for step in NEXT_STEPS:
        print(f"  - {step}")


def cmd_doctor(args: argparse.Namespace) -> None:
    """Check the whole configuration, one pass/fail line per item; exit 1 if any failed."""
    from orchestration.doctor import doctor

    if not doctor():
        raise SystemExit(1)


def cmd_env(args: argparse.Namespace) -> None:
    """Print ``export`` lines so a user can run the ``airflow``/``dbt`` CLIs against this setup."""
    import shlex

    from orchestration.runtime import runtime_env

    for name, value in runtime_env(get_settings()).items():
        print(f"export {name}={shlex.quote(value)}")


def cmd_reproduce(args: argparse.Namespace) -> None:
    """Rebuild a registered version's training set from its lake snapshots; compare hashes."""
    from orchestration.reproduce import ReproduceError, reproduce

    try:
        result = reproduce(args.model, args.version, get_settings())
    except ReproduceError as error:
        print(f"creditlake reproduce: {error}", file=sys.stderr)
        raise SystemExit(2) from None
    print("\n".join(result.lines()))
    if not result.matches:
        raise SystemExit(1)


def cmd_models(args: argparse.Namespace) -> None:
    """A model's alias history; a person's promotion or rollback, logged like the gate's."""
    from mlflow.exceptions import MlflowException

    from creditlake.lake import Lake
    from ml import alias_log
    from ml.tracking import configure_mlflow

    settings = get_settings()
    client = configure_mlflow(settings)
    lake = Lake.from_settings(settings)
    manual = {"actor": alias_log.person(), "reason": getattr(args, "reason", "")}
    try:
        if args.action == "promote":
            alias_log.move_alias(
                client,
                lake,
                args.name,
                args.alias,
                args.version,
                action=alias_log.PROMOTE,
                **manual,
            )
        elif args.action == "rollback":
            target = alias_log.rollback_target(alias_log.history(lake, args.name), args.alias)
            alias_log.move_alias(
                client, lake, args.name, args.alias, target, action=alias_log.ROLLBACK, **manual
            )
    except (alias_log.AliasLogError, MlflowException) as error:
        print(f"creditlake models {args.action}: {error}", file=sys.stderr)
        raise SystemExit(2) from None
    moves = alias_log.history(lake, args.name)
    problems = alias_log.discrepancies(client, args.name, moves)
    if moves:
        print(alias_log.format_history(moves, problems))
    else:
        print("\n".join([f"no alias moves logged for {args.name!r}", *problems]))
    if problems:
        raise SystemExit(1)


def _use_stack(on_stack: bool) -> None:
    """Read models where the stack's tasks write them: its MLflow server, as its pipeline."""
    if on_stack:
        from orchestration.stack.mlflow import client_env

        os.environ.update(client_env(get_settings()))


def cmd_report(args: argparse.Namespace) -> None:
    """Build the static governance site from the run's lake, warehouse and model registry."""
    from orchestration.report.site import build_site

    _use_stack(args.on_stack)
    print(f"governance report: {build_site(get_settings(), args.out, dbt_docs=args.dbt_docs)}")


def cmd_stack(args: argparse.Namespace) -> None:
    """The local stack: PostgreSQL, Airflow, MLflow and the report server, behind logins."""
    from orchestration.stack import stack

    settings = get_settings()
    if args.action == "up":
        try:
            stack.up(settings)
        except RuntimeError as error:
            print(f"creditlake stack up: {error}", file=sys.stderr)
            print("(`make down` stops what did start)", file=sys.stderr)
            raise SystemExit(1) from None
    elif args.action == "down":
        stack.down(settings)
        print("stack stopped")
    else:
        found = stack.status(settings)
        urls = stack.urls(settings)
        for name, state in found.items():
            print(f"{name:<22} {state}")
        print("\n".join(f"{name:<22} {url}" for name, url in urls.items()))
        if any(state != "healthy" and state != "running" for state in found.values()):
            raise SystemExit(1)


def cmd_bench(args: argparse.Namespace) -> None:
    """Generate a landing zone, then measure order independence or the warehouse's daily cost."""
    from generator import generate
    from orchestration import lake_bench

    settings = get_settings()
    config = dataclasses.replace(_generator_config(args), late_source=None)
    lake_bench.clean(settings.home / "bench")
    shutil.rmtree(settings.lake_dir, ignore_errors=True)
    shutil.rmtree(settings.warehouse_path.parent, ignore_errors=True)
    generate(config, settings)
    dates = [config.extract_date + dt.timedelta(days=n) for n in range(config.days + 1)]
    if args.measure == "order":
        result = lake_bench.order_independence(settings, dates, settings.home / "bench")
        reference = result["runs"]["in order"]
        print(f"{'table':<45} {'rows':>9}  checksum (in order; re-run; reverse order)")
        for table, (rows, digest) in reference.items():
            same = [run[table] == (rows, digest) for run in result["runs"].values()]
            print(f"{table:<45} {rows:>9}  {digest[:16]}  {'identical' if all(same) else 'DIFFER'}")
        print(f"{result['tables']} tables, {len(result['differing'])} differing")
        if result["differing"]:
            raise SystemExit(1)
    else:
        result = lake_bench.warehouse_cost(settings, dates)
        print(json.dumps(result, indent=2))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="creditlake", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    p = commands.add_parser("generate", help="write seeded source files into the landing zone")
    _generator_args(p)
    p.set_defaults(func=cmd_generate, needs=(FOLDERS, LANDING))

    p = commands.add_parser("deliver-late", help="deliver the files the generator held back")
    p.set_defaults(func=cmd_deliver_late, needs=(FOLDERS, LANDING))

    p = commands.add_parser("init-secrets", help="create a random local PII key if none is set")
    p.set_defaults(func=cmd_init_secrets, needs=(FOLDERS,))

    p = commands.add_parser("demo", help="generate data and run every DAG through Airflow")
    _generator_args(p)
    p.add_argument(
        "--on-stack",
        action="store_true",
        help="run every DAG on the local stack's scheduler (`make up` first) instead of dag.test",
    )
    p.set_defaults(func=cmd_demo, needs=(JAVA, FOLDERS, LANDING, CATALOG))

    p = commands.add_parser("summary", help="print the platform summary of the last run")
    p.set_defaults(func=cmd_summary, needs=(FOLDERS, CATALOG))

    p = commands.add_parser(
        "german-credit", help="repeated cross-validation of both models on German Credit"
    )
    p.add_argument("--repeats", type=int, default=10)
    p.add_argument("--folds", type=int, default=5)
    p.set_defaults(func=cmd_german_credit, needs=(FOLDERS,))

    p = commands.add_parser("pii-scan", help="scan lake, warehouse and MLflow for raw identifiers")
    p.set_defaults(func=cmd_pii_scan, needs=(FOLDERS, CATALOG))

    p = commands.add_parser(
        "new-source",
        help="scaffold a landing source: registry entry, dbt source YAML, staging model",
        description="Example: creditlake new-source --name device_fingerprints --domain "
        "customer_behaviour --format jsonl --key fingerprint_id --column "
        "fingerprint_id:string:required --column customer_id:string:required --column "
        "device_id:string:required:pii --column seen_at:timestamp:required",
    )
    p.add_argument("--name", required=True, help="source name, lower_snake_case (the file stem)")
    p.add_argument("--domain", required=True, help="the ingestion DAG that delivers it")
    p.add_argument("--format", required=True, choices=["csv", "jsonl"])
    p.add_argument("--key", required=True, help="the business key column")
    p.add_argument(
        "--column",
        action="append",
        required=True,
        help="name:type[:required][:pii][:positive][:non_negative], in file order; repeat",
    )
    p.add_argument("--description", help="one sentence on what the source holds")
    p.set_defaults(func=cmd_new_source)

    p = commands.add_parser(
        "reproduce",
        help="rebuild a model version's training set from its lake snapshots; compare hashes",
    )
    p.add_argument("--model", default="credit_pd")
    p.add_argument("--version", required=True, help="the registered version, e.g. 3")
    p.set_defaults(func=cmd_reproduce, needs=(FOLDERS, CATALOG))

    p = commands.add_parser(
        "models", help="a model's alias history (audit log); promote or roll back by hand"
    )
    actions = p.add_subparsers(dest="action", required=True)
    q = actions.add_parser("history", help="every alias move of a model, and the registry check")
    q.add_argument("name", help="registered model, e.g. credit_pd")
    q = actions.add_parser("promote", help="give a version an alias (logged with your reason)")
    q.add_argument("name")
    q.add_argument("version")
    q.add_argument("--alias", default="champion")
    q.add_argument("--reason", required=True, help="why, for the audit log")
    q = actions.add_parser("rollback", help="give the alias back to its previous holder")
    q.add_argument("name")
    q.add_argument("--alias", default="champion")
    q.add_argument("--reason", required=True, help="why, for the audit log")
    p.set_defaults(func=cmd_models, needs=(FOLDERS, CATALOG))

    p = commands.add_parser(
        "report", help="build the governance site (quality, quarantine, PII, lineage, models)"
    )
    p.add_argument(
        "--on-stack",
        action="store_true",
        help="after `demo --on-stack`: read the models from the stack's MLflow server",
    )
    p.add_argument(
        "--out",
        type=Path,
        help="folder of the site (default: <reports dir>/governance); its links are relative",
    )
    p.add_argument(
        "--no-dbt-docs",
        dest="dbt_docs",
        action="store_false",
        help="do not run `dbt docs generate` (the site then links no dbt docs)",
    )
    p.set_defaults(func=cmd_report, needs=(FOLDERS, CATALOG))

    p = commands.add_parser(
        "bench",
        help="measure the lake: order independence of loads and builds, or the daily build cost",
    )
    p.add_argument("measure", choices=["order", "warehouse-cost"])
    _generator_args(p)
    p.set_defaults(func=cmd_bench, needs=(JAVA, FOLDERS, LANDING, CATALOG))

    p = commands.add_parser(
        "stack",
        help="the local stack (PostgreSQL, Airflow, MLflow, reports) on 127.0.0.1, with logins",
    )
    p.add_argument("action", choices=["up", "down", "status"])
    p.set_defaults(func=cmd_stack, needs=(FOLDERS,))

    p = commands.add_parser(
        "doctor",
        help="check the configuration (Java, packages, settings, folders, key, landing, "
        "catalog, MLflow, Airflow DB): one pass/fail line each",
    )
    p.set_defaults(func=cmd_doctor)

    p = commands.add_parser("env", help="print export lines for the airflow/dbt CLIs")
    p.set_defaults(func=cmd_env)
    return parser


def main(argv: list[str] | None = None) -> None:
    """Run a sub-command; a configuration mistake is one line on stderr and exit status 2.

    What a command's settings point at (``needs``: folders, landing zone, catalog) is checked
    before it starts, so a mistake there stops it at once rather than halfway through.
    """
    args = build_parser().parse_args(argv)
    try:
        needs = getattr(args, "needs", ())
        if needs:
            check_configuration(get_settings(), needs)
        args.func(args)
    except SettingsError as error:
        print(f"creditlake: {error.line()}", file=sys.stderr)
        raise SystemExit(2) from None


if __name__ == "__main__":
    main()
