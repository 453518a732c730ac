"""Configuration: one home, defaults here, overridden by environment variables and flags.

| setting | environment variable | default |
|---|---|---|
| database URL | PATHWAY_DB_URL | duckdb:///data/pathway.duckdb (relative to the working directory) |
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

import os
from dataclasses import dataclass, field, replace
from pathlib import Path

from pathway.resources import reference_dir

DEFAULT_DB_PATH = Path("data") / "pathway.duckdb"


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
    db_url: str = field(default_factory=lambda: f"duckdb:///{DEFAULT_DB_PATH}")
    max_reject_rate: float = 0.05
    reference_dir: Path = field(default_factory=reference_dir)
    duckdb_memory_limit: str = "1GB"
    disclosure: DisclosurePolicy = field(default_factory=DisclosurePolicy)
    boundaries_path: Path | None = None
    dashboard_upload_limit: int = 200_000_000
    secret_key: str | None = None
    trusted_proxies: tuple[str, ...] = ()
    proxy_user_header: str = "X-Forwarded-User"
    proxy_default_role: str | None = None

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
        dashboard_upload_limit=int(_env("PATHWAY_DASHBOARD_UPLOAD_LIMIT")) if _env("PATHWAY_DASHBOARD_UPLOAD_LIMIT") else None,
        secret_key=_env("PATHWAY_SECRET_KEY"),
        trusted_proxies=tuple(p.strip() for p in _env("PATHWAY_TRUSTED_PROXIES", "").split(",") if p.strip()) or None,
        proxy_user_header=_env("PATHWAY_PROXY_USER_HEADER"),
        proxy_default_role=_env("PATHWAY_PROXY_DEFAULT_ROLE"),
    )
