"""index audit_event (actor_email, created_at)

Each login reads the recent login attempts on its account from the audit log (to
throttle guessing per account and address); without this index that read scans every
``auth.login`` event of every account.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 08:20:00
"""

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.create_index(
            "ix_audit_event_actor_email_created", ["actor_email", "created_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_event_actor_email_created")
