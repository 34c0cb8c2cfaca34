"""What a file URL sends, for source and composite registries alike, and counting
downloads without a database write per request.

``DownloadService.locate`` answers for both registry types: a source registry's file from
its blob; a composite's from the source upstream that serves it, or PyPI's (cached or
linked, ``services.composite_index``). ``count`` holds the one rule for what counts as a
download. Counts are buffered in memory and flushed as increments in one short
transaction, on a timer and at shutdown, so several processes add up correctly.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from packyard.blobs.base import BlobStore
from packyard.core.errors import NotFound
from packyard.core.index import Download
from packyard.core.models import Registry, RegistryType
from packyard.core.simple_api import METADATA_SUFFIX
from packyard.db import index as queries
from packyard.db.index import StoredFile
from packyard.db.packages import add_downloads
from packyard.services import metrics
from packyard.services.composite_index import CompositeIndexService
from packyard.services.write_buffer import WriteBuffer


class DownloadCounter:
    def __init__(self, sessions: sessionmaker[Session], now: Callable[[], datetime]) -> None:
        self._sessions = sessions
        self._now = now
        self._pending: WriteBuffer[str, int] = WriteBuffer(operator.add)

    def count(self, package_id: str) -> None:
        metrics.DOWNLOADS_TALLIED.inc()
        self._pending.note(package_id, 1)

    def pending(self, package_id: str) -> int:
        """Downloads counted in this process and not yet written."""
        return self._pending.get(package_id) or 0

    def flush(self) -> None:
        self._pending.flush(self._write)

    def _write(self, counts: dict[str, int]) -> None:
        # When they were downloaded, to within a flush interval (retention's
        # ``not_downloaded_days`` rule needs no more).
        with self._sessions.begin() as session:
            add_downloads(session, counts, self._now())


LOCATED_CACHE_ENTRIES = 20_000


class DownloadService:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        blobs: BlobStore,
        counter: DownloadCounter,
        composite: CompositeIndexService,
    ) -> None:
        self._sessions = sessions
        self._blobs = blobs
        self._composite = composite
        self.counter = counter
        # Keyed by the source registry's serial, which changes with every change to its
        # files, so an entry is never stale; a hit spares the query (pip and uv fetch many
        # files).
        self._located: dict[tuple[str, int, str], Download] = {}

    def cached(self, registry: Registry, filename: str) -> Download | None:
        """What ``locate`` answered for this source registry at this serial, or None (and
        always None for a composite). No query: safe on the event loop."""
        return self._located.get((registry.id, registry.serial, filename))

    def locate(self, registry: Registry, filename: str) -> Download:
        """What the URL of ``filename`` (a distribution, or with ``.metadata`` its PEP 658
        metadata) sends; raises NotFound, and for a composite's PyPI file UpstreamError
        when its bytes do not match their announced hash."""
        if registry.type is RegistryType.COMPOSITE:
            found = self._composite.locate(registry, filename)
            if isinstance(found, Download):
                return found
            assert found.registry_id is not None  # PyPI's files are answered above
            return self._in_source(found.registry_id, found.serial, found.slug, filename)
        return self._in_source(registry.id, registry.serial, registry.slug, filename)

    def _in_source(self, registry_id: str, serial: int, slug: str, filename: str) -> Download:
        key = (registry_id, serial, filename)
        found = self._located.get(key)
        if found is None:
            with self._sessions() as session:
                distribution = filename.removesuffix(METADATA_SUFFIX)
                stored = queries.servable_file(session, registry_id, distribution)
            found = _download(stored, filename, slug)
            if len(self._located) >= LOCATED_CACHE_ENTRIES:
                self._located.clear()
            self._located[key] = found
        return found

    def locate_package(self, registry: Registry, package_id: str) -> Download:
        """What downloading the package ``package_id`` of a source registry sends."""
        with self._sessions() as session:
            stored = queries.stored_file(session, registry.id, package_id)
        if stored is None:
            raise NotFound(f"No package {package_id!r} in registry {registry.slug!r}")
        return _download(stored, stored.filename, registry.slug)

    def count(self, download: Download, *, method: str, ranged: bool) -> None:
        """Count a download when it is one: a whole GET of a distribution (not its
        metadata, not a range: pip and uv read parts of wheels before installing)."""
        if download.package_id is not None and method == "GET" and not ranged:
            self.counter.count(download.package_id)

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


def _download(stored: StoredFile | None, filename: str, registry_slug: str) -> Download:
    if stored is None:
        raise NotFound(f"No file {filename!r} in registry {registry_slug!r}")
    if not filename.endswith(METADATA_SUFFIX):
        return Download(filename, stored.sha256, size=stored.size, package_id=stored.package_id)
    if stored.core_metadata_sha256 is None:
        raise NotFound(f"No metadata file for {stored.filename!r}")
    return Download(filename, stored.core_metadata_sha256)
