"""PySpark jobs: landing files → typed bronze and quarantine rows, staged in the lake, reconciled.

The jobs use the DataFrame API only (no RDDs, no ``SparkContext``, no Python UDFs), so the same
code runs on ``local[*]``, on a Spark cluster through ``spark-submit`` and through Spark Connect.
Airflow stays out of this package: the DAGs in ``dags/`` call :func:`spark_jobs.ingest.main`.
"""
