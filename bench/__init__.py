"""``make bench``: how creditlake's work scales with data, engine against engine.

Outside the product (nothing in creditlake imports it). Each measurement is a cold child process,
as an Airflow task pays it, timed with the peak memory of its whole process tree (a Spark JVM is
a child of the Python that starts it); peers of a case run interleaved so that a machine shared
with other jobs slows them alike, and only ratios taken within one scale are compared.
``python -m bench --help``; the cases are in ``bench/cases/`` (``bench/cases/__init__.py`` says
how to add one).
"""
