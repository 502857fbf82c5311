"""What the parties of a deal add to it besides stage changes: follow-up notes and uploaded files.

A file's bytes live under the data directory (``FileStore`` in ``services.deal_files``); this table keeps
its name, size, type and the random key it is stored under, so a download never trusts a client's path.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Integer, String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from ..errors import NotFound
from .deals import as_utc
from .tables import Base, utcnow


class DealNoteRow(Base):
    __tablename__ = "deal_notes"
    id: Mapped[int] = mapped_column(primary_key=True)
    deal_id: Mapped[int] = mapped_column(ForeignKey("deals.id", ondelete="CASCADE"), index=True)
    author: Mapped[str] = mapped_column(String(100))
    author_name: Mapped[str] = mapped_column(String(100), default="")
    body: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class DealFileRow(Base):
    __tablename__ = "deal_files"
    id: Mapped[int] = mapped_column(primary_key=True)
    deal_id: Mapped[int] = mapped_column(ForeignKey("deals.id", ondelete="CASCADE"), index=True)
    note_id: Mapped[int | None] = mapped_column(ForeignKey("deal_notes.id", ondelete="SET NULL"))
    name: Mapped[str] = mapped_column(String(200))
    size: Mapped[int] = mapped_column(Integer)
    content_type: Mapped[str] = mapped_column(String(100), default="application/octet-stream")
    storage_key: Mapped[str] = mapped_column(String(64), unique=True)
    uploaded_by: Mapped[str] = mapped_column(String(100))
    uploaded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


@dataclass(frozen=True)
class DealFile:
    id: int
    deal_id: int
    note_id: int | None
    name: str
    size: int
    content_type: str
    storage_key: str
    uploaded_by: str
    uploaded_at: datetime


@dataclass(frozen=True)
class DealNote:
    id: int
    deal_id: int
    author: str
    author_name: str
    body: str
    at: datetime
    files: tuple[DealFile, ...] = ()


def _file(row: DealFileRow) -> DealFile:
    return DealFile(
        id=row.id,
        deal_id=row.deal_id,
        note_id=row.note_id,
        name=row.name,
        size=row.size,
        content_type=row.content_type,
        storage_key=row.storage_key,
        uploaded_by=row.uploaded_by,
        uploaded_at=as_utc(row.uploaded_at),
    )


def add_note(
    session: Session, deal_id: int, *, author: str, author_name: str, body: str, at: datetime
) -> int:
    row = DealNoteRow(deal_id=deal_id, author=author, author_name=author_name, body=body, at=at)
    session.add(row)
    session.flush()
    return row.id


def add_file(
    session: Session,
    deal_id: int,
    *,
    name: str,
    size: int,
    content_type: str,
    storage_key: str,
    uploaded_by: str,
    note_id: int | None = None,
) -> DealFile:
    row = DealFileRow(
        deal_id=deal_id,
        note_id=note_id,
        name=name,
        size=size,
        content_type=content_type,
        storage_key=storage_key,
        uploaded_by=uploaded_by,
        uploaded_at=utcnow(),
    )
    session.add(row)
    session.flush()
    return _file(row)


def get_file(session: Session, deal_id: int, file_id: int) -> DealFile:
    row = session.scalar(select(DealFileRow).where(DealFileRow.id == file_id, DealFileRow.deal_id == deal_id))
    if row is None:
        raise NotFound("附件", file_id)
    return _file(row)


def list_notes(session: Session, deal_id: int) -> list[DealNote]:
    """The deal's notes, oldest first, each with the files uploaded with it."""
    files: dict[int | None, list[DealFile]] = {}
    for f in session.scalars(
        select(DealFileRow).where(DealFileRow.deal_id == deal_id).order_by(DealFileRow.id)
    ):
        files.setdefault(f.note_id, []).append(_file(f))
    rows = session.scalars(
        select(DealNoteRow).where(DealNoteRow.deal_id == deal_id).order_by(DealNoteRow.at, DealNoteRow.id)
    )
    return [
        DealNote(r.id, r.deal_id, r.author, r.author_name, r.body, as_utc(r.at), tuple(files.get(r.id, ())))
        for r in rows
    ]


def delete_files(session: Session, deal_id: int, file_ids: list[int]) -> None:
    """Forget file rows whose stage change was refused (their bytes are removed by the caller)."""
    for row in session.scalars(
        select(DealFileRow).where(DealFileRow.deal_id == deal_id, DealFileRow.id.in_(file_ids))
    ):
        session.delete(row)
    session.flush()
