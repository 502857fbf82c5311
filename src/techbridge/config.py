"""One place for configuration: every setting is read from ``TECHBRIDGE_*`` environment variables."""

from __future__ import annotations

import logging
import os
import secrets
import tempfile
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

SECRET_FILE = "secret_key"
"""Name of the file in ``data_dir`` that keeps the generated secret of a dev installation."""
OLD_DEFAULT_SECRETS = frozenset({"dev-secret-change-me", "changethis", "change-me", "secret"})
"""Placeholders that once shipped in docs and examples: anyone can sign a cookie with them."""
MIN_PRODUCTION_SECRET = 32

_log = logging.getLogger("techbridge")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="TECHBRIDGE_", env_file=".env", extra="ignore", env_ignore_empty=True
    )

    environment: Literal["dev", "test", "production"] = Field(
        "dev",
        description="dev, test or production; production requires TECHBRIDGE_SECRET_KEY and sends "
        "Secure cookies",
    )
    data_dir: Path = Field(Path("var"), description="Directory for the SQLite file, indexes and reports")
    database_url: str = Field(
        "",
        description="SQLAlchemy URL; empty: a SQLite file in data_dir; postgresql+psycopg://… in production",
    )
    secret_key: str = Field(
        "",
        description="Signs session cookies, CSRF tokens and flash messages; empty outside production: "
        "a random one is generated into data_dir/secret_key",
    )
    cookie_secure: bool | None = Field(
        None,
        description="Send cookies with the Secure flag; empty: on in production and on requests that "
        "arrived over HTTPS",
    )
    trusted_proxies: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Comma-separated addresses or networks of reverse proxies whose X-Forwarded-For and "
        "X-Forwarded-Proto headers are believed; empty: none",
    )
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
    # Background jobs and notifications (services/jobs.py, services/worker.py, services/notifications.py).
    base_url: str = Field("", description="Public address of the site, for links in notification e-mails")
    smtp_host: str = Field("", description="SMTP server for notification e-mails; empty: in-app only")
    smtp_port: int = Field(25, description="SMTP server port (587 with STARTTLS, 465 with SSL)")
    smtp_username: str = Field("", description="SMTP login; empty: send without logging in")
    smtp_password: str = Field("", description="SMTP password")
    smtp_sender: str = Field("techbridge@localhost", description="From address of notification e-mails")
    smtp_security: str = Field("none", description="none, starttls or ssl")
    worker_poll_seconds: float = Field(1.0, description="How often an idle worker looks for new jobs")
    job_retention_days: float = Field(
        30, description="Finished jobs (and their files) are removed after this"
    )
    export_inline_rows: int = Field(
        5000, description="Exports up to this many rows download at once; larger ones run as a job"
    )
    display_timezone: str = Field(
        "Asia/Shanghai",
        description="IANA zone in which pages show times, bookings are entered and analytics count months",
    )

    @field_validator("display_timezone")
    @classmethod
    def _known_timezone(cls, name: str) -> str:
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"未知的时区 {name!r}, 例如 Asia/Shanghai") from None
        return name

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.display_timezone)

    @field_validator("database_url")
    @classmethod
    def _normalise_driver(cls, url: str) -> str:
        # Many tools hand out postgres:// URLs; SQLAlchemy wants an explicit driver.
        for prefix in ("postgres://", "postgresql://"):
            if url.startswith(prefix):
                return "postgresql+psycopg://" + url[len(prefix) :]
        return url

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _split_proxies(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @property
    def is_production(self) -> bool:
        return self.environment == "production"

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.data_dir / 'techbridge.sqlite3'}"


def resolve_secret(settings: Settings) -> Settings:
    """The settings with a usable ``secret_key``: as configured, or generated once into the data dir.

    Production never generates one: a secret that lives only on one machine's disk breaks as soon as a
    second process or host serves the app, and an operator must know where it comes from. A known
    placeholder is refused everywhere, since anyone could sign a platform admin's cookie with it.
    """
    secret = settings.secret_key
    if secret in OLD_DEFAULT_SECRETS:
        raise ValueError("TECHBRIDGE_SECRET_KEY is a published placeholder; set a random value of your own")
    if settings.is_production:
        if len(secret) < MIN_PRODUCTION_SECRET:
            raise ValueError(
                f"TECHBRIDGE_SECRET_KEY must be set in production, at least {MIN_PRODUCTION_SECRET} "
                'characters (e.g. python -c "import secrets; print(secrets.token_urlsafe(48))")'
            )
        return settings
    if secret:
        return settings
    path = settings.data_dir / SECRET_FILE
    _log.warning(
        "TECHBRIDGE_SECRET_KEY is not set: using the generated secret in %s (%s mode). "
        "Never run like this on the internet: set TECHBRIDGE_ENVIRONMENT=production and "
        "TECHBRIDGE_SECRET_KEY.",
        path,
        settings.environment,
    )
    return settings.model_copy(update={"secret_key": _load_or_create_secret(path)})


def _load_or_create_secret(path: Path) -> str:
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        # Written whole to a private temporary file, then linked into place: two processes starting at
        # once keep one secret, and neither ever reads a half-written file.
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".secret-")  # mode 0600
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(secrets.token_urlsafe(48) + "\n")
        try:
            os.link(temporary, path)
        except FileExistsError:
            pass
        finally:
            os.unlink(temporary)
    secret = path.read_text(encoding="utf-8").strip()
    if len(secret) < MIN_PRODUCTION_SECRET:
        raise ValueError(f"{path} holds no usable secret: delete it, or set TECHBRIDGE_SECRET_KEY")
    return secret


@lru_cache
def get_settings() -> Settings:
    return Settings()
