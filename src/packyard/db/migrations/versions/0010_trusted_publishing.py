"""Trusted publishing: registry OIDC policies, used JWT ids, minted tokens, publishers.

Revision ID: 0010
Revises: 0005
Create Date: 2026-12-06 06:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from packyard.db.tables import UTCDateTime

revision = "0010"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "oidc_policies",
        sa.Column(
            "registry_id",
            sa.String(36),
            sa.ForeignKey("registries.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
    )
    op.create_table(
        "oidc_used_jtis",
        sa.Column("issuer", sa.String(500), primary_key=True),
        sa.Column("jti", sa.String(200), primary_key=True),
        sa.Column("expires_at", UTCDateTime(), nullable=False, index=True),
    )
    op.create_table(
        "oidc_minted_tokens",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("secret_sha256", sa.String(64), nullable=False, unique=True),
        sa.Column("registry_ids", sa.JSON(), nullable=False),
        sa.Column("publisher", sa.JSON(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False, index=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
    )
    op.add_column("packages", sa.Column("published_by", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("packages") as batch:
        batch.drop_column("published_by")
    op.drop_table("oidc_minted_tokens")
    op.drop_table("oidc_used_jtis")
    op.drop_table("oidc_policies")
