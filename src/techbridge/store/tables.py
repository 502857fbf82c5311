"""Database tables. Column names follow the domain fields so records map across by name.

Lists (keywords, IPC codes, applicants) are JSON columns: they are read whole, and SQLite and
PostgreSQL both store JSON without extensions.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# Stable constraint names so Alembic migrations are reproducible on every backend.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {dict[str, Any]: JSON, list[str]: JSON, list[Any]: JSON}


class ZoneRow(Base):
    __tablename__ = "zones"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    province: Mapped[str] = mapped_column(String(20), index=True)
    city: Mapped[str | None] = mapped_column(String(50))
    kind: Mapped[str] = mapped_column(String(16), default="national")
    approved_date: Mapped[str | None] = mapped_column(String(7))
    leading_industries: Mapped[list[str]] = mapped_column(default=list)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class IndustryChainRow(Base):
    __tablename__ = "industry_chains"
    __table_args__ = (UniqueConstraint("zone_code", "code", name="uq_industry_chains_zone_code_code"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(50))
    keywords: Mapped[list[str]] = mapped_column(default=list)
    zone_code: Mapped[str | None] = mapped_column(String(32))


class RecordMixin:
    """Columns every imported record has; ``natural_key`` makes re-imports idempotent."""

    id: Mapped[int] = mapped_column(primary_key=True)
    natural_key: Mapped[str] = mapped_column(String(200), unique=True)
    content_hash: Mapped[str] = mapped_column(String(40))
    external_id: Mapped[str | None] = mapped_column(String(64))
    zone_code: Mapped[str] = mapped_column(String(32), index=True)
    visibility: Mapped[str] = mapped_column(String(16), default="private", index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    archived_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class OrganizationRow(RecordMixin, Base):
    __tablename__ = "organizations"
    name: Mapped[str] = mapped_column(String(200), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    credit_code: Mapped[str | None] = mapped_column(String(18))
    province: Mapped[str | None] = mapped_column(String(20))
    city: Mapped[str | None] = mapped_column(String(50))


class DemandRow(RecordMixin, Base):
    __tablename__ = "demands"
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    industry_chain: Mapped[str | None] = mapped_column(String(50), index=True)
    keywords: Mapped[list[str]] = mapped_column(default=list)
    budget_min: Mapped[float | None] = mapped_column(Float)
    budget_max: Mapped[float | None] = mapped_column(Float)
    deadline: Mapped[Any] = mapped_column(Date, nullable=True)
    organization: Mapped[str] = mapped_column(String(200), index=True)
    status: Mapped[str] = mapped_column(String(16), default="open", index=True)
    duplicate_key: Mapped[str | None] = mapped_column(String(20), index=True)


class AchievementRow(RecordMixin, Base):
    __tablename__ = "achievements"
    kind: Mapped[str] = mapped_column(String(16), index=True)
    application_number: Mapped[str | None] = mapped_column(String(20))
    publication_number: Mapped[str | None] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(String(300))
    abstract: Mapped[str] = mapped_column(Text, default="")
    claims: Mapped[str] = mapped_column(Text, default="")
    ipc_codes: Mapped[list[str]] = mapped_column(default=list)
    applicants: Mapped[list[str]] = mapped_column(default=list)
    inventors: Mapped[list[str]] = mapped_column(default=list)
    legal_status: Mapped[str] = mapped_column(String(16), default="unknown")
    trl: Mapped[int | None] = mapped_column(Integer)
    transfer_modes: Mapped[list[str]] = mapped_column(default=list)
    asking_price: Mapped[float | None] = mapped_column(Float)
    owner: Mapped[str | None] = mapped_column(String(200), index=True)
    discipline: Mapped[str | None] = mapped_column(String(50))
    keywords: Mapped[list[str]] = mapped_column(default=list)
    industry_chain: Mapped[str | None] = mapped_column(String(50), index=True)
    duplicate_key: Mapped[str | None] = mapped_column(String(20), index=True)


class ExpertRow(RecordMixin, Base):
    __tablename__ = "experts"
    name: Mapped[str] = mapped_column(String(50))
    organization: Mapped[str | None] = mapped_column(String(200))
    title: Mapped[str | None] = mapped_column(String(50))
    fields: Mapped[list[str]] = mapped_column(default=list)
    keywords: Mapped[list[str]] = mapped_column(default=list)
    bio: Mapped[str] = mapped_column(Text, default="")
    contact: Mapped[str | None] = mapped_column(String(200))
    max_active_deals: Mapped[int] = mapped_column(Integer, default=5)


class InstrumentRow(RecordMixin, Base):
    __tablename__ = "instruments"
    name: Mapped[str] = mapped_column(String(200))
    model: Mapped[str | None] = mapped_column(String(100))
    category: Mapped[str | None] = mapped_column(String(100))
    owner: Mapped[str | None] = mapped_column(String(200))
    location: Mapped[str | None] = mapped_column(String(200))
    hourly_fee: Mapped[float | None] = mapped_column(Float)
    description: Mapped[str] = mapped_column(Text, default="")
    bookable: Mapped[bool] = mapped_column(Boolean, default=True)
    opening_hours: Mapped[str | None] = mapped_column(String(200))


class PilotPlatformRow(RecordMixin, Base):
    __tablename__ = "pilot_platforms"
    name: Mapped[str] = mapped_column(String(200))
    operator: Mapped[str | None] = mapped_column(String(200))
    industry_chains: Mapped[list[str]] = mapped_column(default=list)
    capabilities: Mapped[str] = mapped_column(Text, default="")
    capacity: Mapped[str | None] = mapped_column(String(200))


class InstrumentBookingRow(Base):
    __tablename__ = "instrument_bookings"
    __table_args__ = (Index("ix_instrument_bookings_span", "instrument_id", "starts_at", "ends_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    instrument_id: Mapped[int] = mapped_column(ForeignKey("instruments.id", ondelete="CASCADE"))
    starts_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ends_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    booked_by: Mapped[str] = mapped_column(String(100))
    purpose: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    status: Mapped[str] = mapped_column(String(16), default="approved", server_default="approved")
    user_id: Mapped[int | None] = mapped_column(Integer, index=True)
    decided_by: Mapped[str] = mapped_column(String(100), default="", server_default="")
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    decision_note: Mapped[str] = mapped_column(String(500), default="", server_default="")


class SiteFlagRow(Base):
    """A few facts about this installation, e.g. that it holds the demo data (the pages then say so)."""

    __tablename__ = "site_flags"
    key: Mapped[str] = mapped_column(String(50), primary_key=True)
    value: Mapped[str] = mapped_column(Text, default="")


class MatchResultRow(Base):
    """Stored top matches of batch matching, with the reasons shown to users."""

    __tablename__ = "match_results"
    __table_args__ = (
        UniqueConstraint(
            "source_kind", "source_id", "target_kind", "target_id", name="uq_match_results_pair"
        ),
        Index("ix_match_results_source", "source_kind", "source_id", "target_kind", "rank"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    source_kind: Mapped[str] = mapped_column(String(20))
    source_id: Mapped[int] = mapped_column(Integer)
    target_kind: Mapped[str] = mapped_column(String(20))
    target_id: Mapped[int] = mapped_column(Integer, index=True)
    rank: Mapped[int] = mapped_column(Integer)
    score: Mapped[float] = mapped_column(Float)
    reasons: Mapped[list[Any]] = mapped_column(default=list)
    source_zone: Mapped[str] = mapped_column(String(32))
    target_zone: Mapped[str] = mapped_column(String(32))
    computed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class MatchRunRow(Base):
    """When one record's matches were last computed, kept even when the run found nothing good enough:
    an empty list is an answer ("暂无足够相关的…, 计算于 …"), not a sign that matching never ran."""

    __tablename__ = "match_runs"
    source_kind: Mapped[str] = mapped_column(String(20), primary_key=True)
    source_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    computed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ImportLogRow(Base):
    """One line per import run, so a zone can see what came in, from which file, and when."""

    __tablename__ = "import_log"
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    file_name: Mapped[str] = mapped_column(String(300))
    zone_code: Mapped[str | None] = mapped_column(String(32))
    total_rows: Mapped[int] = mapped_column(Integer)
    inserted: Mapped[int] = mapped_column(Integer)
    updated: Mapped[int] = mapped_column(Integer)
    unchanged: Mapped[int] = mapped_column(Integer)
    skipped: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


RECORD_TABLES: dict[str, type[RecordMixin]] = {
    "organization": OrganizationRow,
    "demand": DemandRow,
    "achievement": AchievementRow,
    "expert": ExpertRow,
    "instrument": InstrumentRow,
    "pilot_platform": PilotPlatformRow,
}
