"""Generated identifiers validate like real ones and agree with the holder's attributes."""

from __future__ import annotations

import datetime as dt
import re

import numpy as np
import pytest

from creditlake.pii import is_valid_national_id, luhn_valid
from generator import identities as ids
from generator.dates import day_number


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("7992739871", 3),  # the textbook Luhn example 79927398713
        ("411111111111111", 1),  # 4111 1111 1111 1111
        ("622202000000000000", None),  # checked against pii.luhn_valid below
    ],
)
def test_luhn_check_digit(body: str, expected: int | None) -> None:
    digit = int(ids.luhn_check_digits(np.array([[int(c) for c in body]]))[0])
    if expected is not None:
        assert digit == expected
    assert luhn_valid(body + str(digit))
    assert not luhn_valid(body + str((digit + 1) % 10))


def test_national_ids_carry_birth_date_sex_and_a_valid_check_character() -> None:
    rng = np.random.default_rng(1)
    births = [dt.date(1990, 2, 28), dt.date(2000, 12, 31), dt.date(1960, 1, 1)] * 50
    male = np.array([True, False, True] * 50)
    areas = np.array(["510104", "110105", "440305"] * 50)
    out = ids.national_ids(areas, np.array([day_number(b) for b in births]), male, rng)
    assert len(set(out.tolist())) == len(out)
    for value, birth, is_male, area in zip(out, births, male, areas, strict=True):
        assert is_valid_national_id(value)
        assert value[:6] == area
        assert value[6:14] == birth.strftime("%Y%m%d")
        assert (int(value[16]) % 2 == 1) == is_male


def test_bank_cards_are_unique_luhn_valid_unionpay() -> None:
    cards = ids.bank_cards(2000, np.random.default_rng(2))
    assert len(set(cards.tolist())) == 2000
    known_bins = {prefix: length for prefix, length in ids.UNIONPAY_BINS}
    for card in cards.tolist():
        assert card.startswith("62")
        assert len(card) == known_bins[card[:6]]
        assert luhn_valid(card)


def test_mobiles_are_unique_mainland_numbers() -> None:
    numbers = ids.mobiles(3000, np.random.default_rng(3))
    assert len(set(numbers.tolist())) == 3000
    assert all(re.fullmatch(r"1[3-9]\d{9}", n) for n in numbers.tolist())


def test_names_are_chinese_surname_plus_given_name() -> None:
    from faker.providers.person.zh_CN import Provider

    names = ids.names(np.array([True, False] * 500), np.random.default_rng(4))
    surnames = set(Provider.last_names)
    assert all(2 <= len(n) <= 4 for n in names.tolist())
    assert all(n[0] in surnames or n[:2] in surnames for n in names.tolist())


def test_device_ids_and_ip_addresses() -> None:
    rng = np.random.default_rng(5)
    devices = ids.device_ids(np.array([True, False] * 100), rng)
    assert len(set(devices.tolist())) == 200
    assert all(
        re.fullmatch(r"[0-9A-F]{8}-[0-9A-F]{4}-4[0-9A-F]{3}-A[0-9A-F]{3}-[0-9A-F]{12}", d)
        for d in devices[0::2].tolist()
    )
    assert all(re.fullmatch(r"[0-9a-f]{16}", d) for d in devices[1::2].tolist())
    for ip in ids.ip_addresses(500, rng).tolist():
        octets = [int(p) for p in ip.split(".")]
        assert len(octets) == 4 and all(0 <= o <= 255 for o in octets)
        assert any(o[0] == octets[0] and o[1] <= octets[1] <= o[2] for o in ids._IP_BLOCKS)
