"""auth session families: auth_session.family_id, rotated_at

A refresh rotates into a new row of the same family; a rotated token presented again
revokes the family (reuse detection). Existing rows become one-row families.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 03:45:00
"""

import sqlalchemy as sa
from alembic import op

import augury.store.base

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("auth_session", schema=None) as batch_op:
        batch_op.add_column(sa.Column("family_id", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("rotated_at", augury.store.base.UTCDateTime(), nullable=True))
    auth_session = sa.table("auth_session", sa.column("id"), sa.column("family_id"))
    op.execute(auth_session.update().values(family_id=sa.cast(auth_session.c.id, sa.String(32))))
    with op.batch_alter_table("auth_session", schema=None) as batch_op:
        batch_op.alter_column("family_id", existing_type=sa.String(length=32), nullable=False)
        batch_op.create_index(batch_op.f("ix_auth_session_family_id"), ["family_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("auth_session", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_auth_session_family_id"))
        batch_op.drop_column("rotated_at")
        batch_op.drop_column("family_id")
