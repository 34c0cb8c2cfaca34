"""Blobs in a local folder, fanned out by the first two hex digits of their SHA256.

The 256 fan-out folders are made with the store, as git keeps its objects, so a publish
never creates a folder (nor flushes a new one's parent). Until 2026-12 a blob lay two
folders deep (``ab/cd/abcd…``): a new folder, flushed with its parent, for most of a young
registry's publishes; without them the server's CPU per file of twine's 402 went from
7.88 ms to 6.53 (medians of 6 alternated rounds). A store found in that layout is moved
up when it is opened (``_settle_layout``), once.

Writes are atomic: bytes land in a temporary file in the same folder and are renamed into
place, so a reader never sees a partial blob, whatever happens mid-write. They are also
durable before they are visible: the bytes are flushed to disk before the rename, and the
folder after it, so a package recorded in the database after ``put_*`` returns still has
its blob after a power cut (the database commits only once the blob is stored). Blobs
stored together (``put_all``: a wheel and its metadata) are flushed together.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import os
import re
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

from packyard.blobs.base import StoredBlob
from packyard.core.durability import (
    Pending,
    done_now,
    flush_all_to_disk,
    flush_in_background,
    flush_to_disk,
    started,
)
from packyard.core.errors import InsufficientStorage

_KEY_FORM = re.compile(r"^[0-9a-f]{64}$")
_FAN_OUT = [f"{number:02x}" for number in range(256)]
# Written once every fan-out folder exists and no blob is left in the earlier layout.
LAYOUT_MARK = ".layout-256"
READ_CHUNK_BYTES = 1024 * 1024
# Files at least this large begin flushing while a publish inspects them (``prepare``).
EARLY_FLUSH_BYTES = 1024 * 1024


class LocalBlobStore:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.root.mkdir(parents=True, exist_ok=True)
        if not (self.root / LAYOUT_MARK).exists():
            _settle_layout(self.root)

    def _path(self, key: str) -> Path:
        if not _KEY_FORM.match(key):
            raise ValueError(f"blob keys are hex SHA256 digests, not {key!r}")
        return self.root / key[:2] / key

    def _refreshed(self, target: Path) -> bool:
        """Whether the blob exists; if so its modification time is now (see ``put_file``)."""
        try:
            os.utime(target)
        except FileNotFoundError:
            return False
        return True

    def put_file(self, key: str, path: Path) -> None:
        self.put_all({key: path}, {})

    def put_bytes(self, key: str, data: bytes) -> None:
        self.put_all({}, {key: data})

    def prepare(self, key: str, path: Path) -> None:
        # put_all flushes the file again; by then there is little or nothing left to wait
        # for. A small file's flush is quick whenever it starts, and handing it to a thread
        # early costs the publish more (an fsync, an open, a hand-off) than it saves.
        with contextlib.suppress(FileNotFoundError):
            if path.stat().st_size >= EARLY_FLUSH_BYTES and not self._path(key).exists():
                flush_in_background(path)

    def start_put_all(self, files: Mapping[str, Path], data: Mapping[str, bytes]) -> Pending:
        store = functools.partial(self.put_all, files, data)
        if all(self._path(key).exists() for key in [*files, *data]):
            return done_now(store)  # only touched and their folders flushed: quick
        return started(store)

    def put_all(self, files: Mapping[str, Path], data: Mapping[str, bytes]) -> None:
        """Each blob lands in a file (the staged file itself, or a temporary one beside its
        target), then every file is flushed at once (with the folders that got a new
        fan-out folder), renamed into place, and every target folder flushed at once: two
        waits on the disk for the lot instead of two or more per blob. A blob already in
        place is only touched, and its folder flushed with the others."""
        moves: list[tuple[Path, Path]] = []  # (bytes to flush, where they go)
        temporaries: list[Path] = []
        # Blobs found in place are flushed with the rest: another publish may have renamed
        # one there a moment ago and not yet flushed its folder (a clean folder is quick).
        found: list[Path] = []
        try:
            for key, path in files.items():
                target = self._path(key)
                if self._refreshed(target):
                    path.unlink(missing_ok=True)
                    found.append(target)
                else:
                    moves.append((path, target))
            wanted = {key: self._path(key) for key in data}
            found += [target for target in wanted.values() if self._refreshed(target)]
            wanted = {key: target for key, target in wanted.items() if target not in found}
            grown = _new_folders([*wanted.values(), *(target for _, target in moves)])
            for key, target in wanted.items():
                temporaries.append(_written_beside(target, data[key]))
                moves.append((temporaries[-1], target))
            flush_all_to_disk([*(source for source, _ in moves), *grown])
            renamed = [target for source, target in moves if self._renamed(source, target)]
            flush_all_to_disk(target.parent for target in [*renamed, *found])
        except OSError as error:
            for temporary in temporaries:
                temporary.unlink(missing_ok=True)
            raise _translated(error) from error

    def _renamed(self, source: Path, target: Path) -> bool:
        """Move ``source`` (flushed) to ``target``; False when it had to be copied instead
        (staging on another filesystem), the copy being durable already."""
        try:
            os.replace(source, target)
        except OSError as error:
            if error.errno != errno.EXDEV:
                raise
            with source.open("rb") as handle:
                self._write_atomically(target, handle)
            source.unlink(missing_ok=True)
            return False
        return True

    def _write_atomically(self, target: Path, source: BinaryIO) -> None:
        fd, temp_name = tempfile.mkstemp(dir=target.parent, prefix=".incoming-")
        try:
            with os.fdopen(fd, "wb") as handle:
                shutil.copyfileobj(source, handle, 1024 * 1024)
                _flush_handle(handle)
            os.replace(temp_name, target)
            flush_to_disk(target.parent)
        except OSError as error:
            Path(temp_name).unlink(missing_ok=True)
            raise _translated(error) from error

    def read(self, key: str, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        with self._path(key).open("rb") as handle:
            handle.seek(start)
            remaining = None if end is None else end - start
            while remaining is None or remaining > 0:
                wanted = READ_CHUNK_BYTES if remaining is None else min(READ_CHUNK_BYTES, remaining)
                chunk = handle.read(wanted)
                if not chunk:
                    return
                if remaining is not None:
                    remaining -= len(chunk)
                yield chunk

    def size(self, key: str) -> int | None:
        try:
            return self._path(key).stat().st_size
        except FileNotFoundError:
            return None

    def local_path(self, key: str) -> Path | None:
        return self._path(key)

    def check(self) -> None:
        if not self.root.is_dir():
            raise FileNotFoundError(f"The blob folder {self.root} is missing")

    def url(self, key: str, filename: str) -> str | None:
        return None

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def iter_blobs(self) -> Iterator[StoredBlob]:
        for folder in sorted(self.root.iterdir()):
            if not folder.is_dir():
                continue
            for entry in folder.iterdir():
                if not _KEY_FORM.match(entry.name):
                    continue  # a write in progress (.incoming-…)
                with contextlib.suppress(FileNotFoundError):
                    yield StoredBlob(entry.name, _mtime(entry))

    def modified(self, key: str) -> datetime | None:
        try:
            return _mtime(self._path(key))
        except FileNotFoundError:
            return None


def _new_folders(targets: list[Path]) -> set[Path]:
    """Create the missing fan-out folders of ``targets`` (made with the store; one may have
    been removed since); returns the folders that got a new entry, whose entries must reach
    the disk too. One ``stat`` a blob."""
    grown: set[Path] = set()
    for target in targets:
        if target.parent.is_dir():
            continue
        with contextlib.suppress(FileExistsError):
            target.parent.mkdir()
            grown.add(target.parent.parent)
    return grown


def _settle_layout(root: Path) -> None:
    """Make the 256 fan-out folders, move every blob of the earlier layout (``ab/cd/key``)
    up into its folder (``ab/key``), then write ``LAYOUT_MARK``. Each step is a ``mkdir`` or
    a rename, so a process stopped half-way leaves every blob whole, and the next one to
    open the store goes on where it stopped. A store that cannot be written to (a backup on
    read-only media) is refused with what to do."""
    try:
        moved: list[Path] = []
        for name in _FAN_OUT:
            folder = root / name
            folder.mkdir(exist_ok=True)
            if _moved_up(folder):
                moved.append(folder)
        flush_all_to_disk([*moved, root])
        mark = root / LAYOUT_MARK
        mark.write_bytes(b"")
        flush_all_to_disk([mark, root])
    except OSError as error:
        if error.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
            raise PermissionError(
                f"The blob folder {root} is laid out as by an earlier Packyard and cannot be "
                f"converted here ({error.strerror}): copy it where it can be written to, or "
                "open it once with a Packyard that may write to it"
            ) from error
        raise _translated(error) from error


def _moved_up(folder: Path) -> bool:
    """Move the blobs of ``folder``'s second-level folders (the earlier layout) into
    ``folder`` and remove those folders; whether any was found."""
    found = False
    for inner in [entry for entry in folder.iterdir() if entry.is_dir()]:
        found = True
        for entry in inner.iterdir():
            if _KEY_FORM.match(entry.name):
                os.replace(entry, folder / entry.name)  # the same bytes: keys are digests
            else:
                entry.unlink(missing_ok=True)  # a write the earlier process left unfinished
        inner.rmdir()
    return found


def _written_beside(target: Path, data: bytes) -> Path:
    """``data`` in a new temporary file in ``target``'s folder (not yet flushed)."""
    fd, name = tempfile.mkstemp(dir=target.parent, prefix=".incoming-")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
    except OSError:
        Path(name).unlink(missing_ok=True)
        raise
    return Path(name)


def _flush_handle(handle: BinaryIO) -> None:
    handle.flush()
    os.fsync(handle.fileno())


def _mtime(path: Path) -> datetime:
    return datetime.fromtimestamp(path.stat().st_mtime, UTC)


def _translated(error: OSError) -> Exception:
    if error.errno in (errno.ENOSPC, errno.EDQUOT):
        return InsufficientStorage("The package store is out of space; ask an administrator")
    return error
