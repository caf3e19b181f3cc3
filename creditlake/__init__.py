"""creditlake: a data platform for consumer-finance credit risk.

This package holds only what every layer shares: settings, the source registry (the contract
between the generator, the Spark jobs, dbt and Great Expectations), lake paths, PII tokenisation,
the landing-zone adapters, the data generator and the command-line entry point.
"""

__version__ = "0.1.0"
