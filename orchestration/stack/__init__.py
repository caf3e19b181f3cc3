"""The local stack: ``creditlake stack up|down|status`` (``make up``, ``down``, ``status``).

A PostgreSQL cluster (Debian's server programs) under the creditlake home, the four Airflow 3
components on it with the LocalExecutor and the FAB auth manager, the MLflow tracking server with
its basic-auth app, and the report server, all on 127.0.0.1 and all behind logins whose passwords
are generated at the first ``up`` (:mod:`orchestration.stack.accounts`). One module per role:
``processes`` (pid files, start, stop), ``postgres``, ``airflow``, ``mlflow``, ``reports``, and
``stack`` which puts them in order.
"""
