"""The database's change counter: a number that changes whenever anything in the database
may have changed, read without a query, so that caches validated by it
(``services.memo.CounterValidatedMemo``) are exact across processes.

- SQLite (``SqliteChanges``): ``PRAGMA data_version`` on a dedicated connection that never
  writes. It changes whenever any other connection, in any process, commits.
- PostgreSQL (``PostgresChanges``): every transaction that writes sends ``NOTIFY
  packyard_changes`` (``notify_on_write``, an engine hook, so no write path can forget it;
  only a statement marked ``UNCACHED_WRITE`` is passed over); PostgreSQL delivers it at
  commit, and only then, to every process's listening connection, which bumps the
  process's counter (``follow``, a task in the application's lifespan). As a safety net
  against anything a notification cannot report (a write made with psql, a lost
  connection) the listener re-reads the server's transaction snapshot every
  ``recheck_seconds`` and bumps the counter when it moved; while it is not listening the
  counter is None and nothing is cached.

Reading costs no I/O on PostgreSQL and a few microseconds on SQLite; both are read at most
once per event-loop iteration on the loop (``_PerIteration``): a value read after a
request arrived is as good as one read for it, since anything that request can depend on
was committed before it was sent.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import threading
from collections.abc import Callable
from typing import Any, Protocol

from sqlalchemy import Engine, event

log = logging.getLogger(__name__)

CHANNEL = "packyard_changes"
RECHECK_SECONDS = 10.0
RECONNECT_SECONDS = 1.0
# The first word of a statement that may change what is stored; anything else (SELECT,
# SAVEPOINT, SET, SHOW) sends no notification.
_WRITES = ("INSERT", "UPDATE", "DELETE", "MERGE", "WITH", "CREATE", "ALTER", "DROP", "TRUNC")
_NOTIFIED_IN = "packyard_notified_in"
# The execution option of a statement whose write nothing cached depends on: bookkeeping
# such as download counts and a token's last use. It sends no notification, so the flush of
# a download load's counts (every 2 s in each process) no longer makes every process drop its
# caches and look every credential up again. File downloads on PostgreSQL at c=64
# (bench/scenarios.py's downloads over 40 files, runs of 6 s): 16,000-16,400 requests a
# second with p99 260-310 ms before (2 runs), 19,000-20,900 with p99 91-190 ms after (3).
# The safety net's re-read of the snapshot still sees these writes, every 10 s at most.
_UNCACHED_OPTION = "packyard_uncached_write"
UNCACHED_WRITE = {_UNCACHED_OPTION: True}


class ChangeCounter(Protocol):
    def __call__(self) -> int | None:
        """The counter's value now; None while it cannot be trusted (cache nothing)."""

    async def follow(self) -> None:
        """Keep the counter current until cancelled (run in the application's lifespan)."""


class _PerIteration:
    """``read`` at most once per event-loop iteration when called on the loop; in any
    other thread, every call reads.

    Why a value read earlier in the same iteration may stand in: the callback that forgets
    it is queued when it is read, so it runs before anything the loop learns afterwards
    (request bytes are handled by callbacks queued after it, FIFO). Every request that sees
    the value therefore arrived before it was read.
    """

    def __init__(self, read: Callable[[], int | None]) -> None:
        self._read = read
        self._value: int | None = None
        self._held_on: asyncio.AbstractEventLoop | None = None

    def __call__(self) -> int | None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return self._read()
        if self._held_on is loop:
            return self._value
        self._value = self._read()
        self._held_on = loop
        loop.call_soon(self._forget)
        return self._value

    def _forget(self) -> None:
        self._held_on = None


class NoChanges:
    """No counter (an in-memory database, a command-line process): nothing is cached."""

    def __call__(self) -> int | None:
        return None

    async def follow(self) -> None:
        return None


class SqliteChanges:
    def __init__(self, database: str) -> None:
        self._connection = sqlite3.connect(database, check_same_thread=False, isolation_level=None)
        self._lock = threading.Lock()
        self._read = _PerIteration(self._data_version)

    def _data_version(self) -> int:
        with self._lock:
            value: int = self._connection.execute("PRAGMA data_version").fetchone()[0]
        return value

    def __call__(self) -> int | None:
        return self._read()

    async def follow(self) -> None:
        return None  # SQLite keeps the counter itself


class PostgresChanges:
    def __init__(self, conninfo: str, recheck_seconds: float = RECHECK_SECONDS) -> None:
        self._conninfo = conninfo
        self._recheck_seconds = recheck_seconds
        self._generation = 0
        self._listening = False

    def __call__(self) -> int | None:
        return self._generation if self._listening else None

    def _bump(self) -> None:
        self._generation += 1

    async def follow(self) -> None:
        while True:
            try:
                await self._listen()
            except asyncio.CancelledError:
                raise
            except Exception as error:  # any failure: stop trusting, reconnect
                log.warning("Change notifications interrupted (%s); reconnecting", error)
            finally:
                self._listening = False
                self._bump()
            await asyncio.sleep(RECONNECT_SECONDS)

    async def _listen(self) -> None:
        # Imported here: only a PostgreSQL deployment needs the driver.
        import psycopg

        async with await psycopg.AsyncConnection.connect(
            self._conninfo, autocommit=True, connect_timeout=10
        ) as connection:
            await connection.execute(f"LISTEN {CHANNEL}")
            snapshot = await _snapshot(connection)
            # Whatever committed before LISTEN may be cached nowhere from now on.
            self._bump()
            self._listening = True
            while True:
                async for _ in connection.notifies(timeout=self._recheck_seconds):
                    self._bump()
                now = await asyncio.wait_for(_snapshot(connection), self._recheck_seconds)
                if now != snapshot:
                    snapshot = now
                    self._bump()


async def _snapshot(connection: Any) -> str:
    """The server's transaction snapshot (next transaction id, those in progress): it
    moves whenever a transaction that wrote anything started or ended since."""
    cursor = await connection.execute("SELECT pg_current_snapshot()::text")
    row = await cursor.fetchone()
    return str(row[0])


def notify_on_write(engine: Engine) -> None:
    """Make every transaction on ``engine`` that writes send one ``NOTIFY`` (delivered by
    PostgreSQL when, and only if, it commits)."""

    @event.listens_for(engine, "after_cursor_execute")
    def _after(
        connection: Any,
        cursor: Any,
        statement: str,
        parameters: Any,
        context: Any,
        executemany: bool,
    ) -> None:
        if not statement.lstrip()[:8].upper().startswith(_WRITES):
            return
        if context is not None and context.execution_options.get(_UNCACHED_OPTION):
            return
        transaction = connection.get_transaction()
        if transaction is not None and connection.info.get(_NOTIFIED_IN) is transaction:
            return
        # A cursor of its own: the statement's results are still to be fetched.
        notifying = connection.connection.cursor()
        try:
            notifying.execute(f"NOTIFY {CHANNEL}")
        finally:
            notifying.close()
        connection.info[_NOTIFIED_IN] = transaction


def change_counter(engine: Engine, recheck_seconds: float = RECHECK_SECONDS) -> ChangeCounter:
    """The counter for ``engine``'s database (see the module's docstring)."""
    database = engine.url.database
    if engine.dialect.name == "sqlite":
        if not database or database == ":memory:":
            return NoChanges()
        return SqliteChanges(database)
    if engine.dialect.name == "postgresql":
        notify_on_write(engine)
        url = engine.url.set(drivername="postgresql")
        return PostgresChanges(url.render_as_string(hide_password=False), recheck_seconds)
    return NoChanges()
