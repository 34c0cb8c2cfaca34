"""Teams, their members and registry access levels; organization switches; API tokens
that act for a user. Existing tokens stay organization tokens (``user_id`` NULL) and
existing organizations keep teams off, so everything works as before.

Revision ID: 0009
Revises: 0006 (main took 0010 and 0006 after 0005; the chain stays linear)
Create Date: 2026-12-06 06:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import packyard.db.tables

revision = "0009"
down_revision = "0006"
branch_labels = None
depends_on = None

_SWITCHES = (
    ("teams_enabled", False),
    ("members_can_create_registries", True),
    ("members_can_delete_packages", False),
    ("members_can_delete_registries", False),
)


def upgrade() -> None:
    # Plain ADD COLUMN (no batch): SQLite would otherwise rebuild these tables, which
    # other tables' foreign keys point at.
    for name, default in _SWITCHES:
        op.add_column(
            "organizations",
            sa.Column(
                name,
                sa.Boolean(),
                nullable=False,
                server_default=sa.true() if default else sa.false(),
            ),
        )
    op.add_column("users", sa.Column("name", sa.String(200), nullable=False, server_default=""))
    # Nothing points at tokens: SQLite may rebuild it to add the foreign key.
    with op.batch_alter_table("tokens") as batch:
        batch.add_column(sa.Column("user_id", sa.String(36), nullable=True))
        batch.create_foreign_key(
            "fk_tokens_user_id_users", "users", ["user_id"], ["id"], ondelete="CASCADE"
        )
        batch.create_index("ix_tokens_user_id", ["user_id"], unique=False)
    op.create_table(
        "teams",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("organization_id", sa.String(36), nullable=False),
        sa.Column("slug", sa.String(100), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("privacy", sa.String(20), nullable=False),
        sa.Column("is_default", sa.Boolean(), nullable=False),
        sa.Column("created_by", sa.String(36), nullable=True),
        sa.Column("created_at", packyard.db.tables.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["organization_id"], ["organizations.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("organization_id", "slug"),
    )
    op.create_index("ix_teams_organization_id", "teams", ["organization_id"])
    op.create_table(
        "team_members",
        sa.Column("team_id", sa.String(36), nullable=False),
        sa.Column("user_id", sa.String(36), nullable=False),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("created_at", packyard.db.tables.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["team_id"], ["teams.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("team_id", "user_id"),
    )
    op.create_index("ix_team_members_user_id", "team_members", ["user_id"])
    op.create_table(
        "team_registries",
        sa.Column("team_id", sa.String(36), nullable=False),
        sa.Column("registry_id", sa.String(36), nullable=False),
        sa.Column("access_level", sa.String(30), nullable=False),
        sa.Column("created_at", packyard.db.tables.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["team_id"], ["teams.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["registry_id"], ["registries.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("team_id", "registry_id"),
    )
    op.create_index("ix_team_registries_registry_id", "team_registries", ["registry_id"])


def downgrade() -> None:
    op.drop_table("team_registries")
    op.drop_table("team_members")
    op.drop_table("teams")
    with op.batch_alter_table("tokens") as batch:
        batch.drop_index("ix_tokens_user_id")
        batch.drop_constraint("fk_tokens_user_id_users", type_="foreignkey")
        batch.drop_column("user_id")
    # Plain DROP COLUMN (SQLite 3.35+): rebuilding these tables would break the foreign
    # keys pointing at them.
    op.drop_column("users", "name")
    for name, _ in _SWITCHES:
        op.drop_column("organizations", name)
