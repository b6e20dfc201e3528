"""index metric_anomaly (org_id, state)

The alert evaluator reads an organization's open anomalies every second. This index
was first added by editing revision 0005 after it had shipped, so a database already
at 0005 never got it; this revision adds it where it is missing (and leaves it where
the edited 0005 made it).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 07:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

INDEX = "ix_metric_anomaly_org_state"


def _has_index() -> bool:
    indexes = sa.inspect(op.get_bind()).get_indexes("metric_anomaly")
    return any(ix["name"] == INDEX for ix in indexes)


def upgrade() -> None:
    if not _has_index():
        with op.batch_alter_table("metric_anomaly", schema=None) as batch_op:
            batch_op.create_index(INDEX, ["org_id", "state"], unique=False)


def downgrade() -> None:
    if _has_index():
        with op.batch_alter_table("metric_anomaly", schema=None) as batch_op:
            batch_op.drop_index(INDEX)
