"""text models and analyses: text_model (trained or uploaded versions of a project's
model, one active), text_analysis (batch analyses), text_analysis_result (a segment's
tags) and text_analysis_tag (one row per tag, for filters and aggregates)

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06 18:33:17.077591
"""

import sqlalchemy as sa
from alembic import op

import augury.store.base

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "text_model",
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("task", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("origin", sa.String(length=20), nullable=False),
        sa.Column("training", sa.JSON(), nullable=False),
        sa.Column("vocabulary", sa.JSON(), nullable=False),
        sa.Column("metrics", sa.JSON(), nullable=True),
        sa.Column("report", sa.JSON(), nullable=True),
        sa.Column("artifact", sa.String(length=500), nullable=True),
        sa.Column("content_hash", sa.String(length=80), nullable=True),
        sa.Column("size_bytes", sa.Integer(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("job_id", sa.Integer(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("trained_at", augury.store.base.UTCDateTime(), nullable=True),
        sa.Column("updated_at", augury.store.base.UTCDateTime(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("created_at", augury.store.base.UTCDateTime(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["user_account.id"],
            name=op.f("fk_text_model_created_by_id_user_account"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["job_id"], ["job.id"], name=op.f("fk_text_model_job_id_job"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organization.id"],
            name=op.f("fk_text_model_org_id_organization"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["text_project.id"],
            name=op.f("fk_text_model_project_id_text_project"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_text_model")),
        sa.UniqueConstraint(
            "project_id", "name", "version", name="uq_text_model_project_name_version"
        ),
    )
    with op.batch_alter_table("text_model", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_text_model_org_id"), ["org_id"], unique=False)
        batch_op.create_index(
            "ix_text_model_project_status", ["project_id", "status"], unique=False
        )

    op.create_table(
        "text_analysis",
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("model_id", sa.Integer(), nullable=True),
        sa.Column("model_label", sa.String(length=300), nullable=False),
        sa.Column("source", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("job_id", sa.Integer(), nullable=True),
        sa.Column("document_count", sa.Integer(), nullable=False),
        sa.Column("segment_count", sa.Integer(), nullable=False),
        sa.Column("review_count", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("finished_at", augury.store.base.UTCDateTime(), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("created_at", augury.store.base.UTCDateTime(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["user_account.id"],
            name=op.f("fk_text_analysis_created_by_id_user_account"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["job_id"], ["job.id"], name=op.f("fk_text_analysis_job_id_job"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["model_id"],
            ["text_model.id"],
            name=op.f("fk_text_analysis_model_id_text_model"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organization.id"],
            name=op.f("fk_text_analysis_org_id_organization"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["text_project.id"],
            name=op.f("fk_text_analysis_project_id_text_project"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_text_analysis")),
    )
    with op.batch_alter_table("text_analysis", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_text_analysis_org_id"), ["org_id"], unique=False)
        batch_op.create_index("ix_text_analysis_project_id_id", ["project_id", "id"], unique=False)

    op.create_table(
        "text_analysis_result",
        sa.Column("analysis_id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("segment_id", sa.Integer(), nullable=False),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("confidence", sa.Float(), nullable=False),
        sa.Column("occurred_at", augury.store.base.UTCDateTime(), nullable=True),
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.ForeignKeyConstraint(
            ["analysis_id"],
            ["text_analysis.id"],
            name=op.f("fk_text_analysis_result_analysis_id_text_analysis"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["text_document.id"],
            name=op.f("fk_text_analysis_result_document_id_text_document"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["segment_id"],
            ["text_segment.id"],
            name=op.f("fk_text_analysis_result_segment_id_text_segment"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_text_analysis_result")),
    )
    with op.batch_alter_table("text_analysis_result", schema=None) as batch_op:
        batch_op.create_index(
            "ix_text_analysis_result_analysis_confidence",
            ["analysis_id", "confidence"],
            unique=False,
        )
        batch_op.create_index(
            "ix_text_analysis_result_analysis_id", ["analysis_id", "id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_text_analysis_result_document_id"), ["document_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_text_analysis_result_segment_id"), ["segment_id"], unique=False
        )

    op.create_table(
        "text_analysis_tag",
        sa.Column("analysis_id", sa.Integer(), nullable=False),
        sa.Column("result_id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("class_id", sa.Integer(), nullable=True),
        sa.Column("class_name", sa.String(length=200), nullable=True),
        sa.Column("label_id", sa.Integer(), nullable=True),
        sa.Column("label_name", sa.String(length=200), nullable=True),
        sa.Column("confidence", sa.Float(), nullable=False),
        sa.Column("occurred_at", augury.store.base.UTCDateTime(), nullable=True),
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.ForeignKeyConstraint(
            ["analysis_id"],
            ["text_analysis.id"],
            name=op.f("fk_text_analysis_tag_analysis_id_text_analysis"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["result_id"],
            ["text_analysis_result.id"],
            name=op.f("fk_text_analysis_tag_result_id_text_analysis_result"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_text_analysis_tag")),
    )
    with op.batch_alter_table("text_analysis_tag", schema=None) as batch_op:
        batch_op.create_index(
            "ix_text_analysis_tag_analysis_class", ["analysis_id", "class_name"], unique=False
        )
        batch_op.create_index(
            "ix_text_analysis_tag_analysis_label", ["analysis_id", "label_name"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_text_analysis_tag_result_id"), ["result_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("text_analysis_tag", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_text_analysis_tag_result_id"))
        batch_op.drop_index("ix_text_analysis_tag_analysis_label")
        batch_op.drop_index("ix_text_analysis_tag_analysis_class")

    op.drop_table("text_analysis_tag")
    with op.batch_alter_table("text_analysis_result", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_text_analysis_result_segment_id"))
        batch_op.drop_index(batch_op.f("ix_text_analysis_result_document_id"))
        batch_op.drop_index("ix_text_analysis_result_analysis_id")
        batch_op.drop_index("ix_text_analysis_result_analysis_confidence")

    op.drop_table("text_analysis_result")
    with op.batch_alter_table("text_analysis", schema=None) as batch_op:
        batch_op.drop_index("ix_text_analysis_project_id_id")
        batch_op.drop_index(batch_op.f("ix_text_analysis_org_id"))

    op.drop_table("text_analysis")
    with op.batch_alter_table("text_model", schema=None) as batch_op:
        batch_op.drop_index("ix_text_model_project_status")
        batch_op.drop_index(batch_op.f("ix_text_model_org_id"))

    op.drop_table("text_model")
