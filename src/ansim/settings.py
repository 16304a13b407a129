"""All configuration in one place: environment variables prefixed ``ANSIM_`` (or a ``.env`` file)."""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parents[2]


class Settings(BaseSettings):
    """Runtime settings. Every field can be overridden by ``ANSIM_<FIELD>`` in the environment."""

    model_config = SettingsConfigDict(env_prefix="ANSIM_", env_file=".env", extra="ignore")

    db_url: str = Field(
        default=f"sqlite:///{REPO_ROOT / 'var' / 'ansim.db'}",
        description="SQLAlchemy URL of the store (SQLite in WAL mode by default, or postgresql+psycopg://…).",
    )
    data_dir: Path = Field(default=REPO_ROOT / "data", description="Bundled Seoul dataset.")
    var_dir: Path = Field(default=REPO_ROOT / "var", description="Caches, models, the default DB.")
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1
    log_level: str = "info"
    timezone: str = "Asia/Seoul"

    # Risk engine
    h3_resolution: int = Field(default=10, ge=9, le=10)
    yearly_budget_ucov: float = 10_000.0
    ascertainment_factor: float | None = Field(
        default=None,
        description="True infections per reported case; None uses microCOVID's date-dependent factor.",
    )
    exposure_radius_m: float = 100.0
    exposure_retention_days: int = 14

    # Store
    ingest_pause_before_commit_s: float = Field(
        default=0.0,
        ge=0.0,
        description="Tests only: sleep this long inside the ingest transaction before COMMIT "
        "(lets a test kill -9 an ingest while its transaction is open).",
    )

    # API
    demo_now: datetime | None = Field(
        default=None,
        description="The API's and web map's default \"now\" (ISO 8601; naive = Seoul), for demos "
        "that replay the bundled 2020-21 data; None uses the real clock.",
    )
    cors_origins: list[str] = Field(default_factory=lambda: ["*"])
    rate_limit_per_ip: str = "600/minute"
    rate_limit_per_key: str = "6000/minute"
    subscription_key: str = Field(
        default="",
        description="Secret (urlsafe base64, 32 bytes) encrypting stored subscriptions; derived from var_dir if empty.",
    )

    @field_validator("demo_now", mode="before")
    @classmethod
    def _seoul_time(cls, value: Any) -> Any:
        """Parse with ``timeutil.parse_datetime`` (naive = Seoul; an empty value is None)."""
        from ansim.timeutil import as_seoul, parse_datetime

        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        if isinstance(value, datetime):
            return as_seoul(value)
        return parse_datetime(str(value))


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Return the process-wide settings (read once from the environment)."""
    return Settings()
