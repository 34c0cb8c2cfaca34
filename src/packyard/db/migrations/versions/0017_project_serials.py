"""Per-project serials: the registry serial of the last change to each project's index
page, so that a change to one project leaves the other projects' cached pages valid.

No rows are written for existing projects: a project without a row has serial 0 until its
next change, which every writer records (``db.registries.bump_serial``).

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06 23:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "project_serials",
        sa.Column(
            "registry_id",
            sa.String(36),
            sa.ForeignKey("registries.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("project", sa.String(200), primary_key=True),
        sa.Column("last_serial", sa.BigInteger(), nullable=False),
    )
    op.create_index(
        "ix_project_serials_registry_serial", "project_serials", ["registry_id", "last_serial"]
    )


def downgrade() -> None:
    op.drop_index("ix_project_serials_registry_serial", "project_serials")
    op.drop_table("project_serials")
