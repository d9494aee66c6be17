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
    auth: Literal["none", "password", "proxy"] = Field("none", description="Sign-in mode.")
    secret_key: str | None = Field(None, description="Signs sessions; required unless auth=none.")
    cache_url: str | None = Field(None, description="Cache for dashboard queries (e.g. redis://).")
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
