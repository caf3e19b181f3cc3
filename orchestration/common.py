"""Defaults, assets and sensors every creditlake DAG shares."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pendulum
from airflow.sdk import Asset, BaseSensorOperator
from airflow.sdk.definitions.retry_policy import ExceptionRetryPolicy, RetryAction, RetryRule
from airflow.sdk.exceptions import AirflowFailException, AirflowSensorTimeout

from creditlake import preflight
from creditlake.settings import Settings, SettingsError, get_settings, read_settings

#: The first logical date the platform knows: the initial full extract.
START_DATE = pendulum.datetime(2026, 1, 1, tz="UTC")


def parse_settings() -> Settings:
    """The settings a DAG file is built with: a wrong value is replaced by its default here.

    A DAG file must import even when the configuration is wrong, so that the DAG shows, with the
    mistake written on it (:func:`dag_doc`), and its tasks fail at once saying what it is
    (:func:`check_configuration`), instead of the DAG vanishing behind an import error.
    """
    return read_settings()[0]


def dag_doc(doc_md: str | None) -> str | None:
    """A DAG's documentation, headed by the configuration mistakes its tasks will fail on."""
    errors = read_settings()[1]
    if not errors:
        return doc_md
    heading = "**Configuration errors: every task of this DAG fails until they are fixed**"
    lines = "\n".join(f"- {error}" for error in errors)
    return f"{heading}\n\n{lines}\n\n{doc_md or ''}"


class ConfigurationExit(SystemExit):
    """A configuration mistake ending a task: its code is the mistake's one line.

    Airflow's task runner logs a ``SystemExit`` as one error line carrying its code ("Task exited
    exit_code=...") where it logs any other exception with a traceback, and the mistake is all the
    person on call needs; :data:`RETRY_POLICY` then fails the task without retries.
    """


#: Every task's retry policy: a configuration mistake fails at once (it will not fix itself in
#: five minutes); every other failure keeps the task's retries.
RETRY_POLICY = ExceptionRetryPolicy(
    rules=[
        RetryRule(
            exception=ConfigurationExit,
            action=RetryAction.FAIL,
            reason="a configuration mistake: fix the setting, then clear the task",
        )
    ]
)


def check_configuration(*needs: str) -> Callable[[Any], None]:
    """A task's ``pre_execute``: settings and what they point at (``needs``, see
    :mod:`creditlake.preflight`) are checked before the task starts.

    A mistake fails the task at once, without retries and without a traceback
    (:class:`ConfigurationExit`), with its one-line message; the checks pass once per process.
    """

    def check(context: Any) -> None:
        try:
            preflight.check(get_settings(), needs)
        except SettingsError as error:
            raise ConfigurationExit(error.line()) from None

    return check


DEFAULT_ARGS: dict[str, Any] = {
    "owner": "data-engineering",
    "retries": 2,
    "retry_delay": dt.timedelta(seconds=parse_settings().retry_delay_seconds),
    "retry_exponential_backoff": True,
    "pre_execute": check_configuration(preflight.FOLDERS, preflight.CATALOG),
    "retry_policy": RETRY_POLICY,
}


def timetable(cron: str) -> str | None:
    """A DAG's schedule: ``cron``, or ``None`` (triggered runs only) where schedules are off.

    The local stack turns them off (``CREDITLAKE_SCHEDULES``): its scheduler runs the dates the
    demo or a data engineer triggers, instead of adding a run for today the moment a DAG is
    unpaused, with no landing data behind it.
    """
    return cron if parse_settings().schedules else None


def bronze_asset(source: str) -> Asset:
    """The bronze table of one source, as Airflow lineage sees it."""
    return Asset(name=f"bronze.{source}", uri=f"creditlake://bronze/{source}", group="bronze")


def marts_asset() -> Asset:
    return Asset(name="warehouse.marts", uri="creditlake://warehouse/marts", group="warehouse")


