"""creditlake: a data platform for consumer-finance credit risk.

This package is the kernel: only what every layer shares, and it imports nothing of the layers
above it. Settings (the one reader of the environment), the source registry (the contract
between the generator, the Spark jobs, dbt and Great Expectations), the lending policy and PII
categories, lake paths, PII tokenisation, the landing-zone adapters and local secrets. The jobs
(``spark_jobs/``), models (``dbt_project/``), gates (``expectations/``) and credit models (``ml/``)
build on it; ``orchestration/`` drives them; ``generator/`` writes landing files beside them.
"""

__version__ = "0.1.0"
