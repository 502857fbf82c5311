"""One place for configuration: every setting is read from ``TECHBRIDGE_*`` environment variables."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_SECRET = "dev-secret-change-me"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TECHBRIDGE_", env_file=".env", extra="ignore")

    environment: str = Field("dev", description="dev, test or production; production refuses default secrets")
    data_dir: Path = Field(Path("var"), description="Directory for the SQLite file, indexes and reports")
    database_url: str = Field(
        "",
        description="SQLAlchemy URL; empty: a SQLite file in data_dir; postgresql+psycopg://… in production",
    )
    secret_key: str = Field(DEV_SECRET, description="Signs session cookies and CSRF tokens")
    match_weights: dict[str, float] = Field(
        default_factory=dict, description="Overrides for the matching signal weights, as JSON"
    )
    match_params: dict[str, Any] = Field(
        default_factory=dict,
        description="Overrides for other matcher parameters (min_match, dense_floor, …), as JSON",
    )
    encoder: str = Field(
        "auto",
        description="Sentence encoder for the semantic signal: auto (the packaged M3E-small if installed), "
        "none, m3e-small, or a local model directory",
    )
    upload_max_mb: int = Field(
        50, ge=1, description="Largest request body (an uploaded file) the web pages and API accept, in MB"
    )
    upload_max_rows: int = Field(
        50_000, ge=1, description="Most data rows one web or API import may hold; bigger files use the CLI"
    )
    upload_ttl_hours: float = Field(
        24, gt=0, description="Hours an import preview's uploaded file waits for its confirm step"
    )
    import_max_columns: int = Field(1000, ge=1, description="Most columns an import file may have")
    import_max_part_mb: int = Field(
        100,
        ge=1,
        description="Largest piece of an import file read whole, uncompressed, in MB (XLSX shared strings, "
        "a .json array)",
    )

    @field_validator("database_url")
    @classmethod
    def _normalise_driver(cls, url: str) -> str:
        # Many tools hand out postgres:// URLs; SQLAlchemy wants an explicit driver.
        for prefix in ("postgres://", "postgresql://"):
            if url.startswith(prefix):
                return "postgresql+psycopg://" + url[len(prefix) :]
        return url

    @model_validator(mode="after")
    def _refuse_default_secret(self) -> Settings:
        if self.environment == "production" and self.secret_key == DEV_SECRET:
            raise ValueError("TECHBRIDGE_SECRET_KEY must be set in production")
        return self

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.data_dir / 'techbridge.sqlite3'}"


@lru_cache
def get_settings() -> Settings:
    return Settings()
