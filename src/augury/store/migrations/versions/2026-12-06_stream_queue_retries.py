"""stream queue retries: metric_stream_queue.attempts, not_before, error, parked_at

A queue row on which a consumer fails is retried alone with backoff, then parked with
its error, instead of being retried every cycle for ever together with other
organizations' rows.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06 03:40:00
"""

import sqlalchemy as sa
from alembic import op

import augury.store.base

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("metric_stream_queue", schema=None) as batch_op:
        batch_op.add_column(sa.Column("attempts", sa.Integer(), server_default="0", nullable=False))
        batch_op.add_column(sa.Column("not_before", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("error", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("parked_at", augury.store.base.UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("metric_stream_queue", schema=None) as batch_op:
        batch_op.drop_column("parked_at")
        batch_op.drop_column("error")
        batch_op.drop_column("not_before")
        batch_op.drop_column("attempts")
