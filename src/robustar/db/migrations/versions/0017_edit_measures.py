"""edit_runs.measures: mean object pixel rate and background complexity per edit, for the
drop-against-size and drop-against-complexity charts.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("edit_runs") as batch:
        batch.add_column(sa.Column("measures", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("edit_runs") as batch:
        batch.drop_column("measures")
