"""Lookout for Vision compatibility: entries keyed by source-ref, evaluation objects in the OutputConfig location

Revision ID: 0008
Revises: 0006
Create Date: 2026-12-02 02:30:00.000000

- `datasetentry`: the unique (dataset_id, image_sha256) goes: an entry is its source-ref, and two source-refs may hold
  the same bytes (the bytes are still stored once, by content hash).
- `dataset.problems`: the manifest lines the last CreateDataset / UpdateDatasetEntries refused (ListDatasetProblems).
- `model`: where the AWS-layout EvaluationManifest and EvaluationResult were written (keys in `output_bucket`); empty
  for models evaluated before, whose DescribeModel keeps naming the service's own copies.
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0008"
down_revision = "0006"
branch_labels = None
depends_on = None

_UNIQUE_CONTENT = "uq_datasetentry_dataset_id_image_sha256"
_NAMING = {"uq": "uq_%(table_name)s_%(column_0_name)s_%(column_1_name)s"}


def upgrade() -> None:
    with op.batch_alter_table("datasetentry", schema=None, naming_convention=_NAMING) as batch_op:
        batch_op.drop_constraint(_unique_name(), type_="unique")
    with op.batch_alter_table("dataset", schema=None) as batch_op:
        batch_op.add_column(sa.Column("problems", sa.JSON(), server_default="[]", nullable=False))
    with op.batch_alter_table("model", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("output_manifest_key", sqlmodel.sql.sqltypes.AutoString(length=1024), nullable=True)
        )
        batch_op.add_column(
            sa.Column("output_result_key", sqlmodel.sql.sqltypes.AutoString(length=1024), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("model", schema=None) as batch_op:
        batch_op.drop_column("output_result_key")
        batch_op.drop_column("output_manifest_key")
    with op.batch_alter_table("dataset", schema=None) as batch_op:
        batch_op.drop_column("problems")
    with op.batch_alter_table("datasetentry", schema=None) as batch_op:
        batch_op.create_unique_constraint(_unique_name(), ["dataset_id", "image_sha256"])


def _unique_name() -> str:
    """PostgreSQL named the unnamed constraint of 0001 itself; SQLite reflects it unnamed and batch mode names it."""
    if op.get_bind().dialect.name == "postgresql":
        return "datasetentry_dataset_id_image_sha256_key"
    return _UNIQUE_CONTENT
