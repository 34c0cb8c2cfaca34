"""Serving stored files and counting downloads without a database write per request.

Counts are buffered in memory and flushed as increments in one short transaction, on a
timer and at shutdown, so several processes add up correctly.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from packyard.blobs.base import BlobStore
from packyard.core.errors import NotFound
from packyard.core.models import PackageFile, Registry
from packyard.db.packages import package_from_row
from packyard.db.tables import PackageRow
from packyard.services import metrics

METADATA_SUFFIX = ".metadata"


@dataclass(frozen=True, slots=True)
class Download:
    """What to send: a blob, its size and SHA256 (the ETag), and the package it belongs to."""

    package: PackageFile
    blob_key: str
    local_path: Path | None
    is_metadata: bool


class DownloadCounter:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions
        self._pending: Counter[str] = Counter()
        self._lock = threading.Lock()

    def count(self, package_id: str) -> None:
        metrics.DOWNLOADS.inc()
        with self._lock:
            self._pending[package_id] += 1

    def pending(self, package_id: str) -> int:
        """Downloads counted in this process and not yet flushed."""
        with self._lock:
            return self._pending.get(package_id, 0)

    def flush(self) -> None:
        with self._lock:
            pending, self._pending = self._pending, Counter()
        if not pending:
            return
        try:
            with self._sessions.begin() as session:
                for package_id, increment in sorted(pending.items()):
                    session.execute(
                        update(PackageRow)
                        .where(PackageRow.id == package_id)
                        .values(downloads_count=PackageRow.downloads_count + increment)
                    )
        except Exception:
            with self._lock:  # keep the counts for the next flush
                self._pending.update(pending)
            raise


LOCATED_CACHE_ENTRIES = 20_000


class DownloadService:
    def __init__(
        self, sessions: sessionmaker[Session], blobs: BlobStore, counter: DownloadCounter
    ) -> None:
        self._sessions = sessions
        self._blobs = blobs
        self.counter = counter
        # Keyed by the registry's serial, which changes with every change to its files, so
        # an entry is never stale; a hit spares the query (pip and uv fetch many files).
        self._located: dict[tuple[str, int, str], Download] = {}

    def cached(self, registry: Registry, filename: str) -> Download | None:
        """What ``locate`` answered for this registry at this serial, or None. No query."""
        return self._located.get((registry.id, registry.serial, filename))

    def locate(self, registry: Registry, filename: str) -> Download:
        """The file ``filename`` of ``registry``, or its PEP 658 metadata file when the name
        ends in ``.metadata``; raises NotFound."""
        key = (registry.id, registry.serial, filename)
        found = self._located.get(key)
        if found is None:
            found = self._locate(registry, filename)
            if len(self._located) >= LOCATED_CACHE_ENTRIES:
                self._located.clear()
            self._located[key] = found
        return found

    def _locate(self, registry: Registry, filename: str) -> Download:
        is_metadata = filename.endswith(METADATA_SUFFIX)
        stored_name = filename.removesuffix(METADATA_SUFFIX) if is_metadata else filename
        with self._sessions() as session:
            row = session.scalar(
                select(PackageRow).where(
                    PackageRow.registry_id == registry.id, PackageRow.filename == stored_name
                )
            )
            if row is None:
                raise NotFound(f"No file {filename!r} in registry {registry.slug!r}")
            package = package_from_row(row)
        if is_metadata:
            if package.core_metadata_sha256 is None:
                raise NotFound(f"No metadata file for {stored_name!r}")
            key = package.core_metadata_sha256
        else:
            key = package.digests.sha256
        return Download(package, key, self._blobs.local_path(key), is_metadata)

    def blob_size(self, blob_key: str) -> int | None:
        """The stored size of a blob; None when it is missing."""
        return self._blobs.size(blob_key)

    def local_path(self, blob_key: str) -> Path | None:
        """The blob's path when the store is local (served with sendfile)."""
        return self._blobs.local_path(blob_key)

    def redirect_url(self, blob_key: str, filename: str) -> str | None:
        """A presigned URL to send the client to, when the store is configured for it."""
        return self._blobs.url(blob_key, filename)

    def stream(self, blob_key: str, start: int, end: int) -> Iterator[bytes]:
        """The bytes ``start``..``end`` (exclusive) of a blob, in chunks."""
        return self._blobs.read(blob_key, start, end)
