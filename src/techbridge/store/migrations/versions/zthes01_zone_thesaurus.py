"""zone_thesaurus_terms: a zone's own thesaurus rows, extending the packaged one for its demands

Revision ID: zthes01
Revises: runs01
Create Date: 2026-12-02 00:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "zthes01"
down_revision = "runs01"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "zone_thesaurus_terms",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("zone_code", sa.String(length=32), nullable=False),
        sa.Column("term", sa.String(length=50), nullable=False),
        sa.Column("related", sa.String(length=1000), nullable=False),
        sa.Column("relation", sa.String(length=8), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_zone_thesaurus_terms")),
        sa.UniqueConstraint(
            "zone_code", "term", "relation", name="uq_zone_thesaurus_terms_zone_term_relation"
        ),
    )
    with op.batch_alter_table("zone_thesaurus_terms", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_zone_thesaurus_terms_zone_code"), ["zone_code"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("zone_thesaurus_terms", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_zone_thesaurus_terms_zone_code"))
    op.drop_table("zone_thesaurus_terms")
