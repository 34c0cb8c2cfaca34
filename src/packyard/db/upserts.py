"""``dialect_insert``: the INSERT with ``ON CONFLICT`` of the database a session is on.

Each database's construct lives in its dialect's module; only the one in use is imported.
SQLAlchemy's PostgreSQL dialect (with its asyncpg and psycopg submodules) costs a worker
on SQLite 4 MiB of memory it never uses, and SQLite's a PostgreSQL worker a little.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table


def dialect_insert(dialect: str, table: Table) -> Any:
    """``insert(table)`` of ``dialect`` (an engine's ``dialect.name``)."""
    if dialect == "postgresql":
        from sqlalchemy.dialects import postgresql

        return postgresql.insert(table)
    from sqlalchemy.dialects import sqlite

    return sqlite.insert(table)