def model_asset(model: str = "credit_pd") -> Asset:
    return Asset(name=f"model.{model}", uri=f"creditlake://mlflow/{model}", group="ml")


def scores_asset() -> Asset:
    return Asset(
        name="ml.application_scores", uri="creditlake://warehouse/ml/application_scores", group="ml"
    )


def as_of_date_of_interval(data_interval_start: dt.datetime) -> dt.date:
    """The one rule for a run's date: the day its data interval starts, never ``now()``.

    Every task hands this date, under the name ``as_of_date``, to the layer it drives: the Spark
    job, the dbt vars, the Great Expectations gate and training or scoring.
    """
    return data_interval_start.date()


def as_of_date_of(context: dict[str, Any]) -> dt.date:
    """The as-of date of the running task, from its Airflow context."""
    return as_of_date_of_interval(context["data_interval_start"])


#: The same date inside templated operator arguments (the dbt vars Cosmos renders): DAGs that use
#: it register :data:`AS_OF_DATE_MACROS` so the template calls the function above.
AS_OF_DATE_MACROS: dict[str, Callable] = {"as_of_date_of_interval": as_of_date_of_interval}
AS_OF_DATE_TEMPLATE = "{{ as_of_date_of_interval(data_interval_start).isoformat() }}"


def fail_on(*errors: type[BaseException]) -> Callable:
    """Turn expected data errors, and configuration mistakes, into a failure without retries.

    A bad file, a failed quality gate or a missing key will not fix itself in five minutes, so
    retrying only delays the alert; infrastructure errors (anything else) keep the normal
    retries.
    """

    def decorate(function: Callable) -> Callable:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            try:
                return function(*args, **kwargs)
            except SettingsError as error:
                raise ConfigurationExit(error.line()) from None
            except errors as error:
                raise AirflowFailException(str(error)) from error

        wrapper.__name__ = function.__name__
        wrapper.__doc__ = function.__doc__
        return wrapper

    return decorate


class WaitSensor(BaseSensorOperator):
    """Poke a check until it passes; on timeout fail with a message that says what was missing.

    Airflow's own timeout message only gives durations; whoever is on call needs to know which
    file or partition never arrived.
    """

    def __init__(self, *, check: Callable[[dict[str, Any]], str | None], **kwargs: Any) -> None:
        settings = parse_settings()
        kwargs.setdefault("poke_interval", settings.sensor_poke_seconds)
        kwargs.setdefault("timeout", settings.sensor_timeout_seconds)
        kwargs.setdefault("mode", "poke")
        super().__init__(**kwargs)
        self._check = check
        self._missing: str | None = None

    def poke(self, context: Any) -> bool:
        self._missing = self._check(context)
        if self._missing:
            self.log.info("waiting for %s", self._missing)
        return self._missing is None

    def execute(self, context: Any) -> Any:
        try:
            return super().execute(context)
        except AirflowSensorTimeout as error:
            raise AirflowSensorTimeout(
                f"{self._missing} did not arrive within {self.timeout:.0f} s "
                f"(logical date {as_of_date_of(context)})"
            ) from error


def quality_docs_task() -> Any:
    """``publish_quality_docs``: the Data Docs pages of the run's validations and the site index,
    rendered once at the end of the DAG run instead of inside each gate.

    A teardown task (Airflow's setup/teardown): it runs after its upstream gates whether they
    passed or failed, since a failed validation is the page a reviewer most needs, and Airflow
    leaves teardowns out of the run's state, so a run whose gate failed still fails. Returns how
    many validations it rendered (:func:`expectations.data_docs.render_data_docs`).
    """
    from airflow.sdk import task

    @task(task_id="publish_quality_docs")
    def publish_quality_docs() -> int:
        """Render the Data Docs of this run's validations (and any left queued) and the index."""
        from expectations.data_docs import render_data_docs

        return fail_on()(render_data_docs)(get_settings())

    return publish_quality_docs().as_teardown()
