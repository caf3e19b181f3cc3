"""Personal identifiers that look and validate like real ones (and belong to nobody).

Downstream layers must recognise these values to tokenise them and the PII scanner must find any
that leak, so each one passes the same checks a real one would: resident ID numbers carry the
right GB 11643 check character and agree with the holder's birth date and sex, bank cards pass
the Luhn check behind a real UnionPay BIN, mobile numbers use real carrier prefixes.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from faker import Faker

from creditlake.pii import national_id_check_char
from generator.dates import format_dates

#: UnionPay (62…) debit-card BINs of large Chinese banks, with their card number lengths.
UNIONPAY_BINS: tuple[tuple[str, int], ...] = (
    ("622202", 19),  # ICBC
    ("621700", 19),  # CCB
    ("622848", 19),  # ABC
    ("621661", 19),  # BOC
    ("622588", 16),  # CMB
    ("622262", 19),  # BOCOM
    ("621483", 16),  # CMB
    ("622689", 16),  # CITIC
    ("623668", 19),  # CCB
    ("621799", 19),  # PSBC
)

#: Address blocks that Chinese carriers and ISPs announce (first octet, second-octet range).
_IP_BLOCKS: tuple[tuple[int, int, int], ...] = (
    (36, 0, 63),
    (58, 16, 63),
    (59, 32, 63),
    (60, 0, 63),
    (61, 128, 191),
    (101, 64, 127),
    (112, 0, 127),
    (113, 64, 127),
    (114, 80, 111),
    (117, 128, 191),
    (120, 192, 255),
    (121, 224, 255),
    (183, 0, 63),
    (223, 64, 127),
)


def sequential_ids(prefix: str, n: int, width: int) -> np.ndarray:
    """``prefix`` + zero-padded 1..n, the way source systems number their records."""
    if n == 0:
        return np.array([], dtype=f"<U{len(prefix) + width}")
    return np.strings.add(prefix, np.strings.zfill(np.arange(1, n + 1).astype(str), width))


def faker_for(seed: int) -> Faker:
    fake = Faker("zh_CN")
    fake.seed_instance(seed)
    return fake


def national_ids(
    area_codes: np.ndarray, birth_days: np.ndarray, is_male: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """18-character resident IDs: area, birth date, sequence (17th digit odd = male), check.

    Duplicates are redrawn, since two people never share a number.
    """
    births = np.strings.replace(format_dates(birth_days), "-", "")

    def draw(todo: np.ndarray) -> np.ndarray:
        sequence = rng.integers(0, 500, len(todo)) * 2 + is_male[todo].astype("int64")
        first17 = np.strings.add(
            np.strings.add(area_codes[todo], births[todo]),
            np.strings.zfill(sequence.astype(str), 3),
        )
        return np.array([body + national_id_check_char(body) for body in first17.tolist()])

    return _unique(len(area_codes), "<U18", draw)


def _unique(n: int, dtype: str, draw: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    """``n`` distinct values: ``draw(positions)`` proposes one value per position, and positions
    whose value was already taken are drawn again, since two people never share an identifier.
    """
    out = np.empty(n, dtype=dtype)
    todo = np.arange(n)
    seen: set[str] = set()
    while len(todo):
        retry = []
        for position, value in zip(todo.tolist(), draw(todo).tolist(), strict=True):
            if value in seen:
                retry.append(position)
            else:
                seen.add(value)
                out[position] = value
        todo = np.array(retry, dtype="int64")
    return out


def luhn_check_digits(bodies: np.ndarray) -> np.ndarray:
    """Check digit completing each row of a digit matrix to a Luhn-valid number."""
    digits = bodies[:, ::-1].astype("int64")  # rightmost body digit first: it gets doubled
    doubled = digits[:, 0::2] * 2
    total = np.where(doubled > 9, doubled - 9, doubled).sum(axis=1) + digits[:, 1::2].sum(axis=1)
    return (10 - total % 10) % 10


def bank_cards(n: int, rng: np.random.Generator) -> np.ndarray:
    """Unique Luhn-valid UnionPay debit card numbers (16 or 19 digits) behind real BINs."""

    def draw(todo: np.ndarray) -> np.ndarray:
        cards = np.empty(len(todo), dtype="<U19")
        bins = rng.integers(0, len(UNIONPAY_BINS), len(todo))
        for b, (prefix, length) in enumerate(UNIONPAY_BINS):
            rows = bins == b
            count = int(rows.sum())
            body = rng.integers(0, 10, (count, length - len(prefix) - 1))
            full = np.column_stack([np.tile([int(c) for c in prefix], (count, 1)), body]).astype(
                "int64"
            )
            matrix = np.column_stack([full, luhn_check_digits(full)]).astype(str)
            cards[rows] = np.array(["".join(r) for r in matrix.tolist()], dtype="<U19")
        return cards

    return _unique(n, "<U19", draw)


def mobiles(n: int, rng: np.random.Generator) -> np.ndarray:
    """Unique mainland mobile numbers: a carrier prefix from Faker's zh_CN data + 8 digits."""
    from faker.providers.phone_number.zh_CN import Provider

    prefixes = np.array([str(p) for p in Provider.phonenumber_prefixes])

    def draw(todo: np.ndarray) -> np.ndarray:
        tail = np.strings.zfill(rng.integers(0, 10**8, len(todo)).astype(str), 8)
        return np.strings.add(prefixes[rng.integers(0, len(prefixes), len(todo))], tail)

    return _unique(n, "<U11", draw)


