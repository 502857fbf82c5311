"""Recompute content-derived natural keys and near-duplicate keys now that a separator between two digits
counts: "型号 1-12", "型号 11-2", "型号 11.2" and "型号112" were one key, so the second of them was refused as
"已存在" or silently skipped by an import (issue 9, item 9).

The new keys only split old ones (drop the kept separators and you get the old key back), so rows that
had distinct keys still have distinct keys and the unique index holds throughout.

Revision ID: dupkey02
Revises: dupkey01
Create Date: 2026-12-01 06:00:00
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Callable, Iterator
from typing import Any

import sqlalchemy as sa
from alembic import op

from techbridge.domain.records import content_key, near_duplicate_key

revision = "dupkey02"
down_revision = "dupkey01"
branch_labels = None
depends_on = None

# table -> the fields its content key (``Record.natural_key`` without an identifier) is made of, in order
_CONTENT_KEY_FIELDS = {
    "organizations": ("name",),
    "demands": ("zone_code", "organization", "title"),
    "achievements": ("zone_code", "owner", "title"),
    "experts": ("zone_code", "name", "organization"),
    "instruments": ("zone_code", "owner", "name", "model"),
    "pilot_platforms": ("zone_code", "operator", "name"),
}
# table -> the column naming the owning organisation (as in dupkey01)
_OWNERS = {"achievements": "owner", "demands": "organization"}
_BATCH = 5000


def _legacy_text(text: str) -> str:
    return re.sub(r"[\W_]+", "", unicodedata.normalize("NFKC", text).lower())


def _legacy_content_key(*parts: str | None) -> str:
    joined = "\x1f".join(_legacy_text(p or "") for p in parts)
    return "h:" + hashlib.sha1(joined.encode("utf-8")).hexdigest()[:20]


def _legacy_near_duplicate_key(owner: str | None, title: str) -> str:
    folded = f"{_legacy_text(owner or '')}\x1f{_legacy_text(title).removeprefix('一种')}"
    return hashlib.blake2b(folded.encode(), digest_size=10).hexdigest()


def _rows(connection: Any, table: str, columns: list[str]) -> Iterator[list[Any]]:
    """Every row of ``table`` in id order, a batch at a time (a million-row table never sits in memory)."""
    last = 0
    select = sa.text(
        f"SELECT id, {', '.join(columns)} FROM {table} WHERE id > :last ORDER BY id LIMIT {_BATCH}"
    )
    while batch := connection.execute(select, {"last": last}).all():
        yield [tuple(row) for row in batch]
        last = batch[-1][0]


def _rekey(
    content: Callable[..., str], near: Callable[[str | None, str], str], *, skip_taken: bool = False
) -> None:
    connection = op.get_bind()
    for table, fields in _CONTENT_KEY_FIELDS.items():
        owner = _OWNERS.get(table)
        near_columns = ["duplicate_key", owner, "title"] if owner else []
        taken: set[str] = set()
        if skip_taken:  # going back, two new keys may fold to one old key: the second keeps its key
            taken = {key for (key,) in connection.execute(sa.text(f"SELECT natural_key FROM {table}"))}
        assignments = "natural_key = :natural_key" + (", duplicate_key = :duplicate_key" if owner else "")
        update = sa.text(f"UPDATE {table} SET {assignments} WHERE id = :id")
        for batch in _rows(connection, table, ["natural_key", *fields, *near_columns]):
            changes = []
            for row_id, natural_key, *values in batch:
                change = {"id": row_id, "natural_key": natural_key}
                key = content(*values[: len(fields)]) if natural_key.startswith("h:") else natural_key
                if key != natural_key and key not in taken:
                    change["natural_key"] = key
                    taken.discard(natural_key)
                    taken.add(key)
                if owner:
                    stored, who, title = values[len(fields) :]
                    change["duplicate_key"] = near(who, title)
                if change["natural_key"] != natural_key or (owner and change["duplicate_key"] != stored):
                    changes.append(change)
            if changes:
                connection.execute(update, changes)


def upgrade() -> None:
    _rekey(content_key, near_duplicate_key)


def downgrade() -> None:
    _rekey(_legacy_content_key, _legacy_near_duplicate_key, skip_taken=True)
