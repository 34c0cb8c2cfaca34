"""Engines, sessions and schema migrations.

SQLite gets WAL, a busy timeout and foreign keys on every connection, so that several
worker processes can share one file: writers wait for each other instead of failing.
"""

from __future__ import annotations

import select
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.exc import DBAPIError, DisconnectionError
from sqlalchemy.orm import Session, sessionmaker

from packyard.db.changes import track_changes
from packyard.db.migrations import REVISION_QUERY, SCHEMA_HEAD

if TYPE_CHECKING:
    from alembic.config import Config

SQLITE_BUSY_TIMEOUT_MS = 30_000
# SQLite's page cache belongs to each connection, and each worker pools several (five kept,
# up to fifteen at once under load): at SQLite's default of 2 MiB apiece they would hold up
# to 30 MiB a worker of pages the operating system's file cache keeps anyway. 512 KiB holds
# the upper levels of the b-trees an index read walks.
SQLITE_CACHE_KIB = 512


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        # The connection used last is handed out first: its page cache is the warm one (a
        # connection's cache is dropped when another connection writes, and the pool's
        # default order hands out the one idle longest). twine's 402 files: the server's CPU
        # per file 8.33 ms -> 7.97 (medians of 6 alternated rounds).
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": 30},
            pool_use_lifo=True,
        )
        event.listen(engine, "connect", _configure_sqlite)
    else:
        engine = create_engine(url, pool_size=10, max_overflow=20)
        event.listen(engine, "checkout", _refuse_if_closed_by_the_server)
    track_changes(engine)
    return engine


def _refuse_if_closed_by_the_server(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
    """Make the pool replace a connection PostgreSQL closed while it sat idle (a restart, an
    idle timeout, ``pg_terminate_backend``).

    A server that closes a connection says so first (an error message, then the end of the
    stream), so the socket of a connection idle in the pool turns readable; nothing else is
    sent to one. Checking that costs one ``poll`` where SQLAlchemy's ``pool_pre_ping`` sends a
    query and waits for its answer: 4 of a PostgreSQL publish's 24 round trips. Raising
    DisconnectionError makes the pool discard the connection and check out another. A host
    that vanishes without closing anything is not seen here; the statement then fails and
    the pool discards every connection of that age."""
    if dbapi_connection.closed:
        raise DisconnectionError("the connection was closed")
    poller = select.poll()
    poller.register(dbapi_connection.fileno(), select.POLLIN)
    if poller.poll(0):
        raise DisconnectionError("PostgreSQL closed this pooled connection")


def _configure_sqlite(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    # FULL: a commit (a publish answered 200) survives a power cut, not only a crash.
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
    cursor.close()


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def _alembic_config(url: str) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", "packyard.db:migrations")
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade_schema(engine: Engine, revision: str = "head") -> None:
    """Apply every pending migration (up to ``revision``: tests of a migration start from
    the one before it) to the database behind ``engine``."""
    if revision == "head" and schema_is_current(engine):
        return
    # Imported here: Alembic is only needed when there is something to migrate.
    from alembic import command

    config = _alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def current_revision(engine: Engine) -> str | None:
    """The schema revision recorded in the database; None when it has no schema."""
    try:
        with engine.connect() as connection:
            return connection.execute(text(REVISION_QUERY)).scalar()
    except DBAPIError:
        return None


def schema_is_current(engine: Engine) -> bool:
    """Whether the database's schema revision is the newest one this code knows."""
    return current_revision(engine) == SCHEMA_HEAD


def migration_head() -> str:
    """The newest revision in ``versions/``, read by Alembic (tests compare SCHEMA_HEAD)."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(_alembic_config("sqlite://")).get_current_head()
    assert head is not None
    return head
