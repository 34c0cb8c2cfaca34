"""Locks that keep the blob garbage collector and publishing apart, per blob key.

Content addressing lets a publish reuse a blob the collector has just found unreferenced:
storing existing bytes only refreshes their modification time. So a publish holds its
keys' lock (shared: publishes never wait for each other) from storing its blobs until its
row is committed, and the collector removes a blob only under the same key's exclusive
lock, which it merely tries for (a key being published is skipped until the next run).
Under the lock the collector checks the blob's modification time once more: a publish that
stored it earlier refreshed it; one that comes later waits, finds the blob gone and
stores the bytes anew.

The lock lives where every process that may publish or collect can see it: PostgreSQL
advisory locks (any number of hosts), or for the embedded SQLite database, whose processes
share one host, ``flock`` on small files beside it (one per key prefix).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Protocol

from sqlalchemy import Connection, Engine, text


class BlobLocks(Protocol):
    def publishing(self, keys: Iterable[str]) -> contextlib.AbstractContextManager[None]:
        """Hold ``keys`` shared until the block ends; waits while the collector removes one."""

    def collecting(self, key: str) -> contextlib.AbstractContextManager[bool]:
        """Try to hold ``key`` exclusively; yields whether it is held (False: a publish
        is using it now)."""


def _advisory_id(key: str) -> int:
    return int(key[:15], 16)  # 60 bits of the SHA256: fits PostgreSQL's bigint


# Every key of a publish in one statement each way (a wheel has two: the file and its
# metadata). Shared locks never wait for each other and the collector only tries, so the
# order they are taken in cannot deadlock.
_LOCK_SHARED = text("SELECT pg_advisory_lock_shared(id) FROM unnest(CAST(:ids AS bigint[])) AS id")
_UNLOCK_SHARED = text(
    "SELECT pg_advisory_unlock_shared(id) FROM unnest(CAST(:ids AS bigint[])) AS id"
)


class AdvisoryBlobLocks:
    """PostgreSQL: session advisory locks on a connection held for the block. It runs in
    autocommit: a session lock outlives transactions, so no transaction is left open while
    the blobs are stored, and none is begun and committed around each statement (a publish
    took 7 round trips for its locks, now 2)."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    @contextlib.contextmanager
    def _autocommit(self) -> Iterator[Connection]:
        with self._engine.connect() as connection:
            yield connection.execution_options(isolation_level="AUTOCOMMIT")

    @contextlib.contextmanager
    def publishing(self, keys: Iterable[str]) -> Iterator[None]:
        ids = sorted({_advisory_id(k) for k in keys})
        with self._autocommit() as connection:
            connection.execute(_LOCK_SHARED, {"ids": ids})
            try:
                yield
            finally:
                connection.execute(_UNLOCK_SHARED, {"ids": ids})

    @contextlib.contextmanager
    def collecting(self, key: str) -> Iterator[bool]:
        lock_id = _advisory_id(key)
        with self._autocommit() as connection:
            held = bool(
                connection.execute(
                    text("SELECT pg_try_advisory_lock(:id)"), {"id": lock_id}
                ).scalar()
            )
            try:
                yield held
            finally:
                if held:
                    connection.execute(text("SELECT pg_advisory_unlock(:id)"), {"id": lock_id})


class FileBlobLocks:
    """The embedded database: ``flock`` on ``folder/blobs-XX.lock`` (XX: the key's first
    two hex digits), which excludes other processes and other threads alike."""

    def __init__(self, folder: Path) -> None:
        self._folder = folder

    def _open(self, key: str) -> int:
        self._folder.mkdir(parents=True, exist_ok=True)
        return os.open(self._folder / f"blobs-{key[:2]}.lock", os.O_RDWR | os.O_CREAT, 0o600)

    @contextlib.contextmanager
    def publishing(self, keys: Iterable[str]) -> Iterator[None]:
        descriptors: list[int] = []
        try:
            for prefix_key in sorted({k[:2] for k in keys}):
                descriptor = self._open(prefix_key)
                descriptors.append(descriptor)
                fcntl.flock(descriptor, fcntl.LOCK_SH)
            yield
        finally:
            for descriptor in descriptors:
                os.close(descriptor)  # closing releases the lock

    @contextlib.contextmanager
    def collecting(self, key: str) -> Iterator[bool]:
        descriptor = self._open(key)
        try:
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                yield False
                return
            yield True
        finally:
            os.close(descriptor)


def blob_locks_for(engine: Engine) -> BlobLocks:
    """Advisory locks on PostgreSQL; lock files beside an embedded SQLite database."""
    if engine.dialect.name == "postgresql":
        return AdvisoryBlobLocks(engine)
    database = engine.url.database
    folder = Path(database).parent if database and database != ":memory:" else Path(".")
    return FileBlobLocks(folder / "locks")
