"""Keyed tokenisation of personal identifiers (HMAC-SHA256).

A token is ``HMAC-SHA256(key, value)`` in lower-case hex: the same person gets the same token in
every table (so joins and fraud linkage still work), but without the key nobody can test a guessed
national ID or phone number against it, which a plain hash would allow. The key comes from
settings (a secret), never from code.

Spark has no HMAC function, so :func:`hmac_sha256_column` builds the standard construction
``H((K ^ opad) || H((K ^ ipad) || m))`` from Spark's built-in ``sha2``/``unhex``/``concat``.
That keeps tokenisation inside the JVM (no Python UDF), and :func:`tokenise` is its reference
implementation, checked against Python's ``hmac`` module in the tests.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pyspark.sql import Column

_BLOCK_SIZE = 64  # SHA-256 block size in bytes


def tokenise(value: str | None, key: bytes) -> str | None:
    """Token of one value; ``None`` stays ``None`` so missing stays missing."""
    if value is None:
        return None
    return hmac.new(key, value.encode("utf-8"), hashlib.sha256).hexdigest()


def _padded_keys(key: bytes) -> tuple[bytes, bytes]:
    if len(key) > _BLOCK_SIZE:
        key = hashlib.sha256(key).digest()
    key = key.ljust(_BLOCK_SIZE, b"\0")
    inner = bytes(b ^ 0x36 for b in key)
    outer = bytes(b ^ 0x5C for b in key)
    return inner, outer


def hmac_sha256_column(col: Column, key: bytes) -> Column:
    """Spark expression for the HMAC-SHA256 token of a string column (null stays null)."""
    from pyspark.sql import functions as F

    inner_pad, outer_pad = _padded_keys(key)
    inner = F.sha2(F.concat(F.unhex(F.lit(inner_pad.hex())), F.encode(col, "UTF-8")), 256)
    token = F.sha2(F.concat(F.unhex(F.lit(outer_pad.hex())), F.unhex(inner)), 256)
    return F.when(col.isNull(), F.lit(None).cast("string")).otherwise(token)


# National ID (GB 11643-1999) -------------------------------------------------------------------
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


def national_id_check_char(first17: str) -> str:
    """The 18th character of a resident ID number, from its first 17 digits."""
    total = sum(int(d) * w for d, w in zip(first17, _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11]


def is_valid_national_id(value: str) -> bool:
    return (
        len(value) == 18
        and value[:17].isdigit()
        and value[17] in "0123456789X"
        and national_id_check_char(value[:17]) == value[17]
    )


def national_id_check_column(col: Column) -> Column:
    """Spark expression: True when an 18-character ID has the right check character."""
    from pyspark.sql import functions as F

    weighted = None
    for i, w in enumerate(_ID_WEIGHTS):
        term = F.substring(col, i + 1, 1).cast("int") * w
        weighted = term if weighted is None else weighted + term
    expected = F.substring(F.lit(_ID_CHECK), (weighted % 11 + 1).cast("int"), 1)
    return col.rlike(r"^[0-9]{17}[0-9X]$") & (F.substring(col, 18, 1) == expected)


def luhn_valid(digits: str) -> bool:
    """Luhn check, as card numbers carry; used by the PII scanner and the generator."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def luhn_valid_column(digits: Column) -> Column:
    """Spark expression: True when a string of digits passes the Luhn check (card numbers)."""
    from pyspark.sql import functions as F

    length = F.length(digits)

    def add_digit(total: Column, place: Column) -> Column:
        # ``place`` counts from the right, 1-based; every second digit is doubled.
        digit = F.substring(digits, length - place + 1, 1).try_cast("int")
        doubled = F.when(digit * 2 > 9, digit * 2 - 9).otherwise(digit * 2)
        return total + F.when(place % 2 == 0, doubled).otherwise(digit)

    total = F.aggregate(F.sequence(F.lit(1), length), F.lit(0), add_digit)
    return digits.rlike(r"^[0-9]+$") & (total % 10 == 0)
