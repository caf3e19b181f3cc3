"""The one place that reads the environment.

Every environment-specific value (where data lives, the Spark master, the MLflow tracking URI,
where secrets live, policy thresholds) comes from here, so switching from the embedded default to
a cluster or managed services is configuration, never a code edit. Nothing else in creditlake
reads ``os.environ``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from creditlake.policy import DEFAULT_POLICY, Policy

PROJECT_ROOT = Path(__file__).resolve().parent.parent
#: The dbt project; its ``target/manifest.json`` (written by ``dbt parse``) is where training and
#: scoring read column metadata.
DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"
#: dbt's target folder: ``target`` in the project, or dbt's own ``DBT_TARGET_PATH`` where it is set
#: (relative to the project, as dbt reads it), so that processes building in parallel (the test
#: workers) keep their manifests apart.
DBT_TARGET_DIR = DBT_PROJECT_DIR / (os.environ.get("DBT_TARGET_PATH") or "target")
DBT_MANIFEST_PATH = DBT_TARGET_DIR / "manifest.json"
#: The npm packages of the CSS, JavaScript and fonts that the platform's HTML pages load
#: (``web/package.json``, installed by ``make setup``).
WEB_ASSETS_DIR = PROJECT_ROOT / "web" / "node_modules"


class SettingsError(ValueError):
    """Every configuration mistake, wherever it is found: what is wrong, and how to fix it.

    One family with one formatter, so that the CLI, the jobs and the Airflow tasks all report a
    mistake the same way: one line (:meth:`line`) naming the setting, the value's problem and the
    fix, never a traceback. ``problem`` names the setting (``CREDITLAKE_APR_CAP='abc' is not a
    number``); ``fix`` says what to do about it.
    """

    def __init__(self, problem: str, fix: str = "") -> None:
        self.problem, self.fix = problem, fix
        text = f"{problem}; {fix}" if fix else problem
        super().__init__(" ".join(text.split()))  # one line, whatever a driver's message held

    def line(self) -> str:
        """The line every entry point prints (after its own name) for a configuration mistake."""
        return f"configuration error: {self}"


@dataclass(frozen=True)
class Number:
    """A numeric setting: its variable, default and allowed range (both ends inclusive).

    Integers when the default is an ``int``, decimals otherwise. Every numeric setting is a row of
    :data:`NUMBERS`, so its type and range are checked in one place.
    """

    field: str
    env: str
    default: int | float
    low: float | None = None
    high: float | None = None

    @property
    def kind(self) -> str:
        return "an integer" if isinstance(self.default, int) else "a number"

    def allowed(self) -> str:
        """What the setting accepts, in words: ``a number between 0 and 1``."""
        if self.low is not None and self.high is not None:
            return f"{self.kind} between {self.low:g} and {self.high:g}"
        if self.low is not None:
            return f"{self.kind} of at least {self.low:g}"
        return self.kind

    def fix(self) -> str:
        return f"set it to {self.allowed()}, or unset it for the default {self.default!r}"

    def parse(self, raw: str) -> int | float:
        """The value of ``raw``; :class:`SettingsError` when it is of the wrong type or range."""
        try:
            value = int(raw) if isinstance(self.default, int) else float(raw)
        except ValueError:
            raise SettingsError(f"{self.env}={raw!r} is not {self.kind}", self.fix()) from None
        if (
            value != value
            or (self.low is not None and value < self.low)
            or (self.high is not None and value > self.high)
        ):  # value != value: NaN, which float() accepts
            raise SettingsError(f"{self.env}={raw!r} is out of range", self.fix())
        return value


#: Every numeric setting: ``Settings`` field (or ``Policy`` field for the caps), variable,
#: default, lowest and highest allowed value.
NUMBERS: tuple[Number, ...] = (
    Number("apr_cap", "CREDITLAKE_APR_CAP", DEFAULT_POLICY.apr_cap, 0, 1),
    Number("credit_limit_cny", "CREDITLAKE_CREDIT_LIMIT_CNY", DEFAULT_POLICY.credit_limit_cny, 0),
    Number("spark_shuffle_partitions", "CREDITLAKE_SPARK_SHUFFLE_PARTITIONS", 4, 1),
    Number("spark_thrift_port", "CREDITLAKE_SPARK_THRIFT_PORT", 10000, 1, 65535),
    Number("sensor_timeout_seconds", "CREDITLAKE_SENSOR_TIMEOUT_SECONDS", 6 * 3600, 1),
    Number("sensor_poke_seconds", "CREDITLAKE_SENSOR_POKE_SECONDS", 60, 1),
    Number("retry_delay_seconds", "CREDITLAKE_RETRY_DELAY_SECONDS", 300, 0),
    Number("psi_watch", "CREDITLAKE_PSI_WATCH", 0.10, 0),
    Number("psi_act", "CREDITLAKE_PSI_ACT", 0.25, 0),
    Number("champion_min_auc", "CREDITLAKE_CHAMPION_MIN_AUC", 0.65, 0, 1),
    Number("champion_min_ks", "CREDITLAKE_CHAMPION_MIN_KS", 0.20, 0, 1),
    Number("champion_max_auc_drop", "CREDITLAKE_CHAMPION_MAX_AUC_DROP", 0.005, 0, 1),
    Number("gate_calibration_tolerance", "CREDITLAKE_GATE_CALIBRATION_TOLERANCE", 0.05, 0, 1),
    Number("gate_fairness_min_ratio", "CREDITLAKE_GATE_FAIRNESS_MIN_RATIO", 0.8, 0, 1),
    Number("gate_fairness_min_group_rows", "CREDITLAKE_GATE_FAIRNESS_MIN_GROUP_ROWS", 50, 1),
    Number("monitoring_auc_warn_drop", "CREDITLAKE_MONITORING_AUC_WARN_DROP", 0.05, 0, 1),
    Number("monitoring_auc_fail_drop", "CREDITLAKE_MONITORING_AUC_FAIL_DROP", 0.10, 0, 1),
    Number("monitoring_min_bads", "CREDITLAKE_MONITORING_MIN_BADS", 30, 1),
    Number("monitoring_min_rows", "CREDITLAKE_MONITORING_MIN_ROWS", 200, 1),
    Number("max_quarantine_rate", "CREDITLAKE_MAX_QUARANTINE_RATE", 0.05, 0, 1),
    Number("ingest_deadline_seconds", "CREDITLAKE_INGEST_DEADLINE_SECONDS", 0, 0),
    Number("snapshot_retention", "CREDITLAKE_SNAPSHOT_RETENTION", 60, 1),
    Number("stack_postgres_port", "CREDITLAKE_STACK_POSTGRES_PORT", 5433, 1, 65535),
    Number("stack_airflow_port", "CREDITLAKE_STACK_AIRFLOW_PORT", 8080, 1, 65535),
    Number("stack_mlflow_port", "CREDITLAKE_STACK_MLFLOW_PORT", 5000, 1, 65535),
    Number("stack_reports_port", "CREDITLAKE_STACK_REPORTS_PORT", 8081, 1, 65535),
)
#: Pairs of numeric settings whose first must stay below its second (a warning level below the
#: level that acts on it).
ORDERED: tuple[tuple[str, str], ...] = (
    ("psi_watch", "psi_act"),
    ("monitoring_auc_warn_drop", "monitoring_auc_fail_drop"),
)


@dataclass(frozen=True)
class Size:
    """A memory size in the syntax of the tool that reads it (Spark's ``2g``, DuckDB's ``2GB``)."""

    field: str
    env: str
    default: str
    pattern: str
    example: str

    def parse(self, raw: str) -> str:
        if not re.fullmatch(self.pattern, raw.strip(), flags=re.IGNORECASE):
            raise SettingsError(
                f"{self.env}={raw!r} is not a memory size",
                f"set it to a size such as {self.example}, or unset it for the default "
                f"{self.default!r}",
            )
        return raw.strip()


#: Memory sizes, checked here rather than by Spark's JVM or DuckDB halfway through a job.
SIZES: tuple[Size, ...] = (
    Size(
        "spark_driver_memory",
        "CREDITLAKE_SPARK_DRIVER_MEMORY",
        "2g",
        r"\d+\s*([kmgtp]b?)?",
        "'2g' or '1536m'",
    ),
    Size(
        "duckdb_memory_limit",
        "CREDITLAKE_DUCKDB_MEMORY_LIMIT",
        "2GB",
        r"\d+(\.\d+)?\s*([kmgt]i?b|b)",
        "'2GB' or '512MB'",
    ),
)


def _env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


class _Reader:
    """Reads settings, collecting every mistake instead of stopping at the first.

    A value that is wrong is replaced by its default and its error kept: ``get_settings`` raises
    the first, while the DAG files (which must import to show the error) and ``creditlake
    doctor`` (which lists them all) go on with the defaults.
    """

    def __init__(self) -> None:
        self.errors: list[SettingsError] = []

    def _checked(self, parse: Callable[[str], Any], raw: str, default: Any) -> Any:
        try:
            return parse(raw)
        except SettingsError as error:
            self.errors.append(error)
            return default

    def number(self, spec: Number) -> int | float:
        raw = _env(spec.env)
        return spec.default if raw is None else self._checked(spec.parse, raw, spec.default)

    def size(self, spec: Size) -> str:
        raw = _env(spec.env)
        return spec.default if raw is None else self._checked(spec.parse, raw, spec.default)

    def boolean(self, name: str, default: bool) -> bool:
        def parse(raw: str) -> bool:
            value = raw.strip().lower()
            if value in ("1", "true", "yes", "on"):
                return True
            if value in ("0", "false", "no", "off"):
                return False
            raise SettingsError(
                f"{name}={raw!r} is not a boolean",
                f"set it to true or false, or unset it for the default {str(default).lower()}",
            )

        raw = _env(name)
        return default if raw is None else self._checked(parse, raw, default)

    def choice(self, name: str, default: str, choices: tuple[str, ...]) -> str:
        def parse(raw: str) -> str:
            if raw not in choices:
                raise SettingsError(
                    f"{name}={raw!r} is not one of {', '.join(choices)}",
                    f"set one of them, or unset it for the default {default!r}",
                )
            return raw

        return self._checked(parse, _env(name, default), default)

    def ordered(self, numbers: dict[str, Any]) -> None:
        envs = {spec.field: spec.env for spec in NUMBERS}
        for low, high in ORDERED:
            if numbers[low] >= numbers[high]:
                self.errors.append(
                    SettingsError(
                        f"{envs[low]}={numbers[low]!r} is not below {envs[high]}={numbers[high]!r}",
                        f"set {envs[low]} lower than {envs[high]}",
                    )
                )


#: dbt targets of ``dbt_project/profiles.yml``: DuckDB (``dev``) or a Spark Thrift Server.
DBT_TARGETS = ("dev", "spark")
#: Catalogs the lake can use (pyiceberg's SQL catalog, or AWS Glue).
CATALOG_TYPES = ("sql", "glue")
#: Where secrets live: files under ``secrets_dir``, or AWS Secrets Manager.
SECRETS_BACKENDS = ("local", "aws")
#: What lands bronze: in-process DuckDB (the embedded default) or Spark (the cluster path).
INGEST_ENGINES = ("duckdb", "spark")
#: What scores the month end's book for limit proposals (``ml.limits``): the champion's pyfunc
#: on a pandas frame in the task's process (the embedded default) or a Spark UDF (the cluster path).
LIMITS_ENGINES = ("pandas", "spark")


def embedded_engine(spark_master: str, embedded: str) -> str:
    """``embedded`` when Spark would run in this process anyway (``local[...]``), else ``spark``.

    The one rule behind every engine default: on the embedded path a task pays no JVM start
    for work an in-process engine does as well; a cluster or Spark Connect master means the
    cluster path.
    """
    return embedded if spark_master.startswith("local") else "spark"


def default_ingest_engine(spark_master: str) -> str:
    """DuckDB on the embedded path (:func:`embedded_engine`): no JVM start per source and day."""
    return embedded_engine(spark_master, "duckdb")


@dataclass(frozen=True)
class Settings:
    """Resolved configuration. Build it with :func:`get_settings`."""

    home: Path
    landing_uri: str
    lake_dir: Path
    warehouse_path: Path
    spark_master: str
    spark_driver_memory: str
    spark_shuffle_partitions: int
    #: The dbt target the warehouse builds on (``DBT_TARGETS``), and the Spark Thrift Server
    #: the ``spark`` target connects to (EMR's, or a local one on loopback).
    dbt_target: str
    spark_thrift_host: str
    spark_thrift_port: int
    mlflow_tracking_uri: str
    mlflow_artifact_root: str
    s3_endpoint_url: str | None
    #: The Iceberg catalog of the governed tables: ``sql`` (SQLite file or PostgreSQL by URI)
    #: or ``glue``; see :mod:`creditlake.catalog`.
    catalog_type: str
    catalog_uri: str
    catalog_warehouse: str
    catalog_region: str
    #: The lending policy in force (caps overridable per deployment; see creditlake.policy).
    policy: Policy
    sensor_timeout_seconds: int
    sensor_poke_seconds: int
    retry_delay_seconds: int
    psi_watch: float
    psi_act: float
    champion_min_auc: float
    champion_min_ks: float
    champion_max_auc_drop: float
    #: Champion gate, calibration: a decile's observed bad rate may differ from its mean
    #: predicted PD by this much plus two binomial standard errors (``ml.criteria``).
    gate_calibration_tolerance: float = 0.05
    #: Champion gate, fairness: the lowest approval rate of a group's values over the highest
    #: (four-fifths rule), judged only over values with at least ``gate_fairness_min_group_rows``.
    gate_fairness_min_ratio: float = 0.8
    gate_fairness_min_group_rows: int = 50
    #: Monitoring (``ml.monitoring``): a matured month's AUC this far below the champion's
    #: out-of-time AUC warns, and this far below fails. A month is judged only with at least
    #: ``monitoring_min_bads`` bads and as many goods: below that its AUC is noise.
    monitoring_auc_warn_drop: float = 0.05
    monitoring_auc_fail_drop: float = 0.10
    monitoring_min_bads: int = 30
    #: Monitoring: a month with fewer rows has its PSI reported but not judged (ten bins of n rows
    #: give a PSI of about 9/n from sampling alone).
    monitoring_min_rows: int = 200
    #: Ingest: above this share of quarantined rows a delivery fails as a whole (a source in the
    #: registry may set its own, ``Source.max_quarantine_rate``).
    max_quarantine_rate: float = 0.05
    #: Ingest: refuse a delivery without its control file ``<file>.ctl.json``.
    require_control_file: bool = False
    #: Where the web assets of the HTML pages are installed (see ``expectations.offline_docs``).
    web_assets_dir: Path = WEB_ASSETS_DIR
    #: Ingest SLA: an ingest DAG run not finished this long after it was queued is recorded as a
    #: missed deadline by the scheduler (``orchestration.deadlines``); 0 declares no deadline.
    #: Off by default: Airflow 3.3's ``dag.test`` (the demo, the tests) fails a DAG that declares
    #: one. A deployment with a scheduler sets it below the sensor timeout (e.g. 14400).
    ingest_deadline_seconds: int = 0
    #: The lake: each bronze and quarantine table keeps the newest this-many snapshots of its
    #: published history readable (time travel, a build's pinned snapshot; a delivery adds one,
    #: a re-run two, so 60 is about two months of daily dates); older ones are expired at each
    #: publish, as
    #: Iceberg's snapshot expiry does, so a commit costs the same after a year as after a week.
    snapshot_retention: int = 60
    #: OpenLineage: the namespace of creditlake's jobs, and an HTTP endpoint (e.g. Marquez,
    #: ``http://host:5000``) that also receives every event; the files under ``lineage_dir`` are
    #: always written (see ``orchestration.lineage_events``).
    lineage_namespace: str = "creditlake"
    lineage_url: str | None = None
    #: Where every secret lives (``creditlake.secrets``): ``local`` files under ``secrets_dir``
    #: (a folder only its owner can read; the local stack's generated passwords too), or ``aws``
    #: Secrets Manager, each secret named ``<secrets_prefix>/<name>`` as the Terraform secrets
    #: module names them.
    secrets_backend: str = "local"
    secrets_dir: Path = PROJECT_ROOT / "var" / "secrets"
    secrets_prefix: str = "creditlake"
    #: The local stack's loopback ports (``creditlake stack up``, ``orchestration.stack``).
    stack_postgres_port: int = 5433
    stack_airflow_port: int = 8080
    stack_mlflow_port: int = 5000
    stack_reports_port: int = 8081
    #: The user creditlake's own MLflow calls log in as, when the tracking server asks for one
    #: (the stack's ``pipeline`` account); the password is that user's secret, read when MLflow
    #: is configured (``ml.tracking``) so that it sits in no process's environment.
    mlflow_user: str | None = None
    #: The engine of the ingest transform (``spark_jobs.ingest``): ``duckdb`` or ``spark``;
    #: both write the same bronze and quarantine (the parity tests prove it).
    ingest_engine: str = "duckdb"
    #: The engine that scores the book for limit proposals (``ml.limits``): ``pandas`` or
    #: ``spark``; both give the same proposals (the parity test proves it).
    limits_engine: str = "pandas"
    #: The DuckDB ingest engine's memory limit (DuckDB syntax, ``2GB``); beyond it DuckDB spills
    #: to the staging folder.
    duckdb_memory_limit: str = "2GB"
    #: Whether the DAGs carry their timetables (``@daily``, ``@weekly``). Off, every DAG runs only
    #: when triggered: the local stack runs the demo's dates, and a scheduler would otherwise add
    #: a run for today as soon as a DAG is unpaused.
    schedules: bool = True

    # Derived locations -------------------------------------------------------------------------
    @property
    def landing_is_s3(self) -> bool:
        return self.landing_uri.startswith("s3://")

    @property
    def staging_dir(self) -> Path:
        """Local scratch space (e.g. files fetched from S3 before Spark reads them)."""
        return self.home / "tmp"

    @property
    def oracle_dir(self) -> Path:
        """The generator's ground truth (true PD per loan). Never read by the pipeline."""
        return self.home / "oracle"

    @property
    def gx_dir(self) -> Path:
        return self.home / "gx"

    @property
    def reports_dir(self) -> Path:
        return self.home / "reports"

    @property
    def airflow_home(self) -> Path:
        return self.home / "airflow"

    @property
    def stack_dir(self) -> Path:
        """The local stack's PostgreSQL cluster, pid files, logs and MLflow artifacts."""
        return self.home / "stack"

    @property
    def lineage_dir(self) -> Path:
        """OpenLineage events of every DAG run, one JSON file per event."""
        return self.home / "lineage"


