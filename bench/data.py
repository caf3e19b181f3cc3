"""The data of each scale: generated once into ``<out>/data/<k>x`` and reused by every case.

A scale is k times the default demo's customers and behaviour events (the generator's other
settings stay the demo's), so 1× is exactly what ``make demo`` ingests. Each run gets a fresh
creditlake home with a copy of just the deliveries it reads, and the bench's one PII key, so runs
never see each other's lake and tokens agree across engines.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import shutil
from pathlib import Path

from creditlake.settings import Settings, get_settings

#: The demo's generator settings at 1× (``creditlake generate --help``).
DEFAULT_CUSTOMERS = 20_000
DEFAULT_BEHAVIOUR_EVENTS = 2_000_000
#: The bench's PII key, shared by every run so that tokens compare equal across engines.
PII_KEY_LENGTH = 32


@dataclasses.dataclass(frozen=True)
class Scale:
    """One data size: its factor, its generated landing zone and the initial extract date."""

    factor: int
    home: Path
    extract_date: dt.date

    @property
    def label(self) -> str:
        return f"{self.factor}x"

    @property
    def landing(self) -> Path:
        return self.home / "landing"


def generator_config(factor: int):
    """The demo's generator configuration with k times its customers and behaviour events.

    No late file: a delivery held back would make the extract date differ between sources.
    """
    from generator import GeneratorConfig

    return GeneratorConfig(
        customers=DEFAULT_CUSTOMERS * factor,
        behaviour_events=DEFAULT_BEHAVIOUR_EVENTS * factor,
        days=3,
        defect_rate=0.002,
        late_source=None,
    )


def home_settings(home: Path) -> Settings:
    """Settings of a creditlake home as a child process started with :func:`child_env` sees them."""
    previous = dict(os.environ)
    try:
        os.environ.update(child_env(home))
        for name in ("CREDITLAKE_LAKE_DIR", "CREDITLAKE_WAREHOUSE_PATH", "CREDITLAKE_CATALOG_URI"):
            os.environ.pop(name, None)
        return get_settings()
    finally:
        os.environ.clear()
        os.environ.update(previous)


def child_env(home: Path, **extra: str) -> dict[str, str]:
    """Variables that point a child process at ``home`` and nothing else."""
    return {
        "CREDITLAKE_HOME": str(home),
        "CREDITLAKE_SECRETS_DIR": str(home / "secrets"),
        "CREDITLAKE_SECRETS_BACKEND": "local",
        **extra,
    }


def ensure_scale(out: Path, factor: int, progress=print) -> Scale:
    """Generate the scale's landing zone unless the same generator and config already did."""
    from orchestration.demo import _generate

    home = (out / "data" / f"{factor}x").resolve()
    config = generator_config(factor)
    settings = home_settings(home)
    progress(f"data {factor}x: {config.customers:,} customers, {config.behaviour_events:,} events")
    _generate(config, settings, progress)
    return Scale(factor, home, config.extract_date)


def bench_pii_key(out: Path) -> str:
    """The bench's key (made once, mode 600); any run home gets a copy through :func:`new_home`."""
    import secrets

    path = out / "data" / "pii-key"
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(PII_KEY_LENGTH))
    return path.read_text().strip()


def new_home(out: Path, name: str, key: str) -> Path:
    """An empty creditlake home under ``<out>/runs`` with the bench's PII key in its secrets."""
    home = (out / "runs" / name).resolve()
    shutil.rmtree(home, ignore_errors=True)
    put_pii_key(home, key)
    return home


def put_pii_key(home: Path, key: str) -> None:
    """Write ``key`` where the local secrets backend of ``home`` reads it (``secrets/pii-key``,
    mode 600 in a folder of mode 700), as ``creditlake init-secrets`` would."""
    secrets_dir = home / "secrets"
    secrets_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    secrets_dir.chmod(0o700)
    fd = os.open(secrets_dir / "pii-key", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key)


def copy_delivery(scale: Scale, home: Path, source: str, as_of_date: dt.date) -> Path:
    """Copy one source's delivery folder for one date into ``home``'s landing zone (real copies:
    an engine that wrote into landing would otherwise change the cache for every later run)."""
    relative = Path(source) / as_of_date.isoformat()
    target = home / "landing" / relative
    shutil.copytree(scale.landing / relative, target)
    return target
