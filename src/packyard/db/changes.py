"""The database's change counter: a number that changes whenever anything cached from the
database may have changed, read without a query, so that caches validated by it
(``services.memo.CounterValidatedMemo``) are exact across processes.

Every transaction that writes is marked (``_mark_writes``, an engine hook, so no write path
can forget it; only a statement marked ``UNCACHED_WRITE``, bookkeeping no cache shows, is
passed over), and each database makes a marked commit known to every process:

- SQLite (``SqliteChanges``): the commit bumps a shared serial, eight bytes in a file beside
  the database (``<database>-changes``) that every process maps into memory
  (``SharedSerial``); bumped after the commit returns and before the answer is sent, so
  the next request anywhere reads the new value. Reading it is one memory load.
- PostgreSQL (``PostgresChanges``): the transaction sends ``NOTIFY packyard_changes``,
  which PostgreSQL delivers at commit, and only then, to every process's listening
  connection, which bumps the process's counter (``follow``, a task in the application's
  lifespan); while it is not listening the counter is None and nothing is cached.

Both have a safety net against a change the mark cannot report (a write made with psql or
the sqlite3 shell, a process killed between its commit and its bump, a lost connection):
every ``recheck_seconds`` the process asks the database whether anything at all was
committed since it last asked (PostgreSQL: the transaction snapshot; SQLite: ``PRAGMA
data_version``) and bumps the counter when so.
"""

from __future__ import annotations

import asyncio
import fcntl
import logging
import mmap
import os
import sqlite3
import struct
import threading
from typing import Any, Protocol

from sqlalchemy import Engine, event

log = logging.getLogger(__name__)

CHANNEL = "packyard_changes"
RECHECK_SECONDS = 10.0
RECONNECT_SECONDS = 1.0
# The first word of a statement that may change what is stored; anything else (SELECT,
# SAVEPOINT, SET, SHOW) marks nothing.
_WRITES = ("INSERT", "UPDATE", "DELETE", "MERGE", "WITH", "CREATE", "ALTER", "DROP", "TRUNC")
_NOTIFIED_IN = "packyard_notified_in"
# The execution option of a statement whose write nothing cached depends on: bookkeeping
# such as download counts and a token's last use. It marks nothing, so the flush of a
# download load's counts (every 2 s in each process) no longer makes every process drop its
# caches and look every credential up again. File downloads on PostgreSQL at c=64
# (bench/scenarios.py's downloads over 40 files, runs of 6 s): 16,000-16,400 requests a
# second with p99 260-310 ms before (2 runs), 19,000-20,900 with p99 91-190 ms after (3).
# The safety net still sees these writes, every 10 s at most.
_UNCACHED_OPTION = "packyard_uncached_write"
UNCACHED_WRITE = {_UNCACHED_OPTION: True}


class ChangeCounter(Protocol):
    def __call__(self) -> int | None:
        """The counter's value now; None while it cannot be trusted (cache nothing)."""

    async def follow(self) -> None:
        """Keep the counter current until cancelled (run in the application's lifespan)."""


class NoChanges:
    """No counter (an in-memory database, a command-line process): nothing is cached."""

    def __call__(self) -> int | None:
        return None

    async def follow(self) -> None:
        return None


class SharedSerial:
    """A number every process on this machine reads with one memory load: eight bytes in a
    file, mapped into each process's memory (as SQLite shares its own WAL index in the
    ``-shm`` file). ``bump`` adds one under a lock (``flock`` between processes, a mutex
    between threads), so two writers bumping at once move it twice and no bump is lost."""

    def __init__(self, path: str) -> None:
        self._file = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        if os.fstat(self._file).st_size < _SERIAL.size:
            os.ftruncate(self._file, _SERIAL.size)  # zeros; never shrinks one in use
        self._map = mmap.mmap(self._file, _SERIAL.size)
        self._lock = threading.Lock()

    def read(self) -> int:
        value: int = _SERIAL.unpack_from(self._map)[0]
        return value

    def bump(self) -> None:
        with self._lock:
            fcntl.flock(self._file, fcntl.LOCK_EX)
            try:
                _SERIAL.pack_into(self._map, 0, (self.read() + 1) % 2**64)
            finally:
                fcntl.flock(self._file, fcntl.LOCK_UN)


