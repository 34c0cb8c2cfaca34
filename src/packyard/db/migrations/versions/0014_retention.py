"""Retention and storage: policies and run summaries per registry, quotas, when a file was
last downloaded, and the PyPI cache's sizes and last uses (docs/retention.md).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06 16:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from packyard.db.tables import UTCDateTime

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Nullable columns: a plain ALTER TABLE ... ADD COLUMN on both engines, no copy.
    op.add_column("registries", sa.Column("quota_bytes", sa.BigInteger(), nullable=True))
    op.add_column("packages", sa.Column("last_downloaded_at", UTCDateTime(), nullable=True))
    op.create_table(
        "retention_policies",
        sa.Column(
            "registry_id",
            sa.String(36),
            sa.ForeignKey("registries.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("keep_latest", sa.Integer(), nullable=True),
        sa.Column("prereleases_max_age_days", sa.Integer(), nullable=True),
        sa.Column("not_downloaded_days", sa.Integer(), nullable=True),
        sa.Column("exempt", sa.JSON(), nullable=False),
        sa.Column("min_age_hours", sa.Float(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
    )
    op.create_table(
        "retention_runs",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column(
            "registry_id",
            sa.String(36),
            sa.ForeignKey("registries.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("trigger", sa.String(20), nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=False),
        sa.Column("finished_at", UTCDateTime(), nullable=False),
        sa.Column("files_deleted", sa.Integer(), nullable=False),
        sa.Column("bytes_deleted", sa.BigInteger(), nullable=False),
    )
    op.create_index(
        "ix_retention_runs_registry_started", "retention_runs", ["registry_id", "started_at"]
    )
    op.create_table(
        "pypi_cached_files",
        sa.Column("sha256", sa.String(64), primary_key=True),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("last_used_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_pypi_cached_files_last_used_at", "pypi_cached_files", ["last_used_at"])


def downgrade() -> None:
    op.drop_index("ix_pypi_cached_files_last_used_at", "pypi_cached_files")
    op.drop_table("pypi_cached_files")
    op.drop_index("ix_retention_runs_registry_started", "retention_runs")
    op.drop_table("retention_runs")
    op.drop_table("retention_policies")
    with op.batch_alter_table("packages") as batch:
        batch.drop_column("last_downloaded_at")
    with op.batch_alter_table("registries") as batch:
        batch.drop_column("quota_bytes")
