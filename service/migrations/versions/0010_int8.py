"""model runtime: the inference runtime a model version is hosted with (onnxruntime, openvino, openvino-int8)

Revision ID: 0010_int8
Revises: 0009_shadow
Create Date: 2026-12-02 17:30:00.000000
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0010_int8"
down_revision = "0009_shadow"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("model") as batch:
        batch.add_column(sa.Column("runtime", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("model") as batch:
        batch.drop_column("runtime")
