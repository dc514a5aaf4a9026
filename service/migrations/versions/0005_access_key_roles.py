"""access key roles

Every access key gets a role; keys made before roles existed could do everything, so they become `admin`.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 02:30:00.000000
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("accesskey", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("role", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False, server_default="admin")
        )
        batch_op.create_index(batch_op.f("ix_accesskey_role"), ["role"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("accesskey", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_accesskey_role"))
        batch_op.drop_column("role")
