"""suspicion rank: the queue's order (balanced) and its top K, stored when an index is built

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # The old rows held only the queue last opened on the Suspicious page, with no order or
    # top K; they are a cache, so drop them: building an index stores the queue again.
    op.execute("DELETE FROM suspicion")
    with op.batch_alter_table("suspicion", schema=None) as batch_op:
        batch_op.add_column(sa.Column("rank", sa.Integer(), nullable=False))
        batch_op.add_column(sa.Column("queued", sa.Boolean(), nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("suspicion", schema=None) as batch_op:
        batch_op.drop_column("queued")
        batch_op.drop_column("rank")