_SERIAL = struct.Struct("<Q")
_serials: dict[str, SharedSerial] = {}
_serials_lock = threading.Lock()


def shared_serial(database: str) -> SharedSerial:
    """The one ``SharedSerial`` of this process for the SQLite file ``database``."""
    path = os.path.abspath(database) + "-changes"
    with _serials_lock:
        serial = _serials.get(path)
        if serial is None:
            serial = _serials[path] = SharedSerial(path)
        return serial


class _BumpingConnection(sqlite3.Connection):
    """A SQLite connection that bumps its database's shared serial after each commit of a
    transaction that wrote something a cache may show (``wrote``, set by ``_mark_writes``).
    After the commit, not before: a process that read the old value and then the new rows
    keeps them under the old value, which the bump then retires."""

    serial: SharedSerial
    wrote = False

    def commit(self) -> None:
        super().commit()
        if self.wrote:
            self.wrote = False
            self.serial.bump()

    def rollback(self) -> None:
        self.wrote = False
        super().rollback()


class SqliteChanges:
    def __init__(self, database: str, recheck_seconds: float = RECHECK_SECONDS) -> None:
        self._serial = shared_serial(database)
        self._recheck_seconds = recheck_seconds
        # The safety net's own connection, which never writes: its data_version moves
        # whenever any other connection, in any process, commits anything.
        self._connection = sqlite3.connect(database, check_same_thread=False, isolation_level=None)

    def __call__(self) -> int | None:
        return self._serial.read()

    def _data_version(self) -> int:
        value: int = self._connection.execute("PRAGMA data_version").fetchone()[0]
        return value

    async def follow(self) -> None:
        seen = self._data_version()
        while True:
            await asyncio.sleep(self._recheck_seconds)
            now = self._data_version()
            if now != seen:
                seen = now
                self._serial.bump()


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


def _mark_writes(engine: Engine) -> None:
    """Mark every transaction on ``engine`` that runs a write not marked ``UNCACHED_WRITE``:
    on PostgreSQL with one ``NOTIFY`` (delivered when, and only if, it commits), on SQLite
    with the connection's ``wrote`` (its commit then bumps the shared serial)."""
    postgres = engine.dialect.name == "postgresql"

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
        if not postgres:
            connection.connection.dbapi_connection.wrote = True
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


def track_changes(engine: Engine) -> None:
    """Make every commit on ``engine`` that wrote something cached known to every process
    (see the module's docstring); called on each engine as it is made, before it connects,
    so that command-line processes and tests mark their writes as the server does."""
    database = engine.url.database
    if engine.dialect.name == "sqlite":
        if _in_memory(database):
            return
        assert database is not None
        # A class per database: sqlite3 makes the connection, so the serial rides on it.
        bumping = type(
            "BumpingConnection", (_BumpingConnection,), {"serial": shared_serial(database)}
        )

        @event.listens_for(engine, "do_connect")
        def _connect(dialect: Any, record: Any, cargs: Any, cparams: dict[str, Any]) -> None:
            cparams["factory"] = bumping

    elif engine.dialect.name != "postgresql":
        return
    _mark_writes(engine)


def _in_memory(database: str | None) -> bool:
    return not database or database == ":memory:" or "mode=memory" in database


def change_counter(engine: Engine, recheck_seconds: float = RECHECK_SECONDS) -> ChangeCounter:
    """The counter for ``engine``'s database (see the module's docstring)."""
    database = engine.url.database
    if engine.dialect.name == "sqlite":
        if _in_memory(database):
            return NoChanges()
        assert database is not None
        return SqliteChanges(database, recheck_seconds)
    if engine.dialect.name == "postgresql":
        url = engine.url.set(drivername="postgresql")
        return PostgresChanges(url.render_as_string(hide_password=False), recheck_seconds)
    return NoChanges()
