"""The one place that reads the environment.

Every environment-specific value (where data lives, the Spark master, the MLflow tracking URI,
where secrets live, policy thresholds) comes from here, so switching from the embedded default to
a cluster or managed services is configuration, never a code edit. Nothing else in creditlake
reads ``os.environ``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

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
    """A setting is missing or invalid; the message names the environment variable."""


def _env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def _float(name: str, default: float) -> float:
    raw = _env(name, str(default))
    try:
        return float(raw)
    except ValueError:
        raise SettingsError(f"{name}={raw!r} is not a number") from None


def _bool(name: str, default: bool) -> bool:
    raw = _env(name, "true" if default else "false")
    value = raw.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise SettingsError(f"{name}={raw!r} is not a boolean (true/false)")


def _rate(name: str, default: float) -> float:
    value = _float(name, default)
    if not 0 <= value <= 1:
        raise SettingsError(f"{name}={value!r} is not a share between 0 and 1")
    return value


def _int(name: str, default: int) -> int:
    raw = _env(name, str(default))
    try:
        return int(raw)
    except ValueError:
        raise SettingsError(f"{name}={raw!r} is not an integer") from None


def _choice(name: str, default: str, choices: tuple[str, ...]) -> str:
    raw = _env(name, default)
    if raw not in choices:
        raise SettingsError(f"{name}={raw!r} is not one of {', '.join(choices)}")
    return raw


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


def get_settings() -> Settings:
    """Read the environment once per call; cheap, so callers need not cache it."""
    home = Path(_env("CREDITLAKE_HOME", str(PROJECT_ROOT / "var"))).resolve()
    lake_dir = Path(_env("CREDITLAKE_LAKE_DIR", str(home / "lake"))).resolve()
    mlflow_dir = home / "mlflow"
    spark_master = _env("CREDITLAKE_SPARK_MASTER", "local[2]")
    return Settings(
        home=home,
        landing_uri=_env("CREDITLAKE_LANDING_URI", str(home / "landing")),
        lake_dir=lake_dir,
        warehouse_path=Path(
            _env("CREDITLAKE_WAREHOUSE_PATH", str(home / "warehouse" / "creditlake.duckdb"))
        ).resolve(),
        spark_master=spark_master,
        spark_driver_memory=_env("CREDITLAKE_SPARK_DRIVER_MEMORY", "2g"),
        spark_shuffle_partitions=_int("CREDITLAKE_SPARK_SHUFFLE_PARTITIONS", 4),
        dbt_target=_choice("CREDITLAKE_DBT_TARGET", "dev", DBT_TARGETS),
        spark_thrift_host=_env("CREDITLAKE_SPARK_THRIFT_HOST", "127.0.0.1"),
        spark_thrift_port=_int("CREDITLAKE_SPARK_THRIFT_PORT", 10000),
        mlflow_tracking_uri=_env("MLFLOW_TRACKING_URI", f"sqlite:///{mlflow_dir / 'mlflow.db'}"),
        mlflow_artifact_root=_env(
            "CREDITLAKE_MLFLOW_ARTIFACT_ROOT", (mlflow_dir / "artifacts").as_uri()
        ),
        s3_endpoint_url=_env("CREDITLAKE_S3_ENDPOINT_URL"),
        catalog_type=_choice("CREDITLAKE_CATALOG_TYPE", "sql", CATALOG_TYPES),
        catalog_uri=_env("CREDITLAKE_CATALOG_URI", f"sqlite:///{lake_dir / 'catalog.db'}"),
        catalog_warehouse=_env("CREDITLAKE_CATALOG_WAREHOUSE", (lake_dir / "iceberg").as_uri()),
        catalog_region=_env("CREDITLAKE_CATALOG_REGION", "us-east-1"),
        policy=Policy(
            apr_cap=_float("CREDITLAKE_APR_CAP", DEFAULT_POLICY.apr_cap),
            credit_limit_cny=_float("CREDITLAKE_CREDIT_LIMIT_CNY", DEFAULT_POLICY.credit_limit_cny),
        ),
        sensor_timeout_seconds=_int("CREDITLAKE_SENSOR_TIMEOUT_SECONDS", 6 * 3600),
        sensor_poke_seconds=_int("CREDITLAKE_SENSOR_POKE_SECONDS", 60),
        retry_delay_seconds=_int("CREDITLAKE_RETRY_DELAY_SECONDS", 300),
        psi_watch=_float("CREDITLAKE_PSI_WATCH", 0.10),
        psi_act=_float("CREDITLAKE_PSI_ACT", 0.25),
        champion_min_auc=_float("CREDITLAKE_CHAMPION_MIN_AUC", 0.65),
        champion_min_ks=_float("CREDITLAKE_CHAMPION_MIN_KS", 0.20),
        champion_max_auc_drop=_float("CREDITLAKE_CHAMPION_MAX_AUC_DROP", 0.005),
        gate_calibration_tolerance=_rate("CREDITLAKE_GATE_CALIBRATION_TOLERANCE", 0.05),
        gate_fairness_min_ratio=_rate("CREDITLAKE_GATE_FAIRNESS_MIN_RATIO", 0.8),
        gate_fairness_min_group_rows=_int("CREDITLAKE_GATE_FAIRNESS_MIN_GROUP_ROWS", 50),
        monitoring_auc_warn_drop=_rate("CREDITLAKE_MONITORING_AUC_WARN_DROP", 0.05),
        monitoring_auc_fail_drop=_rate("CREDITLAKE_MONITORING_AUC_FAIL_DROP", 0.10),
        monitoring_min_bads=_int("CREDITLAKE_MONITORING_MIN_BADS", 30),
        monitoring_min_rows=_int("CREDITLAKE_MONITORING_MIN_ROWS", 200),
        max_quarantine_rate=_rate("CREDITLAKE_MAX_QUARANTINE_RATE", 0.05),
        require_control_file=_bool("CREDITLAKE_REQUIRE_CONTROL_FILE", False),
        web_assets_dir=Path(_env("CREDITLAKE_WEB_ASSETS_DIR", str(WEB_ASSETS_DIR))).resolve(),
        ingest_deadline_seconds=_int("CREDITLAKE_INGEST_DEADLINE_SECONDS", 0),
        lineage_namespace=_env("CREDITLAKE_LINEAGE_NAMESPACE", "creditlake"),
        lineage_url=_env("CREDITLAKE_LINEAGE_URL"),
        secrets_backend=_choice("CREDITLAKE_SECRETS_BACKEND", "local", SECRETS_BACKENDS),
        secrets_dir=Path(_env("CREDITLAKE_SECRETS_DIR", str(home / "secrets"))).resolve(),
        secrets_prefix=_env("CREDITLAKE_SECRETS_PREFIX", "creditlake").strip("/"),
        stack_postgres_port=_int("CREDITLAKE_STACK_POSTGRES_PORT", 5433),
        stack_airflow_port=_int("CREDITLAKE_STACK_AIRFLOW_PORT", 8080),
        stack_mlflow_port=_int("CREDITLAKE_STACK_MLFLOW_PORT", 5000),
        stack_reports_port=_int("CREDITLAKE_STACK_REPORTS_PORT", 8081),
        mlflow_user=_env("CREDITLAKE_MLFLOW_USER"),
        schedules=_bool("CREDITLAKE_SCHEDULES", True),
        ingest_engine=_choice(
            "CREDITLAKE_INGEST_ENGINE", default_ingest_engine(spark_master), INGEST_ENGINES
        ),
        limits_engine=_choice(
            "CREDITLAKE_LIMITS_ENGINE", embedded_engine(spark_master, "pandas"), LIMITS_ENGINES
        ),
        duckdb_memory_limit=_env("CREDITLAKE_DUCKDB_MEMORY_LIMIT", "2GB"),
    )
