"""A zone's own related words (本园区相关词): rows added to the packaged thesaurus for its demands.

A zone whose industries use local or newer terms uploads them as a CSV with the packaged file's columns
(``term,related,relation``); an upload replaces the zone's rows as a whole, or changes nothing when a row
is wrong (the error names the row and the column). Matching reads them through ``thesauri``: a demand of
the zone expands its query with the packaged words and the zone's (docs/matching.md). Only the zone's
administrators and the platform administrator read or change them.
"""

from __future__ import annotations

import csv
import io
import threading
from collections.abc import Iterable, Mapping, Sequence
from functools import cache
from importlib import resources

from sqlalchemy.orm import Session

from ..domain.accounts import User
from ..errors import InvalidInput, PermissionDenied, TechBridgeError
from ..store import zone_thesaurus as store
from ..store.zone_thesaurus import TermRow
from ..text import Analyzer
from ..text.normalize import normalize
from ..text.thesaurus import COLUMNS, Thesaurus, ThesaurusError
from . import jobs

MAX_ROWS = 2_000
"""Rows a zone may hold: several times the packaged list (281 rows), few enough to parse per request."""
TERM_MAX_LENGTH = 50
RELATED_MAX_LENGTH = 1_000
MAX_UPLOAD_BYTES = 1 << 20
"""An upload's size at most: 2,000 rows of the longest fields fit in well under a megabyte of UTF-8."""
SOURCE = "上传的文件"


def check_can_manage(user: User, zone_code: str) -> None:
    """The zone's own administrators and the platform administrator (as for 园区设置)."""
    if not (user.is_admin and user.scope.can_edit(zone_code=zone_code)):
        raise PermissionDenied("只有本园区管理员可以查看和修改本园区相关词")


def rows(session: Session, *, user: User, zone_code: str) -> list[TermRow]:
    check_can_manage(user, zone_code)
    return store.zone_rows(session, zone_code)


def split_words(found: Sequence[TermRow]) -> set[str]:
    """The related words (as written) that matching cannot use: the segmenter splits them (热管理 → 热, 管理),
    so no index holds them as one word and expansion skips them (``MatchEngine._is_one_word``). Shown on the
    page, so an administrator can choose another word instead of wondering why a row does nothing."""
    analyzer = _analyzer()
    words = {word.strip() for row in found for word in row.related.split("|") if word.strip()}
    return {word for word in words if normalize(word) not in analyzer.tokenize(word)}


@cache
def _analyzer() -> Analyzer:
    """The analyzer batch matching indexes with (no learned terms, docs/matching.md)."""
    return Analyzer()


def parse_upload(data: bytes) -> list[TermRow]:
    """The rows of an uploaded CSV, checked as the packaged file is (``Thesaurus.parse``) and against
    the store's bounds; ``InvalidInput`` names the row and the column of the first bad one."""
    if len(data) > MAX_UPLOAD_BYTES:
        raise InvalidInput(f"{SOURCE}超过 {MAX_UPLOAD_BYTES // 1024} KB")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInput(f"{SOURCE}不是 UTF-8 编码的 CSV") from None
    found: list[TermRow] = []
    first: dict[tuple[str, str], int] = {}

    def bounded(number: int, row: Mapping[str, str | None]) -> None:
        term, relation = (row["term"] or "").strip(), row["relation"] or ""
        related = "|".join(r.strip() for r in (row["related"] or "").split("|") if r.strip())
        where = f"{SOURCE} 第 {number} 行"
        if len(term) > TERM_MAX_LENGTH:
            raise ThesaurusError(f"{where} term: 词条不超过 {TERM_MAX_LENGTH} 个字")
        if len(related) > RELATED_MAX_LENGTH:
            raise ThesaurusError(f"{where} related: 相关词合计不超过 {RELATED_MAX_LENGTH} 个字")
        key = (normalize(term), relation)
        if key in first:
            raise ThesaurusError(f"{where} term: 与第 {first[key]} 行的词条和关系重复")
        first[key] = number
        found.append(TermRow(term, related, relation))

    try:
        Thesaurus.parse(text.splitlines(), source=SOURCE, check=bounded)
    except ThesaurusError as exc:
        raise InvalidInput(str(exc)) from None
    if len(found) > MAX_ROWS:
        raise InvalidInput(f"{SOURCE}有 {len(found)} 行, 一个园区最多 {MAX_ROWS} 行")
    return found


def replace(session: Session, *, user: User, zone_code: str, data: bytes) -> int:
    """Replace the zone's rows with the uploaded CSV's (all or nothing) and queue the batch matching that
    re-ranks the zone's open demands with them (``services.matching.run_batch``). Returns the row count."""
    check_can_manage(user, zone_code)
    if not zone_code:
        raise TechBridgeError("请选择园区")
    found = parse_upload(data)
    store.replace_zone_rows(session, zone_code, found)
    jobs.schedule_batch_matching(session, zone_code=zone_code, reason="本园区相关词有更新")
    return len(found)


def as_csv(found: Sequence[TermRow]) -> str:
    """Rows as a CSV with the packaged file's header (the download of a zone's rows)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    writer.writerows(found)
    return out.getvalue()


def packaged_csv() -> str:
    """The packaged thesaurus file, offered as a template."""
    return (resources.files("techbridge") / "data" / "thesaurus.csv").read_text(encoding="utf-8")


_PARSED: dict[tuple[str, str], tuple[str, Thesaurus]] = {}
_PARSED_LOCK = threading.Lock()


def thesauri(
    session: Session, base: Thesaurus, zone_codes: Iterable[str] | None = None
) -> dict[str, Thesaurus]:
    """Per zone with rows (among ``zone_codes``; None: every zone): ``base`` extended by its rows, for
    ``MatchEngine.zone_thesauri``. A zone's parsed rows are kept in the process until they change."""
    url = session.get_bind().url.render_as_string(hide_password=True)
    found = {}
    for zone, version in store.versions(session, zone_codes).items():
        with _PARSED_LOCK:
            kept = _PARSED.get((url, zone))
        if kept is None or kept[0] != version:
            zone_words = Thesaurus.parse(as_csv(store.zone_rows(session, zone)).splitlines(), source=zone)
            kept = (version, zone_words)
            with _PARSED_LOCK:
                _PARSED[(url, zone)] = kept
        found[zone] = base.extended(kept[1])
    return found


def versions(session: Session) -> dict[str, str]:
    """Per zone with rows: a stamp that changes when its rows are replaced (batch matching compares it)."""
    return store.versions(session)
