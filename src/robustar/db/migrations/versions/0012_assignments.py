"""assignments: images given to team accounts to annotate (work per person). Whether one is
done is computed from the masks table, so nothing else changes.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-16
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "assignments",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "image_id", sa.Integer(), sa.ForeignKey("images.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column(
            "user_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("batch", sa.String(200), nullable=False),
        sa.Column("assigned_by", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("image_id", "kind", name="uq_assignments_image_kind"),
    )
    op.create_index("ix_assignments_user", "assignments", ["user_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_assignments_user", table_name="assignments")
    op.drop_table("assignments")
