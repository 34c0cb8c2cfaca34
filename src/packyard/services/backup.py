"""``packyard backup`` and ``packyard restore`` for the embedded default (SQLite and a local
or S3 blob store), safe to take while the server runs.

A backup folder holds::

    packyard.sqlite3     a consistent snapshot (SQLite's online backup API)
    blobs/               every blob the snapshot references, in the local store's layout
    backup.json          when, how many files and bytes; written last

Order matters: the snapshot is taken first, then the blobs it references are copied. A
blob is never removed while referenced, and one published after the snapshot is simply not
needed by it, so the pair is consistent without stopping anything. Both halves are then
checked the way ``packyard fsck`` checks a live server: every recorded file has its blob,
of the recorded size and SHA256. ``restore`` checks the backup the same way before it
touches anything, copies the blobs into the configured store and then puts the database
in place in one rename. It needs the server stopped.

PostgreSQL and S3 have tools of their own for this (``docs/deployment.md``).
"""

from __future__ import annotations

import contextlib
import json
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy import create_engine

from packyard.blobs.base import BlobStore
from packyard.blobs.local import LocalBlobStore
from packyard.core.errors import InvalidRequest
from packyard.db.blob_locks import FileBlobLocks
from packyard.db.engine import make_session_factory
from packyard.db.snapshot import install_copy, integrity_problems, online_backup
from packyard.services.import_model import Phase, Progress
from packyard.services.integrity import FsckReport, IntegrityService

DATABASE_NAME = "packyard.sqlite3"
BLOBS_NAME = "blobs"
SUMMARY_NAME = "backup.json"


@dataclass
class BackupReport:
    files: int = 0
    blobs: int = 0
    bytes: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


class BackupService:
    """Backs up and restores the database file ``database`` with ``blobs``."""

    def __init__(self, database: Path, blobs: BlobStore, now: Callable[[], datetime]) -> None:
        self._database = database
        self._blobs = blobs
        self._now = now

    def backup(self, directory: Path, progress: Progress) -> BackupReport:
        """Snapshot the database into ``directory``, copy the blobs it references and check
        both. Raises InvalidRequest when there is no database to back up."""
        if not self._database.is_file():
            raise InvalidRequest(f"There is no database at {self._database} to back up")
        directory.mkdir(parents=True, exist_ok=True)
        snapshot = directory / DATABASE_NAME
        (directory / SUMMARY_NAME).unlink(missing_ok=True)  # not a backup until written
        online_backup(self._database, snapshot)
        store = LocalBlobStore(directory / BLOBS_NAME)
        with _integrity(snapshot, store, self._now) as integrity:
            keys = sorted(integrity.referenced_keys())
        progress.start(Phase.FETCH, len(keys), None)
        report = BackupReport()
        for key in keys:
            size = _copy_blob(self._blobs, store, key, directory, report.problems)
            report.bytes += size
            report.blobs += 1
            progress.advance(Phase.FETCH, 1, size)
        progress.finish(Phase.FETCH)
        _check(snapshot, store, self._now, report)
        if report.ok:
            summary = {
                "created_at": self._now().isoformat(),
                "files": report.files,
                "blobs": report.blobs,
                "bytes": report.bytes,
            }
            (directory / SUMMARY_NAME).write_text(json.dumps(summary, indent=1) + "\n")
        return report

    def restore(self, directory: Path, progress: Progress, *, replace: bool) -> BackupReport:
        """Check the backup in ``directory``, copy its blobs into the store and put its
        database in place. Raises InvalidRequest for an incomplete or damaged backup, and
        when a database exists and ``replace`` is False."""
        snapshot = directory / DATABASE_NAME
        if not (directory / SUMMARY_NAME).is_file() or not snapshot.is_file():
            raise InvalidRequest(
                f"{directory} is not a finished backup: it has no {SUMMARY_NAME} or {DATABASE_NAME}"
            )
        if self._database.exists() and not replace:
            raise InvalidRequest(
                f"A database exists at {self._database}: stop the server and pass --replace "
                "to overwrite it with the backup"
            )
        backup_store = LocalBlobStore(directory / BLOBS_NAME)
        report = BackupReport()
        _check(snapshot, backup_store, self._now, report)
        if not report.ok:
            return report
        blobs = list(backup_store.iter_blobs())
        progress.start(Phase.RECORD, len(blobs), None)
        for blob in blobs:
            size = _copy_blob(backup_store, self._blobs, blob.key, directory, report.problems)
            report.bytes += size
            report.blobs += 1
            progress.advance(Phase.RECORD, 1, size)
        progress.finish(Phase.RECORD)
        if report.ok:
            self._database.parent.mkdir(parents=True, exist_ok=True)
            install_copy(snapshot, self._database)
        return report


@contextlib.contextmanager
def _integrity(
    database: Path, blobs: BlobStore, now: Callable[[], datetime]
) -> Iterator[IntegrityService]:
    """``packyard fsck``'s service over a database file (opened read-only, so checking a
    backup never changes it) and a blob store."""
    engine = create_engine(f"sqlite:///file:{database}?mode=ro&uri=true")
    try:
        # Checking takes no lock; the lock folder is only made if something collects.
        locks = FileBlobLocks(database.parent / "locks")
        yield IntegrityService(make_session_factory(engine), blobs, now, locks)
    finally:
        engine.dispose()


def _check(
    database: Path, blobs: BlobStore, now: Callable[[], datetime], report: BackupReport
) -> None:
    """Add to ``report`` what is wrong with the database file and the blobs it needs."""
    report.problems += [f"database: {p}" for p in integrity_problems(database)]
    if report.problems:
        return
    with _integrity(database, blobs, now) as integrity:
        checked: FsckReport = integrity.fsck()
    report.files = checked.files_checked
    report.problems += [f"{p.location} ({p.blob_key}): {p.problem}" for p in checked.problems]


def _copy_blob(
    source: BlobStore, target: BlobStore, key: str, scratch: Path, problems: list[str]
) -> int:
    """Copy one blob (through a file in ``scratch``) unless the target has it at the right
    size; its size, copied or not. A blob the source lacks is a problem: a recorded file
    would have no bytes."""
    size = source.size(key)
    if size is None:
        problems.append(f"blob {key} is missing from the store being copied")
        return 0
    if target.size(key) == size:
        return size
    with tempfile.NamedTemporaryFile(dir=scratch, prefix=".blob-", delete=False) as handle:
        for chunk in source.read(key):
            handle.write(chunk)
    target.put_file(key, Path(handle.name))
    Path(handle.name).unlink(missing_ok=True)
    return size
