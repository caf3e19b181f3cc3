"""Landing-file builders shared by the Spark job tests (tiny inline files per docs/CONTRACTS.md)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from creditlake.landing import Landing
from creditlake.pii import national_id_check_char
from creditlake.settings import Settings
from creditlake.sources import get_source

PII_KEY = "spark-jobs-test-key-0123456789abcdef-0123456789"
DAY = dt.date(2026, 1, 1)
NAMES = ("张三", "李四", "王五", "赵六", "陈七", "刘八", "周九", "吴十")


def deliver(
    settings: Settings, source: str, lines: list[str], day: dt.date = DAY, header: bool = True
) -> Path:
    """Write a landing file as a source system would (CSV with its header line)."""
    src = get_source(source)
    if src.format == "csv" and header:
        lines = [",".join(src.column_names), *lines]
    target = Path(Landing.from_settings(settings).location(src.name, day, src.file_name))
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
    return target


def national_id(first17: str) -> str:
    """A resident ID with the right check character for its first 17 digits."""
    return first17 + national_id_check_char(first17)


def customer(n: int, **values: str) -> dict[str, str]:
    """Customer ``n`` with its own name, ID, phone and card; keyword arguments override fields."""
    row = {
        "customer_id": f"C{n:06d}",
        "name": NAMES[n % len(NAMES)],
        "national_id": national_id(f"1101051990{1 + n % 12:02d}{1 + n % 28:02d}{n % 1000:03d}"),
        "mobile": f"1380013{n:04d}",
        "bank_card_number": f"622202020011{n:07d}",
        "province": "北京市",
        "city": "北京市",
        "residence_type": "urban",
        "is_new_citizen": "0",
        "education": "bachelor",
        "occupation": "engineer",
        "monthly_income_cny": "12000.00",
        "registered_at": "2024-07-02 09:15:00",
    }
    row.update(values)
    return row


def customer_line(n: int = 1, **values: str) -> str:
    """Customer ``n`` as a customers CSV line."""
    row = customer(n, **values)
    return ",".join(row[name] for name in get_source("customers").column_names)


def app_event(n: int, **values: object) -> dict[str, object]:
    row: dict[str, object] = {
        "event_id": f"E{n:08d}",
        "customer_id": f"C{n % 7:06d}",
        "event_at": f"2025-12-31 {n % 24:02d}:15:00",
        "event_type": "login",
        "page": "home",
        "device_id": f"device-{n:05d}-a1b2",
        "os": "android 14",
        "city": "深圳市",
        "latitude": 22.5431,
        "longitude": 114.0579,
    }
    row.update(values)
    return row


def transaction(n: int, **values: object) -> dict[str, object]:
    row: dict[str, object] = {
        "transaction_id": f"T{n:08d}",
        "customer_id": f"C{n % 7:06d}",
        "transacted_at": f"2025-12-31 {n % 24:02d}:30:00",
        "amount_cny": 88.5,
        "category": "groceries",
        "merchant_id": f"M{n % 3:04d}",
        "merchant_name": "便利店",
    }
    row.update(values)
    return row


def json_line(row: dict[str, object]) -> str:
    return json.dumps(row, ensure_ascii=False)


def staged_rows(settings: Settings, layer: str, source: str, day: dt.date = DAY) -> list[dict]:
    """The rows the latest ingest of ``source`` staged for ``day`` (``layer``: bronze or
    quarantine), read back through the lake, without the partition column."""
    from creditlake import ledger
    from creditlake.lake import Lake, bronze_table, quarantine_table

    lake = Lake.from_settings(settings)
    delivery = ledger.latest_delivery(lake, source, day)
    if layer == "bronze":
        table, snapshot_id = bronze_table(source), delivery.bronze_snapshot_id
    else:
        table, snapshot_id = quarantine_table(source), delivery.quarantine_snapshot_id
    return lake.read(table, day, snapshot_id).drop_columns(["ingest_date"]).to_pylist()
