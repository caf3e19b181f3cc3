"""The floor above everything the platform runs: what drives the jobs, models, gates and models.

- DAG factories (:mod:`.common`, :mod:`.ingest`, :mod:`.warehouse`, :mod:`.ml`): the DAG files in
  ``dags/`` call these, and they wire tasks to ``spark_jobs/``, ``dbt_project/`` (through
  :mod:`.dbt` and Cosmos), ``expectations/`` and ``ml/``, handing each the run's ``as_of_date``.
  Heavy libraries (Spark, GX, MLflow, pandas) are imported inside the task callables, never at
  DAG-parse time.
- The tools' environment (:mod:`.runtime`) and the dbt runner (:mod:`.dbt`).
- What people run: the demo (:mod:`.demo`), the summary (:mod:`.summary`), the PII scan
  (:mod:`.pii_scan`), the source scaffold (:mod:`.new_source`) and the CLI (:mod:`.cli`).

It may import every layer below it; nothing below imports it.
"""
