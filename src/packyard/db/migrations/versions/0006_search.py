"""Search: one row per project of each registry, and the database's own text index over it
(SQLite FTS5 with the trigram tokenizer, kept in step by triggers; PostgreSQL a generated
tsvector with a GIN index). Backfilled from the newest file of every project.

Revision ID: 0006
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0010"
branch_labels = None
depends_on = None

_SQLITE_TEXT_INDEX = [
    # External content: the text lives once, in search_projects; trigram matches any
    # substring of three characters or more.
    "CREATE VIRTUAL TABLE search_fts USING fts5("
    "project, summary, keywords, content='search_projects', content_rowid='id', "
    "tokenize='trigram')",
    "CREATE TRIGGER search_projects_ai AFTER INSERT ON search_projects BEGIN "
    "INSERT INTO search_fts(rowid, project, summary, keywords) "
    "VALUES (new.id, new.project, new.summary, new.keywords); END",
    "CREATE TRIGGER search_projects_ad AFTER DELETE ON search_projects BEGIN "
    "INSERT INTO search_fts(search_fts, rowid, project, summary, keywords) "
    "VALUES ('delete', old.id, old.project, old.summary, old.keywords); END",
    "CREATE TRIGGER search_projects_au AFTER UPDATE ON search_projects BEGIN "
    "INSERT INTO search_fts(search_fts, rowid, project, summary, keywords) "
    "VALUES ('delete', old.id, old.project, old.summary, old.keywords); "
    "INSERT INTO search_fts(rowid, project, summary, keywords) "
    "VALUES (new.id, new.project, new.summary, new.keywords); END",
]
_POSTGRESQL_TEXT_INDEX = [
    "ALTER TABLE search_projects ADD COLUMN document tsvector GENERATED ALWAYS AS ("
    "to_tsvector('simple', project || ' ' || replace(project, '-', ' ') || ' ' "
    "|| summary || ' ' || keywords)) STORED",
    "CREATE INDEX ix_search_projects_document ON search_projects USING gin (document)",
]


def upgrade() -> None:
    op.create_table(
        "search_projects",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("registry_id", sa.String(length=36), nullable=False),
        sa.Column("project", sa.String(length=200), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("version", sa.String(length=200), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("keywords", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["registry_id"], ["registries.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("registry_id", "project"),
        sqlite_autoincrement=True,
    )
    dialect = op.get_bind().dialect.name
    for statement in _SQLITE_TEXT_INDEX if dialect == "sqlite" else _POSTGRESQL_TEXT_INDEX:
        op.execute(statement)
    _backfill()


def _backfill() -> None:
    """One row per (registry, project) from its newest file, in batches."""
    from packyard.db.search import search_values

    bind = op.get_bind()
    newest = sa.text(
        "SELECT p.registry_id, p.project, p.name, p.version, p.metadata_json FROM packages p "
        "JOIN (SELECT max(seq) AS seq FROM packages GROUP BY registry_id, project) n "
        "ON p.seq = n.seq"
    )
    insert = sa.text(
        "INSERT INTO search_projects (registry_id, project, name, version, summary, keywords) "
        "VALUES (:registry_id, :project, :name, :version, :summary, :keywords)"
    )
    result = bind.execute(newest)
    while batch := result.fetchmany(5000):
        bind.execute(insert, [search_values(*row) for row in batch])


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TABLE search_fts")
    op.drop_table("search_projects")
