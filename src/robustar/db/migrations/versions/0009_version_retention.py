"""version retention: pinned versions (gc keeps them) and where gc archived a version's files

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-08
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMN: a batch may recreate the table on SQLite, and dropping the old one
    # cascades (foreign keys are on) to the versions' predictions and curves.
    op.add_column(
        "model_versions",
        sa.Column("pinned", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.add_column("model_versions", sa.Column("archived_to", sa.String(1024), nullable=True))


def downgrade() -> None:
    # Plain DROP COLUMN (SQLite 3.35+), for the same reason as the upgrade.
    op.drop_column("model_versions", "archived_to")
    op.drop_column("model_versions", "pinned")
