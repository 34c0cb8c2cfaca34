"""The BlobStore protocol. A new backend implements these methods and passes the contract
suite in ``tests/test_blob_stores.py``; nothing else in Packyard knows which one runs."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Protocol

from packyard.core.durability import Pending


@dataclass(frozen=True, slots=True)
class StoredBlob:
    """One blob as a listing sees it: its key and when it was last stored (UTC)."""

    key: str
    modified: datetime


class BlobStore(Protocol):
    """Content-addressed storage: ``key`` is always the lowercase hex SHA256 of the bytes."""

    def put_file(self, key: str, path: Path) -> None:
        """Store the file at ``path`` under ``key``, consuming it (it may be moved).

        Idempotent: storing a key that exists keeps the existing bytes and refreshes its
        modification time (the garbage collector's grace period counts from the last store,
        so a blob about to be referenced again is never collected). Raises
        InsufficientStorage when the store is full.
        """

    def put_bytes(self, key: str, data: bytes) -> None:
        """Store ``data`` under ``key``; idempotent like ``put_file``."""

    def prepare(self, key: str, path: Path) -> None:
        """The file at ``path`` is likely to be stored under ``key`` soon (``put_*``): a
        store may begin in the background what storing it will wait for (the local store:
        flushing a large file's bytes to disk while a publish inspects them, unless the blob
        is there already). Nothing is stored, and nothing is promised: ``put_*`` still waits
        for all it needs. A file discarded meanwhile is no error."""

    def start_put_all(self, files: Mapping[str, Path], data: Mapping[str, bytes]) -> Pending:
        """``put_all`` begun: the blobs may be stored in the background while the caller
        goes on (a publish runs its row's statements); ``wait`` on the answer before relying
        on them. A store may do it all at once when there is nothing to wait for."""

    def put_all(self, files: Mapping[str, Path], data: Mapping[str, bytes]) -> None:
        """Store several blobs, as ``put_file`` (key -> path) and ``put_bytes`` (key -> bytes)
        would, waiting for them together rather than one after another: all are stored
        when it returns (a publish stores a wheel and its metadata this way)."""

    def read(self, key: str, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        """Yield the blob's bytes from ``start`` up to ``end`` (exclusive; None for the end)
        in chunks; raises FileNotFoundError when it is missing."""

    def size(self, key: str) -> int | None:
        """The blob's size in bytes, or None when it is missing."""

    def local_path(self, key: str) -> Path | None:
        """A filesystem path to the blob when the store is local (for sendfile), else None."""

    def url(self, key: str, filename: str) -> str | None:
        """A short-lived URL a client can fetch the blob from directly, without credentials,
        or None when the store cannot hand one out (or is not configured to)."""

    def delete(self, key: str) -> None:
        """Remove the blob; removing a missing blob is not an error."""

    def iter_blobs(self) -> Iterator[StoredBlob]:
        """Every blob in the store, in no particular order, with its modification time
        (what ``packyard fsck`` and ``packyard gc`` walk)."""

    def modified(self, key: str) -> datetime | None:
        """When the blob was last stored (UTC), or None when it is missing."""

    def check(self) -> None:
        """Return if the store can be reached now; raise (OSError, the client's error)
        otherwise. Cheap: ``/readyz`` calls it on every probe."""
