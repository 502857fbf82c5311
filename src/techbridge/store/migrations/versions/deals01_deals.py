"""deals: deals, the resources each links, and their stage history

Revision ID: deals01
Revises: 0001
Create Date: 2026-11-26 05:51:25.016584
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "deals01"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "deals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("zone_code", sa.String(length=32), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("stage", sa.String(length=16), nullable=False),
        sa.Column("demand_id", sa.Integer(), nullable=True),
        sa.Column("enterprise", sa.String(length=200), nullable=False),
        sa.Column("industry_chain", sa.String(length=50), nullable=True),
        sa.Column("drop_reason", sa.Text(), nullable=False),
        sa.Column("contract_value", sa.Float(), nullable=True),
        sa.Column("funding_amount", sa.Float(), nullable=True),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["demand_id"], ["demands.id"], name=op.f("fk_deals_demand_id_demands")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deals")),
    )
    with op.batch_alter_table("deals", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_deals_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_deals_demand_id"), ["demand_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_deals_industry_chain"), ["industry_chain"], unique=False)
        batch_op.create_index(batch_op.f("ix_deals_stage"), ["stage"], unique=False)
        batch_op.create_index(batch_op.f("ix_deals_zone_code"), ["zone_code"], unique=False)

    op.create_table(
        "deal_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("deal_id", sa.Integer(), nullable=False),
        sa.Column("from_stage", sa.String(length=16), nullable=True),
        sa.Column("to_stage", sa.String(length=16), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("attachments", sa.JSON(), nullable=False),
        sa.Column("contract_value", sa.Float(), nullable=True),
        sa.Column("funding_amount", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(
            ["deal_id"], ["deals.id"], name=op.f("fk_deal_events_deal_id_deals"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deal_events")),
    )
    with op.batch_alter_table("deal_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_deal_events_deal_id"), ["deal_id"], unique=False)

    op.create_table(
        "deal_resources",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("deal_id", sa.Integer(), nullable=False),
        sa.Column("resource_kind", sa.String(length=20), nullable=False),
        sa.Column("resource_id", sa.Integer(), nullable=False),
        sa.Column("resource_zone", sa.String(length=32), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.ForeignKeyConstraint(
            ["deal_id"], ["deals.id"], name=op.f("fk_deal_resources_deal_id_deals"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deal_resources")),
        sa.UniqueConstraint("deal_id", "resource_kind", "resource_id", name="uq_deal_resources_resource"),
    )
    with op.batch_alter_table("deal_resources", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_deal_resources_deal_id"), ["deal_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_deal_resources_resource_zone"), ["resource_zone"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("deal_resources", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_deal_resources_resource_zone"))
        batch_op.drop_index(batch_op.f("ix_deal_resources_deal_id"))

    op.drop_table("deal_resources")
    with op.batch_alter_table("deal_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_deal_events_deal_id"))

    op.drop_table("deal_events")
    with op.batch_alter_table("deals", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_deals_zone_code"))
        batch_op.drop_index(batch_op.f("ix_deals_stage"))
        batch_op.drop_index(batch_op.f("ix_deals_industry_chain"))
        batch_op.drop_index(batch_op.f("ix_deals_demand_id"))
        batch_op.drop_index(batch_op.f("ix_deals_created_at"))

    op.drop_table("deals")