def names(is_male: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Chinese names from Faker's zh_CN data: a surname by frequency, then a given name."""
    from faker.providers.person.zh_CN import Provider

    surnames = np.array(list(Provider.last_names))
    weights = np.array(list(Provider.last_names.values()), dtype=float)
    n = len(is_male)
    surname = surnames[rng.choice(len(surnames), size=n, p=weights / weights.sum())]
    given = np.where(
        is_male,
        _pick(Provider.first_names_male, n, rng),
        _pick(Provider.first_names_female, n, rng),
    )
    # Faker's single-character given names get a second character half the time (e.g. 王伟 or
    # 王伟强), which makes same-name pairs rarer than Faker's lists alone would
    single_male = [g for g in Provider.first_names_male if len(g) == 1]
    single_female = [g for g in Provider.first_names_female if len(g) == 1]
    extra = np.where(is_male, _pick(single_male, n, rng), _pick(single_female, n, rng))
    lengthen = (np.strings.str_len(given) == 1) & (rng.random(n) < 0.5)
    return np.strings.add(surname, np.where(lengthen, np.strings.add(given, extra), given))


def _pick(values: list[str], n: int, rng: np.random.Generator) -> np.ndarray:
    return np.array(values)[rng.integers(0, len(values), n)]


def device_ids(is_ios: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Unique Android IDs (16 hex digits) and iOS IDFVs (upper-case UUIDs)."""
    high = rng.integers(0, 2**63, len(is_ios), dtype="int64")
    low = rng.integers(0, 2**63, len(is_ios), dtype="int64")
    out = []
    seen: set[str] = set()
    for ios, h, lo in zip(is_ios.tolist(), high.tolist(), low.tolist(), strict=True):
        if ios:
            x = f"{h:016X}{lo:016X}"
            value = f"{x[:8]}-{x[8:12]}-4{x[13:16]}-A{x[17:20]}-{x[20:32]}"
        else:
            value = f"{h:016x}"
        while value in seen:  # practically never; keeps ids unique whatever the seed
            value = f"{int(rng.integers(0, 2**63)):016x}"
        seen.add(value)
        out.append(value)
    return np.array(out)


def ip_addresses(n: int, rng: np.random.Generator) -> np.ndarray:
    blocks = np.array(_IP_BLOCKS)[rng.integers(0, len(_IP_BLOCKS), n)]
    second = rng.integers(blocks[:, 1], blocks[:, 2] + 1)
    octets = [blocks[:, 0], second, rng.integers(0, 256, n), rng.integers(1, 255, n)]
    text = octets[0].astype(str)
    for part in octets[1:]:
        text = np.strings.add(np.strings.add(text, "."), part.astype(str))
    return text
