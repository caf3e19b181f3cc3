"""Screenshots of a running stack after ``creditlake demo --on-stack``, one set per user.

The README's pictures come from here, so that they show a real demo, not the tests' small run::

    make up && .venv/bin/creditlake demo --on-stack && .venv/bin/creditlake report --on-stack
    .venv/bin/python tests/stack/demo_screenshots.py var/screenshots

It runs the same browser checks as ``test_runs_on_the_stack`` (each one waits for the text it
checks before its screenshot): the warehouse DAG's grid and runs, the credit PD champion's model
and version pages, the governance report and the Data Docs. Settings (the home, the ports) come
from the environment, as for ``creditlake stack``.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path[:0] = [str(Path(__file__).parent), str(Path(__file__).parents[1])]

from browser_checks import (  # noqa: E402
    Login,
    StackFacts,
    airflow_login,
    check_airflow_dags,
    check_airflow_runs,
    check_mlflow_champion,
    check_report_pages,
    loopback_browser,
)

from creditlake import ledger  # noqa: E402
from creditlake.lake import Lake  # noqa: E402
from creditlake.secrets import read_secret  # noqa: E402
from creditlake.settings import get_settings  # noqa: E402
from orchestration.stack.accounts import PEOPLE  # noqa: E402
from orchestration.stack.airflow import base_url as airflow_url  # noqa: E402
from orchestration.stack.mlflow import base_url as mlflow_url  # noqa: E402
from orchestration.stack.runs import run_id  # noqa: E402

DAG = "transform__warehouse"
MODEL = "credit_pd"


def main(out: Path) -> None:
    import datetime as dt

    import mlflow

    settings = get_settings()
    logins = {
        a.username: Login(a.username, read_secret(settings, f"users/{a.username}")) for a in PEOPLE
    }
    reports = f"http://127.0.0.1:{settings.stack_reports_port}"
    airflow, tracking = airflow_url(settings), mlflow_url(settings)
    os.environ["MLFLOW_TRACKING_USERNAME"] = "governance_reviewer"
    os.environ["MLFLOW_TRACKING_PASSWORD"] = logins["governance_reviewer"].password
    champion = mlflow.MlflowClient(tracking).get_model_version_by_alias(MODEL, "champion")
    dates = sorted(
        {r.as_of_date.isoformat() for r in ledger.deliveries(Lake.from_settings(settings))}
    )
    facts = StackFacts(
        dag_id=DAG,
        run_ids=tuple(run_id(DAG, dt.date.fromisoformat(d)) for d in dates),
        model_name=MODEL,
        champion_version=str(champion.version),
        report_date=dates[-1],
        data_docs_suite="bronze_transactions",
    )
    with loopback_browser(out) as browser:
        for user, login in logins.items():
            page = airflow_login(browser, airflow, login)
            check_airflow_dags(page, airflow, user, browser, [DAG])
            page.goto(f"{airflow}/dags/{DAG}", wait_until="load")
            page.get_by_text("wait_for_bronze").first.wait_for()
            page.wait_for_timeout(3000)  # the grid's bars draw after its task list
            browser.shot(page, user, "airflow_grid")
            check_airflow_runs(page, airflow, user, browser, facts)
            page.context.close()
            check_mlflow_champion(browser, tracking, login, facts).context.close()
            check_report_pages(
                browser,
                reports,
                login,
                {
                    "governance_report": ("/governance/", facts.report_date),
                    "data_docs": ("/data-docs/", facts.data_docs_suite),
                },
            )
        assert browser.refused == [], browser.refused
    print(f"screenshots of {len(logins)} users in {out}")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "var/screenshots"))
