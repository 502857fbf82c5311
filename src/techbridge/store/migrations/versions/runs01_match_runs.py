"""match_runs: when each record's matches were last computed, also when none was good enough

Revision ID: runs01
Revises: jobs01
Create Date: 2026-12-01 11:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "runs01"
down_revision = "jobs01"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "match_runs",
        sa.Column("source_kind", sa.String(length=20), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("source_kind", "source_id", name=op.f("pk_match_runs")),
    )
    # Records matched before this table existed keep the time of their stored lists.
    op.execute(
        "INSERT INTO match_runs (source_kind, source_id, computed_at) "
        "SELECT source_kind, source_id, MAX(computed_at) FROM match_results GROUP BY source_kind, source_id"
    )


def downgrade() -> None:
    op.drop_table("match_runs")
