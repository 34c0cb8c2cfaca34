"""Alembic migrations. ``SCHEMA_HEAD`` names the newest revision so that a start-up can tell
whether the schema is current with one query and without importing Alembic; a unit test
keeps it equal to the head of ``versions/``. Bump it with every new revision."""

SCHEMA_HEAD = "0017"  # the chain: ... 0008, 0011, 0012, 0013, 0014, 0015, 0016, 0017

# Where Alembic records the revision a database is at: asked through SQLAlchemy for any
# database, and through the standard library's sqlite3 for the embedded one at start-up.
REVISION_QUERY = "SELECT version_num FROM alembic_version"
