"""Receiving upload bytes: streamed into a private staging file while every digest is
computed and the size limit enforced, so memory does not grow with the file.

A staged file lives in the staging folder until the publish pipeline hands it to the blob
store or discards it; readers never see staging files.
"""

from __future__ import annotations

import contextlib
import errno
import os
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

from packyard.core.errors import InsufficientStorage, TooLarge
from packyard.core.models import Digests
from packyard.dists.digests import MultiHasher


@dataclass(frozen=True, slots=True)
class StagedFile:
    path: Path
    filename: str
    size: int
    digests: Digests


class StagingWriter:
    """One file being received. ``write`` raises TooLarge past the limit."""

    def __init__(self, directory: Path, filename: str, max_bytes: int) -> None:
        fd, name = tempfile.mkstemp(dir=directory, prefix="upload-", suffix=".part")
        self._handle: BinaryIO = os.fdopen(fd, "wb")
        self.path = Path(name)
        self.filename = filename
        self._max_bytes = max_bytes
        self._hasher = MultiHasher()

    @property
    def size(self) -> int:
        return self._hasher.size

    def write(self, chunk: bytes) -> None:
        if self._hasher.size + len(chunk) > self._max_bytes:
            raise TooLarge(f"File is larger than the upload limit of {self._max_bytes} bytes")
        self._hasher.update(chunk)
        try:
            self._handle.write(chunk)
        except OSError as error:
            if error.errno in (errno.ENOSPC, errno.EDQUOT):
                raise InsufficientStorage(
                    "The server has no space left to receive this file; ask an administrator"
                ) from error
            raise

    def finish(self) -> StagedFile:
        self._handle.close()
        return StagedFile(self.path, self.filename, self._hasher.size, self._hasher.digests())

    def discard(self) -> None:
        with contextlib.suppress(OSError):
            self._handle.close()
        self.path.unlink(missing_ok=True)


class StagingArea:
    def __init__(self, directory: Path, max_bytes: int) -> None:
        self.directory = directory
        self.max_bytes = max_bytes
        directory.mkdir(parents=True, exist_ok=True)

    def open(self, filename: str) -> StagingWriter:
        return StagingWriter(self.directory, filename, self.max_bytes)

    def discard(self, staged: StagedFile) -> None:
        staged.path.unlink(missing_ok=True)

    def sweep(self, older_than: datetime) -> int:
        """Remove staged files last written before ``older_than``: those of uploads,
        imports and PyPI fetches whose process died. Returns how many were removed; a file
        another process removes meanwhile is not an error."""
        removed = 0
        cutoff = older_than.timestamp()
        for path in self.directory.iterdir():
            with contextlib.suppress(FileNotFoundError):
                if path.is_file() and path.stat().st_mtime < cutoff:
                    path.unlink()
                    removed += 1
        return removed
