"""Split ``tokens.created_by`` into ``created_by_token`` and ``created_by_user``.

The one column held a token id for tokens made through the REST API and a user id for
those made in the web UI. Existing values are sorted by which table holds the id; a value
that matches neither (a creator since deleted) is dropped, since nothing can show it.

Revision ID: 0005
Revises: 0007 (main took 0007 after 0004 first; the chain stays linear)
Create Date: 2026-12-06 05:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tokens", schema=None) as batch_op:
        batch_op.add_column(sa.Column("created_by_token", sa.String(length=36), nullable=True))
        batch_op.add_column(sa.Column("created_by_user", sa.String(length=36), nullable=True))
    op.execute(
        "UPDATE tokens SET created_by_user = created_by WHERE created_by IN (SELECT id FROM users)"
    )
    op.execute(
        "UPDATE tokens SET created_by_token = created_by "
        "WHERE created_by IN (SELECT t.id FROM tokens AS t)"
    )
    with op.batch_alter_table("tokens", schema=None) as batch_op:
        batch_op.drop_column("created_by")
        batch_op.create_index(
            batch_op.f("ix_tokens_created_by_user"), ["created_by_user"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_tokens_created_by_user"))
        batch_op.add_column(sa.Column("created_by", sa.String(length=200), nullable=True))
    op.execute("UPDATE tokens SET created_by = COALESCE(created_by_user, created_by_token)")
    with op.batch_alter_table("tokens", schema=None) as batch_op:
        batch_op.drop_column("created_by_user")
        batch_op.drop_column("created_by_token")
