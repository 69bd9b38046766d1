"""team accounts: users, their sessions and API tokens, the audit log, and who made what
(masks, reviewed proposals, queued jobs). Existing mask authors, operating-system account
names, stay as they are: legacy authors (no user_id).

Revision ID: 0011
Revises: 0009
Create Date: 2026-12-15
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(64), nullable=False, unique=True),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "credentials",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "user_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("label", sa.String(200), nullable=False),
        sa.Column("secret_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_credentials_user_id", "credentials", ["user_id"])
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column(
            "user_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="SET NULL"), nullable=True
        ),
        sa.Column("action", sa.String(100), nullable=False),
        sa.Column("target", sa.String(1024), nullable=False),
    )
    op.create_index("ix_audit_log_at", "audit_log", ["at"])
    # masks: nothing references the table, so a batch that recreates it on SQLite cascades to
    # nothing; jobs and proposals get plain ADD COLUMNs (proposals reference jobs)
    with op.batch_alter_table("masks", schema=None) as batch_op:
        batch_op.add_column(sa.Column("user_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            "fk_masks_user_id_users", "users", ["user_id"], ["id"], ondelete="SET NULL"
        )
    op.add_column("jobs", sa.Column("created_by", sa.String(200), nullable=True))
    op.add_column("proposals", sa.Column("reviewed_by", sa.String(200), nullable=True))


def downgrade() -> None:
    op.drop_column("proposals", "reviewed_by")
    op.drop_column("jobs", "created_by")
    with op.batch_alter_table("masks", schema=None) as batch_op:
        batch_op.drop_constraint("fk_masks_user_id_users", type_="foreignkey")
        batch_op.drop_column("user_id")
    op.drop_table("audit_log")
    op.drop_table("credentials")
    op.drop_table("users")
