"""Great Expectations quality gates for bronze partitions and warehouse marts.

Suites are generated from the source registry and settings (:mod:`expectations.suites`); the gates
that run them, write summaries and stop the pipeline on critical failures are in
:mod:`expectations.validate`. Importing this package is cheap: Great Expectations, Spark and pandas
are imported only when a gate runs.
"""

from expectations.validate import (
    QualityGateError,
    QualityResult,
    data_docs_index,
    validate_bronze,
    validate_warehouse,
)

__all__ = [
    "QualityGateError",
    "QualityResult",
    "data_docs_index",
    "validate_bronze",
    "validate_warehouse",
]
