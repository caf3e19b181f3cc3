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


# Identifier shapes as Spark SQL -----------------------------------------------------------------
# Built as SQL text, one ``F.expr`` per column: the same checks through the Column API cost
# hundreds of Py4J round trips per column each time a job builds its plan.

#: A run of 11+ digits: the cheap test that gates the precise ones.
LONG_DIGITS = r"[0-9]{11}"
#: Each identifier's shape (capturing the candidate) inside free text, and as a whole value: a
#: mobile number (1[3-9] and 9 digits, optionally +86), an 18-character resident ID, 13-19 digits
#: of a card number.
MOBILE_SHAPE = {
    "text": r"(?<![0-9])(?:\+?86[- ]?)?1[3-9][0-9]{9}(?![0-9])",
    "value": r"^(?:\+?86[- ]?)?1[3-9][0-9]{9}$",
}
NATIONAL_ID_SHAPE = {
    "text": r"(?<![0-9])([0-9]{17}[0-9Xx])(?![0-9A-Za-z])",
    "value": r"^([0-9]{17}[0-9Xx])$",
}
CARD_SHAPE = {"text": r"(?<![0-9])([0-9]{13,19})(?![0-9])", "value": r"^([0-9]{13,19})$"}


def sql_string(text: str) -> str:
    """``text`` as a Spark SQL string literal."""
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def national_id_check_sql(ref: str) -> str:
    """SQL: true when ``ref`` is 17 digits and the check character GB 11643 computes from them."""
    weighted = " + ".join(
        f"TRY_CAST(substring({ref}, {i + 1}, 1) AS INT) * {w}" for i, w in enumerate(_ID_WEIGHTS)
    )
    expected = f"substring({sql_string(_ID_CHECK)}, CAST(({weighted}) % 11 + 1 AS INT), 1)"
    return f"({ref} RLIKE '^[0-9]{{17}}[0-9X]$' AND substring({ref}, 18, 1) = {expected})"


def luhn_valid_sql(ref: str) -> str:
    """SQL: true when ``ref`` is a string of digits that passes the Luhn check (card numbers)."""
    digit = f"TRY_CAST(substring({ref}, length({ref}) - place + 1, 1) AS INT)"
    doubled = f"CASE WHEN {digit} * 2 > 9 THEN {digit} * 2 - 9 ELSE {digit} * 2 END"
    term = f"CASE WHEN place % 2 = 0 THEN {doubled} ELSE {digit} END"
    total = f"aggregate(sequence(1, length({ref})), 0, (total, place) -> total + {term})"
    return f"({ref} RLIKE '^[0-9]+$' AND {total} % 10 = 0)"


def identifier_shape_sql(ref: str, whole_value: bool = False) -> str:
    """SQL: true when the text ``ref`` holds a mobile, resident ID or card number (never null).

    ``whole_value``: only a value that *is* one counts (for key and code columns, where digits
    are normal); otherwise one anywhere in the text does.
    """
    shape = "value" if whole_value else "text"
    national_id = (
        f"nullif(upper(regexp_extract({ref}, {sql_string(NATIONAL_ID_SHAPE[shape])}, 1)), '')"
    )
    card = f"nullif(regexp_extract({ref}, {sql_string(CARD_SHAPE[shape])}, 1), '')"
    precise = (
        f"{ref} RLIKE {sql_string(MOBILE_SHAPE[shape])}"
        f" OR coalesce({national_id_check_sql(national_id)}, false)"
        f" OR coalesce({luhn_valid_sql(card)}, false)"
    )
    # Cheap tests first, so the regular expressions run on few values: a whole value is 11-22
    # characters starting with a digit or "+"; text holds 11 digits only if it is that long.
    if whole_value:
        first = f"substring({ref}, 1, 1)"
        gate = f"length({ref}) BETWEEN 11 AND 22 AND ({first} BETWEEN '0' AND '9' OR {first} = '+')"
    else:
        gate = f"length({ref}) >= 11 AND {ref} RLIKE {sql_string(LONG_DIGITS)}"
    return f"CASE WHEN {gate} THEN ({precise}) ELSE false END"
