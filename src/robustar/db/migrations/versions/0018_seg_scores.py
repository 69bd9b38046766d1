"""seg_scores, seg_class_shares, seg_split_scores: a segmenter's per-image and per-split
scores (segmentation workspaces).

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def _keys(second: str) -> list[sa.Column]:
    """The version and image (or split) a row belongs to: the primary key's first columns."""
    version = sa.Column(
        "version_id",
        sa.Integer(),
        sa.ForeignKey("model_versions.id", ondelete="CASCADE"),
        primary_key=True,
    )
    if second == "split":
        return [version, sa.Column("split", sa.String(16), primary_key=True)]
    image = sa.Column(
        "image_id", sa.Integer(), sa.ForeignKey("images.id", ondelete="CASCADE"), primary_key=True
    )
    return [version, image]


def upgrade() -> None:
    op.create_table(
        "seg_scores",
        *_keys("image"),
        sa.Column("split", sa.String(16), nullable=False),
        sa.Column("miou", sa.Float(), nullable=True),
        sa.Column("pixel_accuracy", sa.Float(), nullable=True),
        sa.Column("iou", sa.JSON(), nullable=False),
        sa.Column("truth_shares", sa.JSON(), nullable=True),
        sa.Column("predicted_shares", sa.JSON(), nullable=False),
    )
    op.create_index(
        "ix_seg_scores_by_miou", "seg_scores", ["version_id", "split", "miou", "image_id"]
    )
    op.create_table(
        "seg_class_shares",
        *_keys("image"),
        sa.Column("class_index", sa.Integer(), primary_key=True),
        sa.Column("truth", sa.Float(), nullable=True),
        sa.Column("predicted", sa.Float(), nullable=False),
    )
    op.create_index(
        "ix_seg_class_shares_by_class",
        "seg_class_shares",
        ["version_id", "class_index", "image_id"],
    )
    op.create_table(
        "seg_split_scores",
        *_keys("split"),
        sa.Column("images", sa.Integer(), nullable=False),
        sa.Column("miou", sa.Float(), nullable=True),
        sa.Column("pixel_accuracy", sa.Float(), nullable=True),
        sa.Column("iou", sa.JSON(), nullable=False),
        sa.Column("confusion", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("seg_split_scores")
    op.drop_index("ix_seg_class_shares_by_class", table_name="seg_class_shares")
    op.drop_table("seg_class_shares")
    op.drop_index("ix_seg_scores_by_miou", table_name="seg_scores")
    op.drop_table("seg_scores")
