"""models, training jobs, training logs, threshold changes

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 11:13:59.408903
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "model",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("status_message", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
        sa.Column("description", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("algorithm", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("hyperparameters", sa.JSON(), nullable=False),
        sa.Column("backbone_weights", sqlmodel.sql.sqltypes.AutoString(length=1024), nullable=False),
        sa.Column("image_size", sa.Integer(), nullable=True),
        sa.Column("output_bucket", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("output_prefix", sqlmodel.sql.sqltypes.AutoString(length=1024), nullable=False),
        sa.Column("kms_key_id", sqlmodel.sql.sqltypes.AutoString(length=2048), nullable=True),
        sa.Column("artifacts_prefix", sqlmodel.sql.sqltypes.AutoString(length=1024), nullable=False),
        sa.Column("image_threshold", sa.Float(), nullable=False),
        sa.Column("threshold_policy", sa.JSON(), nullable=False),
        sa.Column("performance", sa.JSON(), nullable=False),
        sa.Column("evaluation_metrics", sa.JSON(), nullable=False),
        sa.Column("min_inference_units", sa.Integer(), nullable=True),
        sa.Column("max_inference_units", sa.Integer(), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("evaluation_end_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["project.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("project_id", "version"),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("model", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_model_project_id"), ["project_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_model_status"), ["status"], unique=False)

    op.create_table(
        "thresholdchange",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("model_id", sa.Integer(), nullable=False),
        sa.Column("changed_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("changed_by", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
        sa.Column("old_threshold", sa.Float(), nullable=False),
        sa.Column("new_threshold", sa.Float(), nullable=False),
        sa.Column("policy", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["model_id"],
            ["model.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("thresholdchange", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_thresholdchange_model_id"), ["model_id"], unique=False)

    op.create_table(
        "trainingjob",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("model_id", sa.Integer(), nullable=False),
        sa.Column("state", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("phase", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("percent", sa.Float(), nullable=False),
        sa.Column("message", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("cancel_requested", sa.Boolean(), nullable=False),
        sa.Column("worker_id", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=True),
        sa.Column("heartbeat_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("started_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("finished_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["model_id"],
            ["model.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("model_id"),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("trainingjob", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_trainingjob_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_trainingjob_state"), ["state"], unique=False)

    op.create_table(
        "traininglogline",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("job_id", sa.Integer(), nullable=False),
        sa.Column("logged_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("message", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
        sa.ForeignKeyConstraint(
            ["job_id"],
            ["trainingjob.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("traininglogline", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_traininglogline_job_id"), ["job_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("traininglogline", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_traininglogline_job_id"))

    op.drop_table("traininglogline")
    with op.batch_alter_table("trainingjob", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_trainingjob_state"))
        batch_op.drop_index(batch_op.f("ix_trainingjob_created_at"))

    op.drop_table("trainingjob")
    with op.batch_alter_table("thresholdchange", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_thresholdchange_model_id"))

    op.drop_table("thresholdchange")
    with op.batch_alter_table("model", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_model_status"))
        batch_op.drop_index(batch_op.f("ix_model_project_id"))

    op.drop_table("model")
