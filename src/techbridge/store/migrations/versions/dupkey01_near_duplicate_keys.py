"""Near-duplicate keys on demands and achievements, so an import can flag a title that nearly repeats an
existing record of the same organisation. Also merges the accounts and deals branches into one head.

Revision ID: dupkey01
Revises: accounts01, deals01
Create Date: 2026-11-26 07:29:40.575592
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from techbridge.domain.records import near_duplicate_key

revision = "dupkey01"
down_revision = ("accounts01", "deals01")
branch_labels = None
depends_on = None

# table -> the column naming the owning organisation
_OWNERS = {"achievements": "owner", "demands": "organization"}


def upgrade() -> None:
    for table in _OWNERS:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("duplicate_key", sa.String(length=20), nullable=True))
            batch_op.create_index(batch_op.f(f"ix_{table}_duplicate_key"), ["duplicate_key"], unique=False)
    connection = op.get_bind()
    for table, owner in _OWNERS.items():
        rows = connection.execute(sa.text(f"SELECT id, {owner}, title FROM {table}")).all()
        if rows:
            connection.execute(
                sa.text(f"UPDATE {table} SET duplicate_key = :key WHERE id = :id"),
                [{"id": row_id, "key": near_duplicate_key(who, title)} for row_id, who, title in rows],
            )


def downgrade() -> None:
    for table in _OWNERS:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(batch_op.f(f"ix_{table}_duplicate_key"))
            batch_op.drop_column("duplicate_key")
