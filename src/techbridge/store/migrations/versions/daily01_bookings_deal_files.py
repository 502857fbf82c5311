"""Bookings with opening hours and owner approval; deal notes and uploaded files; who owns each resource
of a deal (so a university sees the deals on its achievements); site flags (the demo banner).

Existing bookings were accepted without approval, so they become ``approved``.

Revision ID: daily01
Revises: auth02
Create Date: 2026-12-01 05:27:31.588088
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "daily01"
down_revision = "auth02"
branch_labels = None
depends_on = None

# (resource kind, table, owner column): see domain.accounts.OWNER_FIELDS
_OWNERS = (
    ("achievement", "achievements", "owner"),
    ("expert", "experts", "organization"),
    ("instrument", "instruments", "owner"),
    ("pilot_platform", "pilot_platforms", "operator"),
)


def upgrade() -> None:
    op.create_table(
        "site_flags",
        sa.Column("key", sa.String(length=50), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_site_flags")),
    )
    op.create_table(
        "deal_notes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("deal_id", sa.Integer(), nullable=False),
        sa.Column("author", sa.String(length=100), nullable=False),
        sa.Column("author_name", sa.String(length=100), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["deal_id"], ["deals.id"], name=op.f("fk_deal_notes_deal_id_deals"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deal_notes")),
    )
    with op.batch_alter_table("deal_notes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_deal_notes_deal_id"), ["deal_id"], unique=False)

    op.create_table(
        "deal_files",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("deal_id", sa.Integer(), nullable=False),
        sa.Column("note_id", sa.Integer(), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.Column("storage_key", sa.String(length=64), nullable=False),
        sa.Column("uploaded_by", sa.String(length=100), nullable=False),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["deal_id"], ["deals.id"], name=op.f("fk_deal_files_deal_id_deals"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["note_id"], ["deal_notes.id"], name=op.f("fk_deal_files_note_id_deal_notes"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deal_files")),
        sa.UniqueConstraint("storage_key", name=op.f("uq_deal_files_storage_key")),
    )
    with op.batch_alter_table("deal_files", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_deal_files_deal_id"), ["deal_id"], unique=False)

    with op.batch_alter_table("deal_resources", schema=None) as batch_op:
        batch_op.add_column(sa.Column("owner", sa.String(length=200), nullable=True))
        batch_op.create_index(batch_op.f("ix_deal_resources_owner"), ["owner"], unique=False)

    with op.batch_alter_table("instrument_bookings", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("status", sa.String(length=16), server_default="approved", nullable=False)
        )
        batch_op.add_column(sa.Column("user_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("decided_by", sa.String(length=100), server_default="", nullable=False))
        batch_op.add_column(sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(
            sa.Column("decision_note", sa.String(length=500), server_default="", nullable=False)
        )
        batch_op.create_index(batch_op.f("ix_instrument_bookings_user_id"), ["user_id"], unique=False)

    with op.batch_alter_table("instruments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("opening_hours", sa.String(length=200), nullable=True))

    # Backfill each deal resource's owning organisation from its record.
    for kind, table, column in _OWNERS:
        op.execute(
            sa.text(
                f"UPDATE deal_resources SET owner = (SELECT {column} FROM {table} "
                f"WHERE {table}.id = deal_resources.resource_id) WHERE resource_kind = :kind"
            ).bindparams(kind=kind)
        )


def downgrade() -> None:
    with op.batch_alter_table("instruments", schema=None) as batch_op:
        batch_op.drop_column("opening_hours")

    with op.batch_alter_table("instrument_bookings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_instrument_bookings_user_id"))
        batch_op.drop_column("decision_note")
        batch_op.drop_column("decided_at")
        batch_op.drop_column("decided_by")
        batch_op.drop_column("user_id")
        batch_op.drop_column("status")

    with op.batch_alter_table("deal_resources", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_deal_resources_owner"))
        batch_op.drop_column("owner")

    with op.batch_alter_table("deal_files", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_deal_files_deal_id"))

    op.drop_table("deal_files")
    with op.batch_alter_table("deal_notes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_deal_notes_deal_id"))

    op.drop_table("deal_notes")
    op.drop_table("site_flags")
