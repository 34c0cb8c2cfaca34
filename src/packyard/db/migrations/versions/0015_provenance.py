"""PEP 740 provenance: the verified provenance object of a file published with attestations.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06 16:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Only files whose attestations were verified have one; ``attestations`` (kept
    # unverified by earlier versions) is never served.
    op.add_column("packages", sa.Column("provenance", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("packages") as batch:
        batch.drop_column("provenance")
