"""Server-side browser sessions (user_sessions), case-insensitive usernames (users.username_key), and
an index for the per-address login limit.

Usernames that already differ only in case cannot all keep their names once the folded form must be
unique: the oldest account keeps its name, each later one becomes ``<name>-<id>`` (logged as a warning,
so an administrator can tell the people concerned).

Revision ID: auth02
Revises: dupkey02
Create Date: 2026-11-26 12:00:00
"""

from __future__ import annotations

import logging

import sqlalchemy as sa
from alembic import op

from techbridge.domain.accounts import username_key

revision = "auth02"
down_revision = "dupkey02"
branch_labels = None
depends_on = None

_log = logging.getLogger("alembic.runtime.migration")


def upgrade() -> None:
    op.create_table(
        "user_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_user_sessions_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_sessions")),
        sa.UniqueConstraint("key_hash", name=op.f("uq_user_sessions_key_hash")),
    )
    with op.batch_alter_table("user_sessions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_user_sessions_user_id"), ["user_id"], unique=False)

    with op.batch_alter_table("login_attempts", schema=None) as batch_op:
        batch_op.create_index("ix_login_attempts_ip", ["ip", "attempted_at"], unique=False)

    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("username_key", sa.String(length=200), nullable=True))
    _fill_username_keys(op.get_bind())
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.alter_column("username_key", existing_type=sa.String(length=200), nullable=False)
        batch_op.create_unique_constraint(batch_op.f("uq_users_username_key"), ["username_key"])


def _fill_username_keys(connection: sa.Connection) -> None:
    rows = connection.execute(sa.text("SELECT id, username FROM users ORDER BY id")).all()
    taken = {username_key(name) for _id, name in rows}
    seen: set[str] = set()
    for user_id, name in rows:
        key = username_key(name)
        if key in seen:
            suffix = f"-{user_id}"
            renamed = name[: 50 - len(suffix)] + suffix
            while username_key(renamed) in taken:
                suffix += "x"
                renamed = name[: 50 - len(suffix)] + suffix
            _log.warning("username %r differs from an older one only in case: renamed to %r", name, renamed)
            name, key = renamed, username_key(renamed)
            taken.add(key)
        seen.add(key)
        connection.execute(
            sa.text("UPDATE users SET username = :name, username_key = :key WHERE id = :id"),
            {"name": name, "key": key, "id": user_id},
        )


def downgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_users_username_key"), type_="unique")
        batch_op.drop_column("username_key")
    with op.batch_alter_table("login_attempts", schema=None) as batch_op:
        batch_op.drop_index("ix_login_attempts_ip")
    with op.batch_alter_table("user_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_user_sessions_user_id"))
    op.drop_table("user_sessions")
