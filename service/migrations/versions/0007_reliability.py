"""reliability: object deletion queue, dataset claim owner, client-token project, detection image sizes

Revision ID: 0007
Revises: 0004
Create Date: 2026-12-02 02:40:00.000000
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0007"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "objectdeletion",
        sa.Column("key", sqlmodel.sql.sqltypes.AutoString(length=1024), nullable=False),
        sa.Column("queued_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    with op.batch_alter_table("dataset", schema=None) as batch_op:
        batch_op.add_column(sa.Column("claimed_by", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=True))
    with op.batch_alter_table("idempotencyrecord", schema=None) as batch_op:
        batch_op.add_column(sa.Column("project_name", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True))
        batch_op.create_index(batch_op.f("ix_idempotencyrecord_project_name"), ["project_name"], unique=False)
    with op.batch_alter_table("detection", schema=None) as batch_op:
        batch_op.add_column(sa.Column("image_bytes", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("detection", schema=None) as batch_op:
        batch_op.drop_column("image_bytes")
    with op.batch_alter_table("idempotencyrecord", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_idempotencyrecord_project_name"))
        batch_op.drop_column("project_name")
    with op.batch_alter_table("dataset", schema=None) as batch_op:
        batch_op.drop_column("claimed_by")
    op.drop_table("objectdeletion")
