"""packages.seq never reused on SQLite

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24 23:19:55.047506

List cursors of the REST API are positions in ``packages.seq``. SQLite hands out
max(rowid)+1, so the seq of a deleted newest package came back for the next publish and a
cursor pointing there skipped it; AUTOINCREMENT makes seq only grow, as a PostgreSQL
sequence already does. Autogenerate does not see table options, so this was written by
hand: on SQLite the table is rebuilt (batch mode copies every row); elsewhere nothing
changes.
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def _rebuild_packages(autoincrement: bool) -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    with op.batch_alter_table(
        "packages", recreate="always", table_kwargs={"sqlite_autoincrement": autoincrement}
    ):
        pass


def upgrade() -> None:
    _rebuild_packages(autoincrement=True)


def downgrade() -> None:
    _rebuild_packages(autoincrement=False)