def read_settings() -> tuple[Settings, list[SettingsError]]:
    """The settings, with every wrong value replaced by its default, and the mistakes found.

    For the callers that must go on despite a mistake and show it: a DAG file (it must import,
    so the error shows on the DAG and fails its tasks) and ``creditlake doctor``.
    """
    read = _Reader()
    home = Path(_env("CREDITLAKE_HOME", str(PROJECT_ROOT / "var"))).resolve()
    lake_dir = Path(_env("CREDITLAKE_LAKE_DIR", str(home / "lake"))).resolve()
    mlflow_dir = home / "mlflow"
    spark_master = _env("CREDITLAKE_SPARK_MASTER", "local[2]")
    numbers = {spec.field: read.number(spec) for spec in NUMBERS}
    read.ordered(numbers)
    sizes = {spec.field: read.size(spec) for spec in SIZES}
    policy = Policy(
        apr_cap=numbers.pop("apr_cap"), credit_limit_cny=numbers.pop("credit_limit_cny")
    )
    settings = Settings(
        home=home,
        landing_uri=_env("CREDITLAKE_LANDING_URI", str(home / "landing")),
        lake_dir=lake_dir,
        warehouse_path=Path(
            _env("CREDITLAKE_WAREHOUSE_PATH", str(home / "warehouse" / "creditlake.duckdb"))
        ).resolve(),
        spark_master=spark_master,
        dbt_target=read.choice("CREDITLAKE_DBT_TARGET", "dev", DBT_TARGETS),
        spark_thrift_host=_env("CREDITLAKE_SPARK_THRIFT_HOST", "127.0.0.1"),
        mlflow_tracking_uri=_env("MLFLOW_TRACKING_URI", f"sqlite:///{mlflow_dir / 'mlflow.db'}"),
        mlflow_artifact_root=_env(
            "CREDITLAKE_MLFLOW_ARTIFACT_ROOT", (mlflow_dir / "artifacts").as_uri()
        ),
        s3_endpoint_url=_env("CREDITLAKE_S3_ENDPOINT_URL"),
        catalog_type=read.choice("CREDITLAKE_CATALOG_TYPE", "sql", CATALOG_TYPES),
        catalog_uri=_env("CREDITLAKE_CATALOG_URI", f"sqlite:///{lake_dir / 'catalog.db'}"),
        catalog_warehouse=_env("CREDITLAKE_CATALOG_WAREHOUSE", (lake_dir / "iceberg").as_uri()),
        catalog_region=_env("CREDITLAKE_CATALOG_REGION", "us-east-1"),
        policy=policy,
        require_control_file=read.boolean("CREDITLAKE_REQUIRE_CONTROL_FILE", False),
        web_assets_dir=Path(_env("CREDITLAKE_WEB_ASSETS_DIR", str(WEB_ASSETS_DIR))).resolve(),
        lineage_namespace=_env("CREDITLAKE_LINEAGE_NAMESPACE", "creditlake"),
        lineage_url=_env("CREDITLAKE_LINEAGE_URL"),
        secrets_backend=read.choice("CREDITLAKE_SECRETS_BACKEND", "local", SECRETS_BACKENDS),
        secrets_dir=Path(_env("CREDITLAKE_SECRETS_DIR", str(home / "secrets"))).resolve(),
        secrets_prefix=_env("CREDITLAKE_SECRETS_PREFIX", "creditlake").strip("/"),
        mlflow_user=_env("CREDITLAKE_MLFLOW_USER"),
        schedules=read.boolean("CREDITLAKE_SCHEDULES", True),
        ingest_engine=read.choice(
            "CREDITLAKE_INGEST_ENGINE", default_ingest_engine(spark_master), INGEST_ENGINES
        ),
        limits_engine=read.choice(
            "CREDITLAKE_LIMITS_ENGINE", embedded_engine(spark_master, "pandas"), LIMITS_ENGINES
        ),
        **numbers,
        **sizes,
    )
    return settings, read.errors


def get_settings() -> Settings:
    """Read the environment once per call; cheap, so callers need not cache it.

    Raises the first configuration mistake (saying how many more there are: ``creditlake
    doctor`` lists them all).
    """
    settings, errors = read_settings()
    if errors:
        first = errors[0]
        if len(errors) > 1:
            more = f"{len(errors) - 1} more configuration error(s): run `creditlake doctor`"
            raise SettingsError(first.problem, f"{first.fix} ({more})" if first.fix else more)
        raise first
    return settings
