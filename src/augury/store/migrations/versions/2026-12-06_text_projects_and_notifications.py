"""text projects and notifications: text_project and its members, classes, labels, files,
documents (with full-text search), segments, groups, sessions, annotations, marks, human
review; notification

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06 15:15:57.321408
"""

import sqlalchemy as sa
from alembic import op

import augury.store.base

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "notification",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=50), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("link", sa.String(length=500), nullable=True),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("read_at", augury.store.base.UTCDateTime(), nullable=True),
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("created_at", augury.store.base.UTCDateTime(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organization.id"],
            name=op.f("fk_notification_org_id_organization"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user_account.id"],
            name=op.f("fk_notification_user_id_user_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification")),
    )
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_notification_org_id"), ["org_id"], unique=False)
        batch_op.create_index("ix_notification_user_read", ["user_id", "read_at"], unique=False)

    op.create_table(
        "text_project",
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("type", sa.String(length=20), nullable=False),
        sa.Column("language", sa.String(length=20), nullable=False),
        sa.Column("segmentation", sa.String(length=20), nullable=False),
        sa.Column("settings", sa.JSON(), nullable=False),
        sa.Column("document_count", sa.Integer(), nullable=False),
        sa.Column("updated_at", augury.store.base.UTCDateTime(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("created_at", augury.store.base.UTCDateTime(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["user_account.id"],
            name=op.f("fk_text_project_created_by_id_user_account"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organization.id"],
            name=op.f("fk_text_project_org_id_organization"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_text_project")),
        sa.UniqueConstraint("org_id", "name", name="uq_text_project_org_name"),
    )
    with op.batch_alter_table("text_project", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_text_project_org_id"), ["org_id"], unique=False)

    op.create_table(
        "text_class",
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("examples", sa.JSON(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("created_at", augury.store.base.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["text_project.id"],
            name=op.f("fk_text_class_project_id_text_project"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_text_class")),
        sa.UniqueConstraint("project_id", "name", name="uq_text_class_project_name"),
    )
    op.create_table(
        "text_document",
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("external_id", sa.String(length=200), nullable=True),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("meta", sa.JSON(), nullable=False),
        sa.Column("pages", sa.JSON(), nullable=True),
        sa.Column("segmentation", sa.String(length=20), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("length", sa.Integer(), nullable=False),
        sa.Column("segment_count", sa.Integer(), nullable=False),
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("created_at", augury.store.base.UTCDateTime(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organization.id"],
            name=op.f("fk_text_document_org_id_organization"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["text_project.id"],
            name=op.f("fk_text_document_project_id_text_project"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_text_document")),
        sa.UniqueConstraint("project_id", "external_id", name="uq_text_document_project_external"),
    )
    with op.batch_alter_table("text_document", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_text_document_org_id"), ["org_id"], unique=False)
        batch_op.create_index("ix_text_document_project_id_id", ["project_id", "id"], unique=False)

    op.create_table(
        "text_file",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=True),
        sa.Column("file_name", sa.String(length=255), nullable=False),
        sa.Column("format", sa.String(length=10), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("storage_key", sa.String(length=255), nullable=False),
        sa.Column("columns", sa.JSON(), nullable=False),
        sa.Column("row_count", sa.Integer(), nullable=False),
        sa.Column("preview", sa.JSON(), nullable=False),
        sa.Column("expires_at", augury.store.base.UTCDateTime(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", augury.store.base.UTCDateTime(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["user_account.id"],
            name=op.f("fk_text_file_created_by_id_user_account"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organization.id"],
            name=op.f("fk_text_file_org_id_organization"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["text_project.id"],
            name=op.f("fk_text_file_project_id_text_project"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_text_file")),
    )
    with op.batch_alter_table("text_file", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_text_file_org_id"), ["org_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_text_file_project_id"), ["project_id"], unique=False)

    op.create_table(
        "text_group",
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("document_count", sa.Integer(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("created_at", augury.store.base.UTCDateTime(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["user_account.id"],
            name=op.f("fk_text_group_created_by_id_user_account"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organization.id"],
            name=op.f("fk_text_group_org_id_organization"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["text_project.id"],
            name=op.f("fk_text_group_project_id_text_project"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_text_group")),
        sa.UniqueConstraint("project_id", "name", name="uq_text_group_project_name"),
    )
    with op.batch_alter_table("text_group", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_text_group_org_id"), ["org_id"], unique=False)

    op.create_table(
        "text_label",
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("examples", sa.JSON(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("fixed", sa.Boolean(), nullable=False),
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("created_at", augury.store.base.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["text_project.id"],
            name=op.f("fk_text_label_project_id_text_project"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_text_label")),
        sa.UniqueConstraint("project_id", "name", name="uq_text_label_project_name"),
    )
    op.create_table(
        "text_project_member",
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("created_at", augury.store.base.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["text_project.id"],
            name=op.f("fk_text_project_member_project_id_text_project"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user_account.id"],
            name=op.f("fk_text_project_member_user_id_user_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_text_project_member")),
        sa.UniqueConstraint("project_id", "user_id", name="uq_text_project_member_project_user"),
    )
    with op.batch_alter_table("text_project_member", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_text_project_member_user_id"), ["user_id"], unique=False
        )

    op.create_table(
        "text_review_config",
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("threshold", sa.Float(), nullable=False),
        sa.Column("class_ids", sa.JSON(), nullable=True),
        sa.Column("assignee_ids", sa.JSON(), nullable=False),
        sa.Column("webhook_url", sa.String(length=2000), nullable=True),
        sa.Column("webhook_secret", sa.String(length=200), nullable=True),
        sa.Column("updated_at", augury.store.base.UTCDateTime(), nullable=False),
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("created_at", augury.store.base.UTCDateTime(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organization.id"],
            name=op.f("fk_text_review_config_org_id_organization"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["text_project.id"],
            name=op.f("fk_text_review_config_project_id_text_project"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_text_review_config")),
        sa.UniqueConstraint("project_id", name="uq_text_review_config_project"),
    )
    with op.batch_alter_table("text_review_config", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_text_review_config_org_id"), ["org_id"], unique=False)

    op.create_table(
        "text_session",
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("mode", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("class_ids", sa.JSON(), nullable=True),
        sa.Column("label_ids", sa.JSON(), nullable=True),
        sa.Column("sampling", sa.JSON(), nullable=False),
        sa.Column("model_id", sa.Integer(), nullable=True),
        sa.Column("predicted_score", sa.JSON(), nullable=True),
        sa.Column("document_count", sa.Integer(), nullable=False),
        sa.Column("job_id", sa.Integer(), nullable=True),
        sa.Column("finished_at", augury.store.base.UTCDateTime(), nullable=True),
        sa.Column("updated_at", augury.store.base.UTCDateTime(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("created_at", augury.store.base.UTCDateTime(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["user_account.id"],
            name=op.f("fk_text_session_created_by_id_user_account"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["job_id"], ["job.id"], name=op.f("fk_text_session_job_id_job"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organization.id"],
            name=op.f("fk_text_session_org_id_organization"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["text_project.id"],
            name=op.f("fk_text_session_project_id_text_project"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_text_session")),
    )
    with op.batch_alter_table("text_session", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_text_session_org_id"), ["org_id"], unique=False)
        batch_op.create_index("ix_text_session_project_mode", ["project_id", "mode"], unique=False)

    op.create_table(
        "text_group_document",
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["text_document.id"],
            name=op.f("fk_text_group_document_document_id_text_document"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["text_group.id"],
            name=op.f("fk_text_group_document_group_id_text_group"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("group_id", "document_id", name=op.f("pk_text_group_document")),
    )
    with op.batch_alter_table("text_group_document", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_text_group_document_document_id"), ["document_id"], unique=False
        )

    op.create_table(
        "text_mark",
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("user_key", sa.String(length=40), nullable=False),
        sa.Column("scope", sa.String(length=10), nullable=False),
        sa.Column("ref", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=20), nullable=False),
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("created_at", augury.store.base.UTCDateTime(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["text_document.id"],
            name=op.f("fk_text_mark_document_id_text_document"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organization.id"],
            name=op.f("fk_text_mark_org_id_organization"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["text_project.id"],
            name=op.f("fk_text_mark_project_id_text_project"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["text_session.id"],
            name=op.f("fk_text_mark_session_id_text_session"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user_account.id"],
            name=op.f("fk_text_mark_user_id_user_account"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_text_mark")),
        sa.UniqueConstraint(
            "session_id",
            "user_key",
            "document_id",
            "scope",
            "ref",
            name="uq_text_mark_session_user_target",
        ),
    )
    with op.batch_alter_table("text_mark", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_text_mark_document_id"), ["document_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_text_mark_org_id"), ["org_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_text_mark_session_id"), ["session_id"], unique=False)

    op.create_table(
        "text_segment",
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("start", sa.Integer(), nullable=False),
        sa.Column("end", sa.Integer(), nullable=False),
        sa.Column("page", sa.Integer(), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["text_document.id"],
            name=op.f("fk_text_segment_document_id_text_document"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["text_project.id"],
            name=op.f("fk_text_segment_project_id_text_project"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_text_segment")),
    )
    with op.batch_alter_table("text_segment", schema=None) as batch_op:
        batch_op.create_index(
            "ix_text_segment_document_position", ["document_id", "position"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_text_segment_project_id"), ["project_id"], unique=False
        )

    op.create_table(
        "text_session_assignee",
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["text_session.id"],
            name=op.f("fk_text_session_assignee_session_id_text_session"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user_account.id"],
            name=op.f("fk_text_session_assignee_user_id_user_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("session_id", "user_id", name=op.f("pk_text_session_assignee")),
    )
    with op.batch_alter_table("text_session_assignee", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_text_session_assignee_user_id"), ["user_id"], unique=False
        )

    op.create_table(
        "text_session_document",
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("score", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["text_document.id"],
            name=op.f("fk_text_session_document_document_id_text_document"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["text_session.id"],
            name=op.f("fk_text_session_document_session_id_text_session"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("session_id", "document_id", name=op.f("pk_text_session_document")),
    )
    with op.batch_alter_table("text_session_document", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_text_session_document_document_id"), ["document_id"], unique=False
        )
        batch_op.create_index(
            "ix_text_session_document_session_position", ["session_id", "position"], unique=False
        )

    op.create_table(
        "text_annotation",
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("segment_id", sa.Integer(), nullable=False),
        sa.Column("annotator_id", sa.Integer(), nullable=True),
        sa.Column("annotator_key", sa.String(length=40), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", augury.store.base.UTCDateTime(), nullable=False),
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["annotator_id"],
            ["user_account.id"],
            name=op.f("fk_text_annotation_annotator_id_user_account"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["text_document.id"],
            name=op.f("fk_text_annotation_document_id_text_document"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organization.id"],
            name=op.f("fk_text_annotation_org_id_organization"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["text_project.id"],
            name=op.f("fk_text_annotation_project_id_text_project"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["segment_id"],
            ["text_segment.id"],
            name=op.f("fk_text_annotation_segment_id_text_segment"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["text_session.id"],
            name=op.f("fk_text_annotation_session_id_text_session"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_text_annotation")),
        sa.UniqueConstraint(
            "session_id", "segment_id", "annotator_key", name="uq_text_annotation_session_segment"
        ),
    )
    with op.batch_alter_table("text_annotation", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_text_annotation_document_id"), ["document_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_text_annotation_org_id"), ["org_id"], unique=False)
        batch_op.create_index(
            "ix_text_annotation_project_source", ["project_id", "source"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_text_annotation_segment_id"), ["segment_id"], unique=False
        )
        batch_op.create_index(
            "ix_text_annotation_session_document", ["session_id", "document_id"], unique=False
        )

    op.create_table(
        "text_review_item",
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("segment_id", sa.Integer(), nullable=False),
        sa.Column("source", sa.JSON(), nullable=False),
        sa.Column("predicted", sa.JSON(), nullable=False),
        sa.Column("confidence", sa.Float(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("assignee_id", sa.Integer(), nullable=True),
        sa.Column("reviewed_by_id", sa.Integer(), nullable=True),
        sa.Column("reviewed_at", augury.store.base.UTCDateTime(), nullable=True),
        sa.Column("final", sa.JSON(), nullable=True),
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("created_at", augury.store.base.UTCDateTime(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["assignee_id"],
            ["user_account.id"],
            name=op.f("fk_text_review_item_assignee_id_user_account"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["text_document.id"],
            name=op.f("fk_text_review_item_document_id_text_document"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organization.id"],
            name=op.f("fk_text_review_item_org_id_organization"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["text_project.id"],
            name=op.f("fk_text_review_item_project_id_text_project"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["reviewed_by_id"],
            ["user_account.id"],
            name=op.f("fk_text_review_item_reviewed_by_id_user_account"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["segment_id"],
            ["text_segment.id"],
            name=op.f("fk_text_review_item_segment_id_text_segment"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_text_review_item")),
    )
    with op.batch_alter_table("text_review_item", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_text_review_item_document_id"), ["document_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_text_review_item_segment_id"), ["segment_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_text_review_item_org_id"), ["org_id"], unique=False)
        batch_op.create_index(
            "ix_text_review_item_project_status", ["project_id", "status"], unique=False
        )

    # Full-text search of documents: FTS5 on SQLite (kept in step by triggers), a GIN
    # index over to_tsvector on PostgreSQL.
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            "CREATE VIRTUAL TABLE text_document_fts USING fts5(text, content='text_document', "
            "content_rowid='id', tokenize='unicode61 remove_diacritics 2')"
        )
        op.execute(
            "CREATE TRIGGER text_document_fts_ai AFTER INSERT ON text_document BEGIN "
            "INSERT INTO text_document_fts(rowid, text) VALUES (new.id, new.text); END"
        )
        op.execute(
            "CREATE TRIGGER text_document_fts_ad AFTER DELETE ON text_document BEGIN "
            "INSERT INTO text_document_fts(text_document_fts, rowid, text) "
            "VALUES ('delete', old.id, old.text); END"
        )
        op.execute(
            "CREATE TRIGGER text_document_fts_au AFTER UPDATE OF text ON text_document BEGIN "
            "INSERT INTO text_document_fts(text_document_fts, rowid, text) "
            "VALUES ('delete', old.id, old.text); "
            "INSERT INTO text_document_fts(rowid, text) VALUES (new.id, new.text); END"
        )
    else:
        op.execute(
            "CREATE INDEX ix_text_document_fts ON text_document "
            "USING gin (to_tsvector('simple', text))"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TABLE IF EXISTS text_document_fts")
        for name in ("ai", "ad", "au"):
            op.execute(f"DROP TRIGGER IF EXISTS text_document_fts_{name}")
    else:
        op.execute("DROP INDEX IF EXISTS ix_text_document_fts")
    with op.batch_alter_table("text_review_item", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_text_review_item_document_id"))
        batch_op.drop_index(batch_op.f("ix_text_review_item_segment_id"))
        batch_op.drop_index("ix_text_review_item_project_status")
        batch_op.drop_index(batch_op.f("ix_text_review_item_org_id"))

    op.drop_table("text_review_item")
    with op.batch_alter_table("text_annotation", schema=None) as batch_op:
        batch_op.drop_index("ix_text_annotation_session_document")
        batch_op.drop_index(batch_op.f("ix_text_annotation_segment_id"))
        batch_op.drop_index("ix_text_annotation_project_source")
        batch_op.drop_index(batch_op.f("ix_text_annotation_org_id"))
        batch_op.drop_index(batch_op.f("ix_text_annotation_document_id"))

    op.drop_table("text_annotation")
    with op.batch_alter_table("text_session_document", schema=None) as batch_op:
        batch_op.drop_index("ix_text_session_document_session_position")
        batch_op.drop_index(batch_op.f("ix_text_session_document_document_id"))

    op.drop_table("text_session_document")
    with op.batch_alter_table("text_session_assignee", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_text_session_assignee_user_id"))

    op.drop_table("text_session_assignee")
    with op.batch_alter_table("text_segment", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_text_segment_project_id"))
        batch_op.drop_index("ix_text_segment_document_position")

    op.drop_table("text_segment")
    with op.batch_alter_table("text_mark", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_text_mark_document_id"))
        batch_op.drop_index(batch_op.f("ix_text_mark_session_id"))
        batch_op.drop_index(batch_op.f("ix_text_mark_org_id"))

    op.drop_table("text_mark")
    with op.batch_alter_table("text_group_document", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_text_group_document_document_id"))

    op.drop_table("text_group_document")
    with op.batch_alter_table("text_session", schema=None) as batch_op:
        batch_op.drop_index("ix_text_session_project_mode")
        batch_op.drop_index(batch_op.f("ix_text_session_org_id"))

    op.drop_table("text_session")
    with op.batch_alter_table("text_review_config", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_text_review_config_org_id"))

    op.drop_table("text_review_config")
    with op.batch_alter_table("text_project_member", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_text_project_member_user_id"))

    op.drop_table("text_project_member")
    op.drop_table("text_label")
    with op.batch_alter_table("text_group", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_text_group_org_id"))

    op.drop_table("text_group")
    with op.batch_alter_table("text_file", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_text_file_project_id"))
        batch_op.drop_index(batch_op.f("ix_text_file_org_id"))

    op.drop_table("text_file")
    with op.batch_alter_table("text_document", schema=None) as batch_op:
        batch_op.drop_index("ix_text_document_project_id_id")
        batch_op.drop_index(batch_op.f("ix_text_document_org_id"))

    op.drop_table("text_document")
    op.drop_table("text_class")
    with op.batch_alter_table("text_project", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_text_project_org_id"))

    op.drop_table("text_project")
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.drop_index("ix_notification_user_read")
        batch_op.drop_index(batch_op.f("ix_notification_org_id"))

    op.drop_table("notification")
