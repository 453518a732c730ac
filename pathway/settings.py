"""Configuration: one home, defaults here, overridden by environment variables and flags.

| setting | environment variable | default |
|---|---|---|
| database URL | PATHWAY_DB_URL | duckdb:/// + data/pathway.duckdb under PATHWAY_HOME, as a full path |
| home folder of the default database | PATHWAY_HOME | the current directory |
| the day of loading (dates after it have not happened) | PATHWAY_LOAD_DAY | today |
| largest file `pathway load` reads | PATHWAY_MAX_FILE_BYTES | 2 GiB |
| largest XLSX inflation (uncompressed size / file size) | PATHWAY_XLSX_MAX_RATIO | 20 |
| largest XLSX uncompressed size | PATHWAY_XLSX_MAX_BYTES | 4 GiB |
| most columns in a file | PATHWAY_MAX_COLUMNS | 500 |
| how long to wait for a DuckDB file another process is writing | PATHWAY_LOCK_WAIT_SECONDS | 10 |
| maximum reject rate | PATHWAY_MAX_REJECT_RATE | 0.05 |
| reference data folder | PATHWAY_REFERENCE_DIR | the shipped data/reference |
| DuckDB memory limit | PATHWAY_DUCKDB_MEMORY | 1GB |
| smallest count shown | PATHWAY_SUPPRESS_BELOW | 8 (counts 1 to 7 are shown as *) |
| rounding base | PATHWAY_ROUND_TO | 5 |
| boundary GeoJSON | PATHWAY_BOUNDARIES | none (tile map) |
| largest upload through the dashboard | PATHWAY_DASHBOARD_UPLOAD_LIMIT | 200 MB (bytes; contract 7.2) |
| session signing key | PATHWAY_SECRET_KEY | a random key per server start (sign-ins end at a restart) |
| trusted reverse proxies | PATHWAY_TRUSTED_PROXIES | none (addresses or networks, comma-separated) |
| user header set by the proxy | PATHWAY_PROXY_USER_HEADER | X-Forwarded-User |
| role of a proxy user with no account | PATHWAY_PROXY_DEFAULT_ROLE | none (refused) |
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field, replace
from pathlib import Path

from pathway.resources import reference_dir

DEFAULT_DB_PATH = Path("data") / "pathway.duckdb"
GIB = 1 << 30


def default_db_path() -> Path:
    """data/pathway.duckdb under PATHWAY_HOME (default: the current directory), in full."""
    return (Path(_env("PATHWAY_HOME", ".")).expanduser() / DEFAULT_DB_PATH).resolve()


def _env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


@dataclass(frozen=True)
class DisclosurePolicy:
    """Contract section 6: counts 1..suppress_below-1 hidden, others rounded to round_to."""

    suppress_below: int = 8
    round_to: int = 5


@dataclass(frozen=True)
class Settings:
    db_url: str = field(default_factory=lambda: f"duckdb:///{default_db_path()}")
    max_reject_rate: float = 0.05
    reference_dir: Path = field(default_factory=reference_dir)
    duckdb_memory_limit: str = "1GB"
    disclosure: DisclosurePolicy = field(default_factory=DisclosurePolicy)
    boundaries_path: Path | None = None
    load_day: dt.date | None = None           # None: today (tests fix it)
    max_file_bytes: int = 2 * GIB
    xlsx_max_ratio: float = 20.0
    xlsx_max_bytes: int = 4 * GIB
    max_columns: int = 500
    lock_wait_seconds: float = 10.0
    dashboard_upload_limit: int = 200_000_000
    secret_key: str | None = None
    trusted_proxies: tuple[str, ...] = ()
    proxy_user_header: str = "X-Forwarded-User"
    proxy_default_role: str | None = None

    def day_of_loading(self) -> dt.date:
        """The day dates are checked against: an activity after it has not happened yet."""
        return self.load_day or dt.date.today()

    def with_overrides(self, **overrides) -> "Settings":
        """A copy with the given non-None values (command-line flags) applied."""
        return replace(self, **{k: v for k, v in overrides.items() if v is not None})


def load_settings() -> Settings:
    """Defaults overridden by PATHWAY_* environment variables."""
    settings = Settings()
    boundaries = _env("PATHWAY_BOUNDARIES")
    return settings.with_overrides(
        db_url=_env("PATHWAY_DB_URL"),
        max_reject_rate=float(_env("PATHWAY_MAX_REJECT_RATE")) if _env("PATHWAY_MAX_REJECT_RATE") else None,
        reference_dir=Path(_env("PATHWAY_REFERENCE_DIR")) if _env("PATHWAY_REFERENCE_DIR") else None,
        duckdb_memory_limit=_env("PATHWAY_DUCKDB_MEMORY"),
        disclosure=DisclosurePolicy(
            suppress_below=int(_env("PATHWAY_SUPPRESS_BELOW", "8")),
            round_to=int(_env("PATHWAY_ROUND_TO", "5")),
        ),
        boundaries_path=Path(boundaries) if boundaries else None,
        load_day=dt.date.fromisoformat(_env("PATHWAY_LOAD_DAY")) if _env("PATHWAY_LOAD_DAY") else None,
        max_file_bytes=_int_env("PATHWAY_MAX_FILE_BYTES"),
        xlsx_max_ratio=float(_env("PATHWAY_XLSX_MAX_RATIO")) if _env("PATHWAY_XLSX_MAX_RATIO") else None,
        xlsx_max_bytes=_int_env("PATHWAY_XLSX_MAX_BYTES"),
        max_columns=_int_env("PATHWAY_MAX_COLUMNS"),
        lock_wait_seconds=float(_env("PATHWAY_LOCK_WAIT_SECONDS")) if _env("PATHWAY_LOCK_WAIT_SECONDS") else None,
        dashboard_upload_limit=int(_env("PATHWAY_DASHBOARD_UPLOAD_LIMIT")) if _env("PATHWAY_DASHBOARD_UPLOAD_LIMIT") else None,
        secret_key=_env("PATHWAY_SECRET_KEY"),
        trusted_proxies=tuple(p.strip() for p in _env("PATHWAY_TRUSTED_PROXIES", "").split(",") if p.strip()) or None,
        proxy_user_header=_env("PATHWAY_PROXY_USER_HEADER"),
        proxy_default_role=_env("PATHWAY_PROXY_DEFAULT_ROLE"),
    )


def _int_env(name: str) -> int | None:
    value = _env(name)
    return int(value) if value else None
