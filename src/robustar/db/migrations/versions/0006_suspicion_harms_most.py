"""suspicion: the test image each suspect harms most

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Batch mode: SQLite adds a foreign key by copying the table, keeping its rows.
    with op.batch_alter_table("suspicion") as batch:
        batch.add_column(sa.Column("harms_most", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            "fk_suspicion_harms_most", "images", ["harms_most"], ["id"], ondelete="SET NULL"
        )


def downgrade() -> None:
    with op.batch_alter_table("suspicion") as batch:
        batch.drop_constraint("fk_suspicion_harms_most", type_="foreignkey")
        batch.drop_column("harms_most")
