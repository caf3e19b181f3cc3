"""Application fraud: rings that share phones, IP addresses and mobile numbers, and made-up people.

Two kinds of fraudster, each an ordinary customer row with a hidden ``fraud_kind``:

* **rings** (about 1.5% of customers, 4 to 12 members each): people who sign up together
  (consecutive registrations), apply within days of signing up, and send every application from
  the ring's one or two phones and one or two IP addresses; half of them give the ring's shared
  mobile number as their own;
* **synthetic identities** (about 1% of customers, all without a bureau record): made-up people
  with an inflated declared income, who also apply within days of signing up.

Both declare more income than they have (which is how they get approved). Every application of a
fraudster is fraud with probability ``true_fraud_p`` (ring 0.9, synthetic 0.7, nobody else
commits fraud) and ``is_fraud`` is that draw. A fraud loan never pays anything: it is a
first-payment default (FPD, 首期逾期), and bad under the credit label too. What a lender sees is
the FPD and the links (shared device, IP and mobile tokens, a short tenure, a thin file); the
truth (kind, ``true_fraud_p``, ``is_fraud``) stays with the oracle, apart from the landing zone,
so the fraud model has a ceiling to be measured against.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from generator import identities as ids

NONE, RING, SYNTHETIC = 0, 1, 2
KIND_NAMES = ("none", "ring", "synthetic_identity")
RING_SHARE = 0.015
SYNTHETIC_SHARE = 0.010
RING_SIZE = (4, 12)
#: P(an application is fraud | the applicant's kind).
FRAUD_P = np.array([0.0, 0.9, 0.7])
#: Declared income over true income.
INCOME_INFLATION = {RING: 1.5, SYNTHETIC: 2.0}
#: Scale (days) of the Gamma delay from sign-up to first application; genuine customers: 35.
FRAUDSTER_FIRST_APPLY_SCALE_DAYS = 2.0
SHARED_MOBILE_SHARE = 0.5


def mark_fraudsters(
    customers: pd.DataFrame, bureau: pd.DataFrame, rng: np.random.Generator
) -> None:
    """Choose the rings and synthetic identities and give them their traits, in place.

    Adds ``fraud_kind`` and ``ring_index`` (-1 outside a ring); sets the fraudsters' declared
    income, their (shorter) delay to a first application and, for half of each ring, the ring's
    shared mobile number.
    """
    n = len(customers)
    kind = np.full(n, NONE, dtype="int64")
    ring = np.full(n, -1, dtype="int64")
    sizes = rng.integers(RING_SIZE[0], RING_SIZE[1] + 1, max(round(RING_SHARE * n / 8), 0))
    # rings are consecutive sign-ups (customers are numbered in registration order)
    next_free = 0
    for r, start in enumerate(np.sort(rng.choice(max(n - RING_SIZE[1], 1), len(sizes), False))):
        start = max(int(start), next_free)
        members = np.arange(start, min(start + int(sizes[r]), n))
        if len(members) < 2:
            continue
        kind[members] = RING
        ring[members] = r
        next_free = members[-1] + 1
    thin = ~np.isin(np.arange(n), bureau["customer_index"].to_numpy()) & (kind == NONE)
    candidates = np.flatnonzero(thin)
    chosen = rng.choice(candidates, min(round(SYNTHETIC_SHARE * n), len(candidates)), False)
    kind[np.sort(chosen)] = SYNTHETIC

    income = customers["monthly_income_cny"].to_numpy().astype(float)
    for k, factor in INCOME_INFLATION.items():
        income = np.where(kind == k, np.round(income * factor / 10_000) * 10_000, income)
    customers["monthly_income_cny"] = income.astype("int64")
    customers["first_apply_scale_days"] = np.where(
        kind == NONE, customers["first_apply_scale_days"], FRAUDSTER_FIRST_APPLY_SCALE_DAYS
    )
    mobile = customers["mobile"].to_numpy().copy()
    for r in np.unique(ring[ring >= 0]):
        members = np.flatnonzero(ring == r)
        sharing = members[rng.random(len(members)) < SHARED_MOBILE_SHARE]
        mobile[sharing] = mobile[members[0]]
    customers["mobile"] = mobile
    customers["fraud_kind"] = kind
    customers["ring_index"] = ring


def draw_fraud(applications: pd.DataFrame, customers: pd.DataFrame, rng: np.random.Generator):
    """Add ``fraud_kind``, ``true_fraud_p`` and the drawn ``is_fraud`` to every application."""
    ci = applications["customer_index"].to_numpy()
    kind = customers["fraud_kind"].to_numpy()[ci]
    applications["fraud_kind"] = kind
    applications["true_fraud_p"] = FRAUD_P[kind]
    applications["is_fraud"] = rng.random(len(applications)) < FRAUD_P[kind]


def share_ring_links(
    applications: pd.DataFrame,
    events: pd.DataFrame,
    customers: pd.DataFrame,
    rng: np.random.Generator,
) -> None:
    """Ring members use the ring's phones and apply from its IP addresses, in place.

    Each member is given one of the ring's one or two phones, which replaces their own in their
    app events and applications alike (the device an application names is the one in use), and
    each application one of the ring's one or two IP addresses.
    """
    ring = customers["ring_index"].to_numpy()
    rings = np.unique(ring[ring >= 0])
    if not len(rings):
        return
    device_count = rng.integers(1, 3, len(rings))
    ip_count = rng.integers(1, 3, len(rings))
    devices = ids.device_ids(rng.random(int(device_count.sum())) < 0.3, rng)
    ips = ids.ip_addresses(int(ip_count.sum()), rng)
    device_start = np.concatenate([[0], np.cumsum(device_count)[:-1]])
    ip_start = np.concatenate([[0], np.cumsum(ip_count)[:-1]])
    slot = np.searchsorted(rings, ring)  # each customer's ring position (valid where ring >= 0)
    members = np.flatnonzero(ring >= 0)
    member_device = np.full(len(customers), -1)
    member_device[members] = (
        device_start[slot[members]] + rng.integers(0, 2, len(members)) % device_count[slot[members]]
    )

    app_customer = applications["customer_index"].to_numpy()
    app_rows = np.flatnonzero(ring[app_customer] >= 0)
    s = slot[app_customer[app_rows]]
    device_id = applications["device_id"].to_numpy().astype(object)
    ip_address = applications["ip_address"].to_numpy().astype(object)
    device_id[app_rows] = devices[member_device[app_customer[app_rows]]]
    ip_address[app_rows] = ips[ip_start[s] + rng.integers(0, 2, len(app_rows)) % ip_count[s]]
    applications["device_id"] = device_id.astype(str)
    applications["ip_address"] = ip_address.astype(str)

    event_rows = np.flatnonzero(ring[events["customer_index"].to_numpy()] >= 0)
    if len(event_rows):
        codes = events["device_id"].cat.add_categories(devices)
        codes[event_rows] = devices[member_device[events["customer_index"].to_numpy()[event_rows]]]
        events["device_id"] = codes.cat.remove_unused_categories()
