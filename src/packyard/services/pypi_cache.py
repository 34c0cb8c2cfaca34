"""The PyPI file cache of composite registries (``pypi_files=cache``), held under a size
cap by evicting the least recently used files; an evicted file is fetched from PyPI again
on its next request (``services.upstream_pypi.PypiUpstream.cached_file``).

Cheap on the hot path: serving a cached file only notes the time in memory, at most once
per ``NOTE_INTERVAL`` per file and process; the notes are written in one short
transaction with the download counts (``Services.flush_buffers``). Storing a fetched file
writes its row (size, now) at once: a fetch is rare and slow anyway.

Safe beside serving and fetching: a fetch holds the file's blob lock (``db.blob_locks``,
shared) from checking the blob to recording its row; the pruner removes a file only under
the same key's exclusive lock, which it merely tries for, and only when its row says it
was not used for ``IN_USE_GRACE`` (longer than a note takes to reach the database), so a
file being resolved and opened for a download is never pulled away. A file whose bytes a
published package also holds loses its cache row but keeps its blob.

``prune`` runs in the maintenance job (once per cluster, when
``PACKYARD_PYPI_CACHE_MAX_BYTES`` is set) and from ``packyard cache prune``.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from packyard.blobs.base import BlobStore
from packyard.db import pypi_cache as queries
from packyard.db.blob_locks import BlobLocks
from packyard.services.write_buffer import Throttle, WriteBuffer

log = logging.getLogger(__name__)

NOTE_INTERVAL = timedelta(seconds=1)
# A file used this recently is never evicted: it may be being served. Longer than a use
# takes to reach the database (NOTE_INTERVAL plus the flush timer, 2 s by default).
IN_USE_GRACE = timedelta(seconds=10)
# Bounds memory when very many files are served; forgetting only costs one extra note.
MAX_REMEMBERED = 100_000


@dataclass
class PruneReport:
    """What one prune did: the cache's bytes before and after, and the evicted keys."""

    max_bytes: int | None
    bytes_before: int = 0
    bytes_after: int = 0
    evicted: list[str] = field(default_factory=list)
    in_use: int = 0  # files over the cap kept because they were used just now


class PypiCache:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        blobs: BlobStore,
        locks: BlobLocks,
        now: Callable[[], datetime],
        max_bytes: int | None,
    ) -> None:
        self._sessions = sessions
        self._blobs = blobs
        self._locks = locks
        self._now = now
        self.max_bytes = max_bytes
        self._throttle: Throttle[str] = Throttle(NOTE_INTERVAL, MAX_REMEMBERED)
        # (last use, size) by blob key; the later use wins.
        self._pending: WriteBuffer[str, tuple[datetime, int]] = WriteBuffer(max)

    def fetching(self, key: str) -> contextlib.AbstractContextManager[None]:
        """Hold ``key`` against eviction while it is checked, fetched and recorded."""
        return self._locks.publishing([key])

    def stored(self, key: str, size: int) -> None:
        """Record that ``key`` (``size`` bytes) was just fetched into the cache."""
        now = self._now()
        with self._sessions.begin() as session:
            queries.record_stored(session, key, size, now)

    def used(self, key: str, size: int) -> None:
        """Note that ``key`` (``size`` bytes) is being served now (throttled; no database
        write)."""
        now = self._now()
        if self._throttle.due(key, now):
            self._pending.note(key, (now, size))

    def flush(self) -> None:
        """Write noted uses; on failure they are kept for the next flush."""
        self._pending.flush(self._write)

    def _write(self, uses: dict[str, tuple[datetime, int]]) -> None:
        with self._sessions.begin() as session:
            queries.touch(session, uses)

    def prune(self, max_bytes: int | None = None) -> PruneReport:
        """Evict least recently used files until the cache holds at most ``max_bytes``
        (default: the configured cap; with neither, nothing is evicted). Returns what it
        did; a file in use or being fetched is skipped, and reported as in use."""
        limit = self.max_bytes if max_bytes is None else max_bytes
        report = PruneReport(limit)
        self.flush()
        with self._sessions() as session:
            report.bytes_before = report.bytes_after = queries.total_bytes(session)
            candidates = queries.least_recently_used(session) if limit is not None else []
        idle_since = self._now() - IN_USE_GRACE
        for key, size, used in candidates:
            if limit is None or report.bytes_after <= limit:
                break
            if used >= idle_since or not self._evict(key, idle_since):
                report.in_use += 1
                continue
            report.evicted.append(key)
            report.bytes_after -= size
        return report

    def _evict(self, key: str, idle_since: datetime) -> bool:
        with self._locks.collecting(key) as held:
            if not held:
                return False  # being fetched right now
            with self._sessions.begin() as session:
                # Checked again under the lock: it may have been served since it was read.
                if not queries.forget_if_idle(session, key, idle_since):
                    return False
                if not queries.referenced_by_package(session, key):
                    self._blobs.delete(key)
            return True
