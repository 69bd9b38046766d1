"""MAD: competing models, compact pool scores, rounds, candidates, ratings and strong labels.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def _version(name: str, ondelete: str = "CASCADE", nullable: bool = False) -> sa.Column:
    return sa.Column(
        name, sa.Integer(), sa.ForeignKey("model_versions.id", ondelete=ondelete), nullable=nullable
    )


def _fk(name: str, table: str) -> sa.Column:
    return sa.Column(
        name, sa.Integer(), sa.ForeignKey(f"{table}.id", ondelete="CASCADE"), nullable=False
    )


def upgrade() -> None:
    op.create_table(
        "mad_models",
        sa.Column(
            "version_id",
            sa.Integer(),
            sa.ForeignKey("model_versions.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("mean", sa.JSON(), nullable=False),
        sa.Column("std", sa.JSON(), nullable=False),
        sa.Column("class_map", sa.JSON(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "mad_scores",
        sa.Column(
            "version_id",
            sa.Integer(),
            sa.ForeignKey("model_versions.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column(
            "image_id",
            sa.Integer(),
            sa.ForeignKey("images.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("predicted", sa.Integer(), nullable=False),
        sa.Column("confidence", sa.Float(), nullable=False),
        sa.Column("entropy", sa.Float(), nullable=False),
        sa.Column("top", sa.LargeBinary(), nullable=False),
    )
    op.create_index("ix_mad_scores_image", "mad_scores", ["image_id"])
    op.create_table(
        "mad_rounds",
        sa.Column("id", sa.Integer(), primary_key=True),
        _version("target_id"),
        sa.Column("competitors", sa.JSON(), nullable=False),
        sa.Column("settings", sa.JSON(), nullable=False),
        _version("finetuned_id", "SET NULL", nullable=True),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "mad_candidates",
        sa.Column("id", sa.Integer(), primary_key=True),
        _fk("round_id", "mad_rounds"),
        _fk("image_id", "images"),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("competitor_id", sa.Integer(), nullable=False),
        sa.Column("led_by", sa.String(16), nullable=False),
        sa.Column("distance", sa.Float(), nullable=False),
        sa.Column("target_class", sa.Integer(), nullable=False),
        sa.Column("target_confidence", sa.Float(), nullable=False),
        sa.Column("competitor_class", sa.Integer(), nullable=False),
        sa.Column("competitor_confidence", sa.Float(), nullable=False),
        sa.Column("purpose", sa.String(8), nullable=True),
        sa.UniqueConstraint("round_id", "image_id", name="uq_mad_candidates_image"),
    )
    op.create_table(
        "mad_ratings",
        sa.Column("id", sa.Integer(), primary_key=True),
        _fk("round_id", "mad_rounds"),
        _fk("image_id", "images"),
        sa.Column("rater", sa.String(200), nullable=False),
        sa.Column("score", sa.Integer(), nullable=True),
        sa.Column("out_of_domain", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_mad_ratings_round_rater", "mad_ratings", ["round_id", "rater", "id"])
    op.create_table(
        "mad_labels",
        sa.Column("id", sa.Integer(), primary_key=True),
        _fk("round_id", "mad_rounds"),
        _fk("image_id", "images"),
        sa.Column("label", sa.Integer(), nullable=False),
        sa.Column("author", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("round_id", "image_id", name="uq_mad_labels_image"),
    )


def downgrade() -> None:
    op.drop_table("mad_labels")
    op.drop_index("ix_mad_ratings_round_rater", table_name="mad_ratings")
    op.drop_table("mad_ratings")
    op.drop_table("mad_candidates")
    op.drop_table("mad_rounds")
    op.drop_index("ix_mad_scores_image", table_name="mad_scores")
    op.drop_table("mad_scores")
    op.drop_table("mad_models")
