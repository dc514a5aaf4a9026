"""shadow models: candidate model versions run in the shadow of the live one, and both results per detection

Revision ID: 0009_shadow
Revises: 0008
Create Date: 2026-12-02 06:53:19.136548
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0009_shadow"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "shadowmodel",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("active_project_id", sa.Integer(), nullable=True),
        sa.Column("live_model_id", sa.Integer(), nullable=False),
        sa.Column("shadow_model_id", sa.Integer(), nullable=False),
        sa.Column("sample_percent", sa.Float(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("promotions", sa.Integer(), nullable=False),
        sa.Column("dropped", sa.Integer(), nullable=False),
        sa.Column("failed", sa.Integer(), nullable=False),
        sa.Column("started_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("started_by", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("stopped_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["live_model_id"], ["model.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["project_id"], ["project.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["shadow_model_id"], ["model.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("active_project_id"),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("shadowmodel", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_shadowmodel_live_model_id"), ["live_model_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_shadowmodel_project_id"), ["project_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_shadowmodel_shadow_model_id"), ["shadow_model_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_shadowmodel_status"), ["status"], unique=False)

    op.create_table(
        "shadowresult",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("shadow_id", sa.Integer(), nullable=False),
        sa.Column("detected_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("caller", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
        sa.Column("live_model_id", sa.Integer(), nullable=False),
        sa.Column("live_version", sa.Integer(), nullable=False),
        sa.Column("live_is_anomalous", sa.Boolean(), nullable=False),
        sa.Column("live_score", sa.Float(), nullable=False),
        sa.Column("live_confidence", sa.Float(), nullable=False),
        sa.Column("live_anomaly_fraction", sa.Float(), nullable=False),
        sa.Column("live_threshold", sa.Float(), nullable=False),
        sa.Column("live_latency_ms", sa.Float(), nullable=False),
        sa.Column("shadow_model_id", sa.Integer(), nullable=False),
        sa.Column("shadow_version", sa.Integer(), nullable=False),
        sa.Column("shadow_is_anomalous", sa.Boolean(), nullable=False),
        sa.Column("shadow_score", sa.Float(), nullable=False),
        sa.Column("shadow_confidence", sa.Float(), nullable=False),
        sa.Column("shadow_threshold", sa.Float(), nullable=False),
        sa.Column("shadow_latency_ms", sa.Float(), nullable=False),
        sa.Column("agrees", sa.Boolean(), nullable=False),
        sa.Column("image_key", sqlmodel.sql.sqltypes.AutoString(length=1024), nullable=True),
        sa.Column("mask_key", sqlmodel.sql.sqltypes.AutoString(length=1024), nullable=True),
        sa.Column("anomaly_map_key", sqlmodel.sql.sqltypes.AutoString(length=1024), nullable=True),
        sa.Column("image_format", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("review_task_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["review_task_id"], ["reviewtask.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["shadow_id"], ["shadowmodel.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("shadowresult", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_shadowresult_agrees"), ["agrees"], unique=False)
        batch_op.create_index(batch_op.f("ix_shadowresult_detected_at"), ["detected_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_shadowresult_review_task_id"), ["review_task_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_shadowresult_shadow_id"), ["shadow_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("shadowresult", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_shadowresult_shadow_id"))
        batch_op.drop_index(batch_op.f("ix_shadowresult_review_task_id"))
        batch_op.drop_index(batch_op.f("ix_shadowresult_detected_at"))
        batch_op.drop_index(batch_op.f("ix_shadowresult_agrees"))

    op.drop_table("shadowresult")
    with op.batch_alter_table("shadowmodel", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_shadowmodel_status"))
        batch_op.drop_index(batch_op.f("ix_shadowmodel_shadow_model_id"))
        batch_op.drop_index(batch_op.f("ix_shadowmodel_project_id"))
        batch_op.drop_index(batch_op.f("ix_shadowmodel_live_model_id"))

    op.drop_table("shadowmodel")
