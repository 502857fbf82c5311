"""What the parties do on a deal besides moving its stage: notes, files (uploaded, stored, downloaded),
and the contacts of the people on the other side.

Files are streamed to ``<data dir>/deal-files/<deal id>/<random key>`` in chunks, never read whole into
memory, refused past the size limit or with a type outside ``ALLOWED_SUFFIXES``; the stored key is ours,
so a download never trusts a name a client sent. A file is served only to those who may see its deal.

Everything runs in the caller's session. The two writes that store files commit it before they return:
a file on disk is kept only beside committed rows, and a failure rolls the session back and removes it.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from sqlalchemy.orm import Session

from ..domain.access import Scope
from ..domain.accounts import ROLE_LABELS_ZH, User
from ..domain.deal_rules import can_take_part
from ..domain.deals import Attachment, Deal
from ..domain.records import Expert
from ..errors import FileTooLarge, InvalidInput, NotFound, PermissionDenied
from ..store import accounts as account_store
from ..store import deal_notes as note_store
from ..store.deal_notes import DealFile, DealNote
from ..store.records import get_records
from ..store.tables import utcnow
from . import deals, notices

CHUNK = 64 * 1024
MAX_FILES = 10
ALLOWED_SUFFIXES: dict[str, str] = {
    ".pdf": "application/pdf",
    ".doc": "application/msword",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".xls": "application/vnd.ms-excel",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".ppt": "application/vnd.ms-powerpoint",
    ".pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    ".txt": "text/plain",
    ".csv": "text/csv",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".zip": "application/zip",
}


@dataclass(frozen=True)
class Upload:
    """A file as it arrives: its client-side name and a readable stream (a spooled temp file)."""

    name: str
    stream: BinaryIO


@dataclass(frozen=True)
class Stored:
    name: str
    size: int
    content_type: str
    key: str


class FileStore:
    """The deal files under the data directory."""

    def __init__(self, data_dir: Path, max_bytes: int) -> None:
        self.root = Path(data_dir) / "deal-files"
        self.max_bytes = max_bytes

    def path(self, deal_id: int, key: str) -> Path:
        return self.root / str(int(deal_id)) / key

    def save(self, deal_id: int, upload: Upload) -> Stored:
        name = Path(upload.name.replace("\\", "/")).name.strip()[:200]
        suffix = Path(name).suffix.lower()
        if not name or suffix not in ALLOWED_SUFFIXES:
            allowed = "、".join(s.lstrip(".").upper() for s in ALLOWED_SUFFIXES)
            raise InvalidInput(
                f"不支持的附件类型 {suffix or '(无扩展名)'}: {name or '未命名文件'}, 可上传 {allowed}"
            )
        key = secrets.token_hex(16) + suffix
        target = self.path(deal_id, key)
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_suffix(target.suffix + ".part")
        size = 0
        try:
            with partial.open("wb") as out:
                while chunk := upload.stream.read(CHUNK):
                    size += len(chunk)
                    if size > self.max_bytes:
                        raise FileTooLarge(
                            f"附件 {name} 超过 {self.max_bytes // (1024 * 1024)} MB 上限, 请压缩后再上传"
                        )
                    out.write(chunk)
            partial.replace(target)
        finally:
            partial.unlink(missing_ok=True)
        return Stored(name=name, size=size, content_type=ALLOWED_SUFFIXES[suffix], key=key)

    def remove(self, deal_id: int, keys: Sequence[str]) -> None:
        for key in keys:
            self.path(deal_id, key).unlink(missing_ok=True)


def _save_all(store: FileStore, deal_id: int, uploads: Sequence[Upload]) -> list[Stored]:
    if len(uploads) > MAX_FILES:
        raise InvalidInput(f"一次最多上传 {MAX_FILES} 个附件")
    saved: list[Stored] = []
    try:
        for upload in uploads:
            saved.append(store.save(deal_id, upload))
    except Exception:
        store.remove(deal_id, [s.key for s in saved])
        raise
    return saved


def _record_files(
    session: Session, deal_id: int, saved: Sequence[Stored], *, user: User, note_id: int | None = None
) -> list[DealFile]:
    return [
        note_store.add_file(
            session,
            deal_id,
            name=s.name,
            size=s.size,
            content_type=s.content_type,
            storage_key=s.key,
            uploaded_by=user.username,
            note_id=note_id,
        )
        for s in saved
    ]


def post_note(
    session: Session, deal_id: int, *, user: User, body: str, uploads: Sequence[Upload], files: FileStore
) -> DealNote:
    """A party's follow-up note with optional files; everyone else on the deal is told. Commits ``session``
    (see the module docstring)."""
    deal = deals.get_deal(session, deal_id, user=user)
    if not can_take_part(user, deal):
        raise PermissionDenied("只有撮合项目的参与方可以留言或上传附件")
    text = body.strip()
    if not text and not uploads:
        raise InvalidInput("请填写留言内容或选择附件")
    if len(text) > 5000:
        raise InvalidInput("留言不能超过 5000 字")
    saved = _save_all(files, deal_id, uploads)
    try:
        note_id = note_store.add_note(
            session, deal_id, author=user.username, author_name=user.display_name, body=text, at=utcnow()
        )
        _record_files(session, deal_id, saved, user=user, note_id=note_id)
        notices.send(
            session,
            # Only those who may read the notes: a zone that only supplied a resource sees none.
            user_ids=[
                u.id for u in _party_accounts(session, deal) if u.id != user.id and can_take_part(u, deal)
            ],
            kind="deal",
            title=f"撮合项目有新留言: {deal.title}",
            body=f"{user.display_name or user.username}: {text[:100]}",
            link=f"/deals/{deal_id}#notes",
        )
        note = next(n for n in note_store.list_notes(session, deal_id) if n.id == note_id)
        session.commit()  # the saved files are kept only beside committed rows
        return note
    except Exception:
        session.rollback()
        files.remove(deal_id, [s.key for s in saved])
        raise


def advance_with_files(
    session: Session,
    deal_id: int,
    *,
    user: User,
    uploads: Sequence[Upload],
    files: FileStore,
    **transition: object,
) -> Deal:
    """``deals.advance`` with files stored and linked to the stage change; a refused change keeps none.
    Commits ``session`` (see the module docstring)."""
    deal = deals.get_deal(session, deal_id, user=user)
    deals.require_officer(user, deal)
    saved = _save_all(files, deal.id, uploads)
    try:
        attachments = [
            Attachment(name=f.name, size=f.size, content_type=f.content_type, file_id=f.id)
            for f in _record_files(session, deal_id, saved, user=user)
        ]
        moved = deals.advance(
            session,
            deal_id,
            actor=user.username,
            scope=user.scope,
            attachments=attachments,
            **transition,  # type: ignore[arg-type]
        )
        session.commit()  # the saved files are kept only beside committed rows
        return moved
    except Exception:
        session.rollback()  # the file rows go with the refused change
        files.remove(deal_id, [s.key for s in saved])
        raise


def open_file(
    session: Session, deal_id: int, file_id: int, *, user: User, files: FileStore
) -> tuple[Path, DealFile]:
    """The stored file of a deal the user takes part in: another zone's deal is 404, like the deal itself,
    and so is a file of a deal the user sees only redacted (a zone that supplied a resource)."""
    if not can_take_part(user, deals.get_deal(session, deal_id, user=user)):
        raise NotFound("附件", file_id)
    found = note_store.get_file(session, deal_id, file_id)
    path = files.path(deal_id, found.storage_key)
    if not path.is_file():
        raise NotFound("附件", file_id)
    return path, found


def list_notes(session: Session, deal_id: int) -> list[DealNote]:
    return note_store.list_notes(session, deal_id)


@dataclass
class PartyContact:
    """One side of a deal: the organisation, what it brings, its accounts and (for experts) contacts."""

    organization: str
    role: str
    people: list[tuple[str, str]] = field(default_factory=list)  # (display name, role label)
    experts: list[tuple[str, str, str]] = field(default_factory=list)  # (name, 职称, contact)


def _party_accounts(session: Session, deal: Deal) -> list[User]:
    orgs = [deal.enterprise, *(r.owner for r in deal.resources)]
    return account_store.users_of_organizations(session, orgs)


def contacts(session: Session, deal: Deal, *, user: User) -> list[PartyContact]:
    """The parties and how to reach them, for those on the deal (officers of its zones and the parties):
    expert contacts are shown to them even across zones, which the record pages keep private."""
    if not can_take_part(user, deal):
        return []
    roles = {"achievement": "成果方", "expert": "专家", "instrument": "仪器方", "pilot_platform": "中试平台"}
    sides: dict[str, PartyContact] = {}
    if deal.enterprise:
        sides[deal.enterprise] = PartyContact(deal.enterprise, "需求方")
    for r in deal.resources:
        if r.owner and r.owner not in sides:
            sides[r.owner] = PartyContact(r.owner, roles.get(r.kind, "资源方"))
    for account in _party_accounts(session, deal):
        side = sides.get(account.organization or "")
        if side is not None:
            side.people.append((account.display_name or account.username, ROLE_LABELS_ZH[account.role]))
    expert_ids = [r.record_id for r in deal.resources if r.kind == "expert"]
    for stored in get_records(session, "expert", expert_ids, scope=Scope.platform()).values():
        expert = stored.record
        assert isinstance(expert, Expert)
        side = sides.setdefault(
            expert.organization or expert.name, PartyContact(expert.organization or "", "专家")
        )
        side.experts.append((expert.name, expert.title or "", expert.contact or ""))
    return list(sides.values())
