"""ai providers: ai_provider, ai_provider_call

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06 18:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

import augury.store.base

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ai_provider",
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("base_url", sa.String(length=2000), nullable=False),
        sa.Column("model", sa.String(length=200), nullable=False),
        sa.Column("api_key_encrypted", sa.Text(), nullable=True),
        sa.Column("key_hint", sa.String(length=8), nullable=True),
        sa.Column("is_default", sa.Boolean(), nullable=False),
        sa.Column("timeout_s", sa.Float(), nullable=False),
        sa.Column("updated_at", augury.store.base.UTCDateTime(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("created_at", augury.store.base.UTCDateTime(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["user_account.id"],
            name=op.f("fk_ai_provider_created_by_id_user_account"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organization.id"],
            name=op.f("fk_ai_provider_org_id_organization"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ai_provider")),
        sa.UniqueConstraint("org_id", "name", name="uq_ai_provider_org_name"),
    )
    with op.batch_alter_table("ai_provider", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ai_provider_org_id"), ["org_id"], unique=False)

    op.create_table(
        "ai_provider_call",
        sa.Column("provider_id", sa.Integer(), nullable=False),
        sa.Column("latency_ms", sa.Float(), nullable=False),
        sa.Column("ok", sa.Boolean(), nullable=False),
        sa.Column("error", sa.String(length=300), nullable=True),
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("created_at", augury.store.base.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["provider_id"],
            ["ai_provider.id"],
            name=op.f("fk_ai_provider_call_provider_id_ai_provider"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ai_provider_call")),
    )
    with op.batch_alter_table("ai_provider_call", schema=None) as batch_op:
        batch_op.create_index(
            "ix_ai_provider_call_provider_created", ["provider_id", "created_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("ai_provider_call", schema=None) as batch_op:
        batch_op.drop_index("ix_ai_provider_call_provider_created")

    op.drop_table("ai_provider_call")
    with op.batch_alter_table("ai_provider", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ai_provider_org_id"))

    op.drop_table("ai_provider")
