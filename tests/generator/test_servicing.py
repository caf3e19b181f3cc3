"""Equal-instalment (等额本息) schedules add up to the fen."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import numpy as np
import pytest

from generator.servicing import amortise, level_payment_fen


def _reference_schedule(principal: Decimal, apr: Decimal, term: int) -> list[tuple[Decimal, ...]]:
    """Textbook amortisation in Decimal, rounding each amount half-up to the fen."""
    fen = Decimal("0.01")
    r = apr / 12
    if r:
        payment = (principal * r * (1 + r) ** term / ((1 + r) ** term - 1)).quantize(
            fen, ROUND_HALF_UP
        )
    else:
        payment = (principal / term).quantize(fen, ROUND_HALF_UP)
    balance, rows = principal, []
    for k in range(1, term + 1):
        interest = (balance * r).quantize(fen, ROUND_HALF_UP)
        principal_part = balance if k == term else payment - interest
        balance -= principal_part
        rows.append((principal_part, interest))
    return rows


@pytest.mark.parametrize(
    ("principal", "apr", "term"),
    [
        ("10000.00", "0.1200", 12),
        ("5000.00", "0.2373", 6),
        ("123456.78", "0.0730", 24),
        ("800.00", "0.1825", 3),
        ("3000.00", "0.0000", 9),
        ("20000.00", "0.3600", 12),
    ],
)
def test_schedule_matches_reference_and_adds_up(principal: str, apr: str, term: int) -> None:
    principal_fen = int(Decimal(principal) * 100)
    apr_units = int(Decimal(apr) * 10_000)
    rows = amortise(np.array([principal_fen]), np.array([apr_units]), np.array([term]))
    expected = _reference_schedule(Decimal(principal), Decimal(apr), term)
    assert rows["number"].tolist() == list(range(1, term + 1))
    assert [
        (Decimal(int(p)) / 100, Decimal(int(i)) / 100)
        for p, i in zip(rows["principal"], rows["interest"], strict=True)
    ] == expected
    assert int(rows["principal"].sum()) == principal_fen
    assert (rows["interest"] >= 0).all() and (rows["principal"] > 0).all()


def test_known_level_payment() -> None:
    # 10,000 at 12% a year over 12 months: 888.49 a month
    assert level_payment_fen(np.array([1_000_000]), np.array([1200]), np.array([12]))[0] == 88_849


def test_many_loans_at_once_keep_their_own_rows() -> None:
    rows = amortise(np.array([500_000, 100_000]), np.array([1800, 900]), np.array([3, 6]))
    assert rows["loan"].tolist() == [0] * 3 + [1] * 6
    assert int(rows["principal"][rows["loan"] == 0].sum()) == 500_000
    assert int(rows["principal"][rows["loan"] == 1].sum()) == 100_000
