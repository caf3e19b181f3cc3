"""Lending policy and personal-data categories: the values every layer enforces, defined once.

A policy value is a business decision (how expensive a loan may be, how old a borrower must be,
when a loan counts as bad), not a property of one tool. So it is defined here and read from here by
everything that applies it: the generator prices loans under the APR cap, the Spark job tokenises
the personal-data categories that must not pass landing, dbt labels loans with the performance
window (``dbt_vars``), Great Expectations checks caps and the minimum age, and the model card and
reports quote them. Settings may override the caps per deployment (``CREDITLAKE_APR_CAP``,
``CREDITLAKE_CREDIT_LIMIT_CNY``); :attr:`creditlake.settings.Settings.policy` is the policy in
force.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# Personal financial information categories (JR/T 0171-2020), as the registry and dbt tag columns.
#: C2 identifiers (name, national ID, mobile, bank card, device, IP): replaced by keyed tokens at
#: bronze, so nothing downstream of the landing zone holds the raw value.
PII_IDENTIFIER = "C2"
#: What a C2 identifier is after bronze: a keyed HMAC-SHA256 token.
PII_TOKEN = "C2-token"
#: Precise location (latitude, longitude): kept in bronze, generalised before the marts.
PII_LOCATION = "C3-location"
#: Location generalised to city level: the finest location kept downstream.
PII_LOCATION_CITY = "C3-location-city"
#: Derived from a C2 identifier before it was tokenised (birth date from the national ID).
PII_DERIVED = "C3-derived"
#: Generalised from personal data (an age band, a birth year).
PII_GENERALISED = "C3-generalised"
PII_CATEGORIES = (
    PII_IDENTIFIER,
    PII_TOKEN,
    PII_LOCATION,
    PII_LOCATION_CITY,
    PII_DERIVED,
    PII_GENERALISED,
)

#: A token is the lower-case hex of an HMAC-SHA256 digest.
TOKEN_REGEX = r"^[0-9a-f]{64}$"


@dataclass(frozen=True)
class Policy:
    """The lending policy in force; the defaults are the platform's reference policy."""

    #: Highest annual percentage rate a loan may carry (0.24 = 24 % a year).
    apr_cap: float = 0.24
    #: Unsecured credit per borrower allowed by regulation, CNY.
    credit_limit_cny: float = 200_000.0
    #: Borrowers must be adults on the application date.
    min_borrower_age_years: int = 18
    #: Unsecured debt (the new credit line plus the bureau's outstanding balances) may not exceed
    #: this many years of declared income.
    max_debt_to_income: float = 1.0
    #: Label: a loan is bad if it is ``bad_days_past_due``+ days past due at any point within
    #: ``performance_window_months`` months on book; before the window ends it is immature.
    performance_window_months: int = 6
    bad_days_past_due: int = 30

    def dbt_vars(self) -> dict[str, Any]:
        """The policy values the dbt models read with ``var()``."""
        return {
            "performance_window_months": self.performance_window_months,
            "bad_days_past_due": self.bad_days_past_due,
        }


#: The reference policy (what a deployment gets unless settings override a value).
DEFAULT_POLICY = Policy()
