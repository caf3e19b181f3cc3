"""PII tokens and identifier checks against independent references (Python's hmac, known IDs)."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from creditlake.pii import (
    is_valid_national_id,
    luhn_valid,
    national_id_check_char,
    tokenise,
)

KEY = b"k" * 40


@pytest.mark.parametrize("value", ["张伟", "11010519491231002X", "13812345678", ""])
def test_token_is_the_hmac_sha256_of_the_value(value: str) -> None:
    expected = hmac.new(KEY, value.encode(), hashlib.sha256).hexdigest()
    assert tokenise(value, KEY) == expected


def test_tokens_depend_on_the_key_and_keep_missing_values_missing() -> None:
    assert tokenise("13812345678", KEY) != tokenise("13812345678", b"j" * 40)
    assert tokenise(None, KEY) is None


@pytest.mark.parametrize(
    ("first17", "check"),
    [("11010519491231002", "X"), ("44052418800101001", "4"), ("32010619900307283", "5")],
)
def test_national_id_check_character(first17: str, check: str) -> None:
    # Expected values computed by hand from GB 11643-1999 (weights 7 9 10 5 8 4 2 1 6 3 ...).
    assert national_id_check_char(first17) == check
    assert is_valid_national_id(first17 + check)


@pytest.mark.parametrize("value", ["110105194912310021", "11010519491231002", "1101051949123100XX"])
def test_invalid_national_ids(value: str) -> None:
    assert not is_valid_national_id(value)


@pytest.mark.parametrize(
    ("digits", "valid"),
    [("4111111111111111", True), ("79927398713", True), ("79927398710", False)],
)
def test_luhn(digits: str, valid: bool) -> None:
    assert luhn_valid(digits) is valid
