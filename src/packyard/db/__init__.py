"""Persistence: the schema (``tables``), typed queries returning ``core`` dataclasses (one
module per subject), engines and sessions, Alembic migrations.

SQLite (WAL) is the embedded default; PostgreSQL (psycopg 3) runs the same schema.
Schema changes are Alembic revisions under ``db/migrations/versions``.
"""
