"""The BlobStore protocol. A new backend implements these methods and passes the contract
suite in ``tests/test_blob_stores.py``; nothing else in Packyard knows which one runs."""

from __future__ import annotations

from pathlib import Path
from typing import BinaryIO, Protocol


class BlobStore(Protocol):
    """Content-addressed storage: ``key`` is always the lowercase hex SHA256 of the bytes."""

    def put_file(self, key: str, path: Path) -> None:
        """Store the file at ``path`` under ``key``, consuming it (it may be moved).

        Idempotent: storing a key that exists keeps the existing bytes. Raises
        InsufficientStorage when the store is full.
        """

    def put_bytes(self, key: str, data: bytes) -> None:
        """Store ``data`` under ``key``; idempotent like ``put_file``."""

    def open(self, key: str) -> BinaryIO:
        """Open the blob for reading; raises FileNotFoundError when it is missing."""

    def local_path(self, key: str) -> Path | None:
        """A filesystem path to the blob when the store is local (for sendfile), else None."""

    def exists(self, key: str) -> bool:
        """Whether a blob is stored under ``key``."""

    def delete(self, key: str) -> None:
        """Remove the blob; removing a missing blob is not an error."""
