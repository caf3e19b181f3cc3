"""Seeded source-data generator: landing files as a Chinese consumer-finance lender delivers them.

``generate(config, settings)`` writes every source in :mod:`creditlake.sources` into the landing
zone (local folder or S3) as an initial full extract plus daily deliveries, injects realistic
defects (logged with line numbers), holds one file back as delivered late (``deliver_late``
delivers it), and writes the ground truth apart from landing: ``loan_truth.parquet`` and
``defects.json`` in ``settings.oracle_dir``. Same configuration, same bytes. See
``docs/generator.md`` for the whole story.

Default risk
------------
``true_pd`` is the probability of the label *ever 30+ days past due within 6 months on book*::

    logit(true_pd) = b0
        + 0.60 * thin_file                               (no bureau report)
        - 0.016 * (bureau_score - 640)                   (bureau customers only)
        + 0.60 * [max_days_past_due_24m >= 30] + 0.60 * [max_days_past_due_24m >= 90]
        + 0.10 * min(inquiries_6m_count, 10)
        + 0.06 * max(0, 28 - age) + 0.02 * max(0, age - 50)       (age at application)
        - 0.60 * ln(monthly_income_cny / 6000)
        + 1.20 * min(requested_amount_cny / (term_months * monthly_income_cny), 2)
        + education  (junior_high_or_below +0.40, high_school +0.20, associate 0,
                      bachelor -0.25, master_or_above -0.45)
        + occupation (civil_servant -0.60, professional -0.30, office_worker 0,
                      self_employed +0.30, factory_worker +0.15, service_worker +0.25,
                      gig_worker +0.50, farmer +0.20)
        + channel    (app 0, h5 +0.20, partner_api +0.45, offline_store +0.15)
        + 0.20 * is_new_citizen
        + 5.0 * (night_share - 0.10)         share of app events at 0:00-4:59 Beijing time
        + 4.0 * (risky_spend_share - 0.15)   share of transactions in online_gaming,
                                             cash_withdrawal or p2p_transfer
        + 1.5 * (device_changes_30d - 0.2)   device changes per 30 days
        + 0.5 * ln(1 + loan_apply_views_30d) loan_apply page views per 30 days

Every term is observable in the landing files: bureau fields in ``bureau_reports``; age from the
national ID's birth date and ``applied_at``; income, education, occupation and new-citizen flag
in ``customers``; amount, term and channel in ``applications``. The four behaviour terms use
each customer's *latent* rates, the very rates that generate their ``app_events`` and
``transactions``, so an aggregate over the events strictly before an application estimates
them. ``b0`` is solved so the mean PD of disbursed loans is 15%. ``defaulted`` is a Bernoulli
draw from ``true_pd`` (the chance), and a defaulted loan stops paying at an instalment whose
30th day past due falls within 6 months on book, so the label is exactly realised for every
matured loan.
"""

from generator.config import GenerationReport, GeneratorConfig, GeneratorConfigError
from generator.core import deliver_late, generate

__all__ = [
    "GenerationReport",
    "GeneratorConfig",
    "GeneratorConfigError",
    "deliver_late",
    "generate",
]
