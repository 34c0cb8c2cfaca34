"""Project status (PEP 792): one row per project of a source registry that is not active.

Revision ID: 0011
Revises: 0008
Create Date: 2026-12-06 06:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from packyard.db.tables import UTCDateTime

revision = "0011"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "project_statuses",
        sa.Column(
            "registry_id",
            sa.String(36),
            sa.ForeignKey("registries.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("project", sa.String(200), primary_key=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("project_statuses")
