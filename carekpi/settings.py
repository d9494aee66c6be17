"""The one settings object: environment variables prefixed CAREKPI_, an optional .env file."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Every setting the product reads; defaults run the demo with no configuration."""

    model_config = SettingsConfigDict(
        env_prefix="CAREKPI_", env_file=".env", extra="forbid", frozen=True
    )

    data_dir: Path = Field(
        Path("data"), description="Folder for the embedded warehouse, inbox, archive, quarantine."
    )
    warehouse_url: str | None = Field(
        None,
        description="SQLAlchemy URL of the warehouse; default an SQLite file in data_dir "
        "(production: postgresql+psycopg://user@host/db).",
    )
    inbox_dir: Path | None = Field(None, description="Where feed files arrive (data_dir/inbox).")
    archive_dir: Path | None = Field(None, description="Accepted files, by content hash.")
    quarantine_dir: Path | None = Field(None, description="Refused files with their reports.")
    targets_file: Path | None = Field(None, description="CSV or YAML of per-KPI/org/year targets.")
    rag_tolerance: float = Field(
        0.05, ge=0, description="RAG: amber within this fraction of the target, red beyond."
    )
    payment_terms_file: Path | None = Field(
        None, description="TOML of care-package payment terms (split, budget, rule) per year."
    )
    poll_cron: str = Field("*/5 * * * *", description="Cron expression: poll the inbox.")
    nightly_cron: str = Field("30 2 * * *", description="Cron expression: nightly full check.")
    misfire_grace_seconds: int = Field(3600, description="A missed job still runs this late.")
    auth: Literal["none", "password", "proxy"] = Field(
        "none", description="Sign-in mode: none (local demo, 127.0.0.1 only), password (users "
        "from `carekpi users`), proxy (a trusted reverse proxy's user header)."
    )
    secret_key: str | None = Field(
        None, description="Signs session cookies (32+ characters); required unless auth=none."
    )
    session_hours: float = Field(8, gt=0, description="A sign-in lasts this many hours.")
    login_attempts: int = Field(
        5, ge=1, description="Wrong passwords allowed per user name (and 4x per address) in "
        "15 minutes before sign-in answers 429."
    )
    proxy_user_header: str | None = Field(
        None, description="auth=proxy: the request header naming the signed-in user."
    )
    proxy_addresses: str | None = Field(
        None, description="auth=proxy: comma-separated addresses of the reverse proxy; the user "
        "header is trusted only from these."
    )
    cache_url: str | None = Field(
        None, description="Shared cache for dashboard queries and sign-in limits "
        "(redis://host:6379/0); default in-process."
    )
    workers: int = Field(2, ge=1, description="gunicorn worker processes of the dashboard.")
    threads: int = Field(4, ge=1, description="gunicorn threads per worker.")
    bind: str = Field("127.0.0.1:8050", description="Address:port gunicorn listens on.")
    heartbeat_file: Path | None = Field(
        None, description="The scheduler's heartbeat file, touched every 30 s (default "
        "data_dir/scheduler.heartbeat); set it for the dashboard and /healthz requires it fresh."
    )
    max_load_age_hours: float = Field(
        0, ge=0, description="/healthz is unhealthy when the last successful load is older "
        "than this (0: never)."
    )
    spc_run_length: int = Field(7, description="SPC: points in a run on one side of the mean.")
    spc_trend_length: int = Field(7, description="SPC: points in a rising/falling trend.")
    tariff_emergency_admission: float = Field(
        1800.0, ge=0, description="Impact: cost of one emergency admission in pounds "
        "(illustrative default; set from the local contract)."
    )
    tariff_bed_day: float = Field(
        350.0, ge=0, description="Impact: cost of one bed day in pounds "
        "(illustrative default; set from the local contract)."
    )

    @model_validator(mode="after")
    def _secret_needed(self) -> Settings:
        if self.auth != "none" and not self.secret_key:
            raise ValueError("CAREKPI_SECRET_KEY must be set when CAREKPI_AUTH is not 'none'")
        if self.auth != "none" and len(self.secret_key) < 32:
            raise ValueError("CAREKPI_SECRET_KEY must have at least 32 characters")
        if self.auth == "proxy" and not (self.proxy_user_header and self.proxy_addresses):
            raise ValueError("CAREKPI_AUTH=proxy needs CAREKPI_PROXY_USER_HEADER and "
                             "CAREKPI_PROXY_ADDRESSES")
        return self

    @cached_property
    def database_url(self) -> str:
        """The warehouse URL, defaulting to the embedded SQLite file."""
        if self.warehouse_url:
            return self.warehouse_url
        return f"sqlite:///{(self.data_dir / 'warehouse.sqlite').resolve()}"

    @property
    def inbox(self) -> Path:
        return self.inbox_dir or self.data_dir / "inbox"

    @property
    def archive(self) -> Path:
        return self.archive_dir or self.data_dir / "archive"

    @property
    def quarantine(self) -> Path:
        return self.quarantine_dir or self.data_dir / "quarantine"

    @property
    def heartbeat(self) -> Path:
        return self.heartbeat_file or self.data_dir / "scheduler.heartbeat"

    @property
    def trusted_proxies(self) -> frozenset[str]:
        """The reverse proxy addresses named by proxy_addresses."""
        return frozenset(a.strip() for a in (self.proxy_addresses or "").split(",") if a.strip())
