"""Airflow building blocks shared by the DAG files in ``dags/``.

DAG files stay tables of contents: they call these factories, and the factories wire tasks to the
jobs in ``spark_jobs/``, ``dbt_project/``, ``expectations/`` and ``ml/``. Heavy libraries (Spark,
GX, MLflow, pandas) are imported inside the task callables, never at DAG-parse time.
"""
