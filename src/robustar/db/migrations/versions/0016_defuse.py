"""defuse_runs, defuse_codes, defuse_regions, defuse_corrections: Defuse's VAE runs, kept
error codes, error regions with their labels, and correction fine-tunes.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def _run_fk() -> sa.Column:
    return sa.Column(
        "run_id",
        sa.Integer(),
        sa.ForeignKey("defuse_runs.id", ondelete="CASCADE"),
        nullable=False,
    )


def _version_fk() -> sa.Column:
    return sa.Column(
        "version_id",
        sa.Integer(),
        sa.ForeignKey("model_versions.id", ondelete="SET NULL"),
        nullable=True,
    )


def upgrade() -> None:
    op.create_table(
        "defuse_runs",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("author", sa.String(200), nullable=False),
        sa.Column("image_size", sa.Integer(), nullable=False),
        sa.Column("latent", sa.Integer(), nullable=False),
        sa.Column("vae", sa.JSON(), nullable=False),
        sa.Column("curves", sa.JSON(), nullable=False),
        sa.Column("vae_file", sa.String(1024), nullable=True),
        _version_fk(),
        sa.Column("search", sa.JSON(), nullable=False),
        sa.Column("searched_upto", sa.Integer(), nullable=False),
        sa.Column("searched_images", sa.Integer(), nullable=False),
        sa.Column("drawn", sa.JSON(), nullable=False),
        sa.Column("flips", sa.JSON(), nullable=False),
        sa.Column("search_done", sa.Boolean(), nullable=False),
        sa.Column("regions", sa.JSON(), nullable=False),
    )
    op.create_table(
        "defuse_codes",
        sa.Column("id", sa.Integer(), primary_key=True),
        _run_fk(),
        sa.Column(
            "image_id", sa.Integer(), sa.ForeignKey("images.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("label", sa.Integer(), nullable=False),
        sa.Column("predicted", sa.Integer(), nullable=False),
        sa.Column("radius", sa.Float(), nullable=False),
        sa.Column("norm", sa.Float(), nullable=False),
        sa.Column("code", sa.LargeBinary(), nullable=False),
    )
    op.create_index("ix_defuse_codes_run", "defuse_codes", ["run_id", "id"])
    op.create_table(
        "defuse_regions",
        sa.Column("id", sa.Integer(), primary_key=True),
        _run_fk(),
        sa.Column("component", sa.Integer(), nullable=False),
        sa.Column("weight", sa.Float(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("mean", sa.LargeBinary(), nullable=False),
        sa.Column("samples", sa.LargeBinary(), nullable=False),
        sa.Column("held_out", sa.LargeBinary(), nullable=False),
        sa.Column("predicted", sa.JSON(), nullable=False),
        sa.Column("held_predicted", sa.JSON(), nullable=False),
        sa.Column("label", sa.Integer(), nullable=True),
        sa.Column("unrecognisable", sa.Boolean(), nullable=False),
        sa.Column("author", sa.String(200), nullable=True),
        sa.Column("labelled_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_defuse_regions_run", "defuse_regions", ["run_id", "id"])
    op.create_table(
        "defuse_corrections",
        sa.Column("id", sa.Integer(), primary_key=True),
        _run_fk(),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("mode", sa.String(16), nullable=False),
        sa.Column("weight", sa.Float(), nullable=False),
        _version_fk(),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("report", sa.JSON(), nullable=False),
    )
    op.create_index("ix_defuse_corrections_run", "defuse_corrections", ["run_id", "id"])


def downgrade() -> None:
    for table in ("defuse_corrections", "defuse_regions", "defuse_codes"):
        op.drop_index(f"ix_{table}_run", table_name=table)
        op.drop_table(table)
    op.drop_table("defuse_runs")
