"""Checking and tidying what the database and the blob store hold together.

``fsck`` proves that every recorded file has its blob, of the recorded size and SHA256, and
reports blobs nothing references (orphans: harmless, left by a publish that crashed after
storing its blob, or by deletes). ``gc`` removes orphans older than a grace period.

Why ``gc`` is safe beside publishing: content addressing lets a publish reuse a blob
``gc`` has just found unreferenced (storing existing bytes only refreshes their
modification time). A publish holds its blobs' lock (``db.blob_locks``, shared) from
storing them until its row is committed; ``gc`` removes a blob only under that key's
exclusive lock, and only when it was last stored before ``now - grace``, checked under the
lock. A publish that stored the bytes before refreshed them (kept); one that comes later
waits for the lock, finds them gone and stores them anew. The grace period also spares
blobs written by processes that take no lock (the PyPI cache, imports of old versions).

Blobs are referenced by package rows (the file and, for wheels, its METADATA) and by the
cached PyPI answers of composite registries (files and metadata kept with
``pypi_files=cache``). A new kind of reference must be added to ``referenced_keys``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from packyard.blobs.base import BlobStore
from packyard.core.retention import DEFAULT_GC_GRACE
from packyard.db.blob_locks import BlobLocks
from packyard.db.tables import OrganizationRow, PackageRow, PypiProjectRow, RegistryRow


@dataclass(frozen=True, slots=True)
class FileProblem:
    """A recorded file whose blob is missing or wrong."""

    location: str  # organization/registry/filename
    blob_key: str
    problem: str


@dataclass
class FsckReport:
    files_checked: int = 0
    blobs_seen: int = 0
    problems: list[FileProblem] = field(default_factory=list)
    orphans: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """No recorded file is damaged; orphan blobs alone are not a problem."""
        return not self.problems


@dataclass
class GcReport:
    blobs_seen: int = 0
    removed: list[str] = field(default_factory=list)
    kept_in_grace: int = 0


class IntegrityService:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        blobs: BlobStore,
        now: Callable[[], datetime],
        locks: BlobLocks,
    ) -> None:
        self._sessions = sessions
        self._blobs = blobs
        self._now = now
        self._locks = locks

    def fsck(self, *, verify_hashes: bool = True) -> FsckReport:
        """Check every recorded file's blob (presence, size and, unless ``verify_hashes``
        is False, SHA256) and list orphan blobs. Returns the report; raises nothing for
        damaged data."""
        report = FsckReport()
        for location, row_sha256, row_size, metadata_sha256 in self._recorded_files():
            report.files_checked += 1
            problem = self._check_blob(row_sha256, row_size, verify_hashes)
            if problem:
                report.problems.append(FileProblem(location, row_sha256, problem))
            if metadata_sha256 is not None:
                problem = self._check_blob(metadata_sha256, None, verify_hashes)
                if problem:
                    report.problems.append(
                        FileProblem(f"{location}.metadata", metadata_sha256, problem)
                    )
        referenced = self.referenced_keys()
        for blob in self._blobs.iter_blobs():
            report.blobs_seen += 1
            if blob.key not in referenced:
                report.orphans.append(blob.key)
        report.orphans.sort()
        return report

    def gc(
        self,
        grace: timedelta = DEFAULT_GC_GRACE,
        *,
        dry_run: bool = False,
        on_removing: Callable[[str], None] | None = None,
    ) -> GcReport:
        """Remove blobs no row references that were last stored before ``now - grace``.
        Returns what was removed (or would be, with ``dry_run``). ``on_removing`` is called
        with each key decided on, under its lock, right before the removal (the race test
        publishes the same bytes there)."""
        report = GcReport()
        cutoff = self._now() - grace
        candidates: list[str] = []
        for blob in self._blobs.iter_blobs():
            report.blobs_seen += 1
            if blob.modified >= cutoff:
                report.kept_in_grace += 1
            else:
                candidates.append(blob.key)
        if not candidates:
            # The scheduler runs this at start-up: loading every key of a large
            # registry for nothing would cost seconds of CPU and tens of MiB that stay.
            return report
        referenced = self.referenced_keys()
        for key in candidates:
            if key not in referenced and self._remove(key, cutoff, dry_run, on_removing):
                report.removed.append(key)
        return report

    def _remove(
        self,
        key: str,
        cutoff: datetime,
        dry_run: bool,
        on_removing: Callable[[str], None] | None,
    ) -> bool:
        with self._locks.collecting(key) as held:
            if not held:
                return False  # being published right now: referenced soon
            # Checked again under the lock: a publish may have just stored it again.
            modified = self._blobs.modified(key)
            if modified is None or modified >= cutoff:
                return False
            if on_removing is not None:
                on_removing(key)
            if not dry_run:
                self._blobs.delete(key)
            return True

    def referenced_keys(self) -> set[str]:
        """Every blob key some row refers to."""
        keys: set[str] = set()
        with self._sessions() as session:
            for sha256, metadata_sha256 in session.execute(
                select(PackageRow.sha256, PackageRow.core_metadata_sha256)
            ):
                keys.add(sha256)
                if metadata_sha256:
                    keys.add(metadata_sha256)
            for files in session.scalars(select(PypiProjectRow.files)):
                for entry in files or []:
                    for name in ("sha256", "core_metadata_sha256"):
                        value = entry.get(name) if isinstance(entry, dict) else None
                        if isinstance(value, str):
                            keys.add(value)
        return keys

    def _recorded_files(self) -> Iterator[tuple[str, str, int, str | None]]:
        with self._sessions() as session:
            rows = session.execute(
                select(
                    OrganizationRow.slug,
                    RegistryRow.slug,
                    PackageRow.filename,
                    PackageRow.sha256,
                    PackageRow.size,
                    PackageRow.core_metadata_sha256,
                )
                .join(RegistryRow, PackageRow.registry_id == RegistryRow.id)
                .join(OrganizationRow, RegistryRow.organization_id == OrganizationRow.id)
                .order_by(PackageRow.seq)
            ).all()
        for org, registry, filename, sha256, size, metadata_sha256 in rows:
            yield f"{org}/{registry}/{filename}", sha256, size, metadata_sha256

    def _check_blob(self, key: str, expected_size: int | None, verify_hash: bool) -> str | None:
        size = self._blobs.size(key)
        if size is None:
            return "blob is missing"
        if expected_size is not None and size != expected_size:
            return f"blob is {size} bytes, the record says {expected_size}"
        if verify_hash:
            digest = hashlib.sha256()
            for chunk in self._blobs.read(key):
                digest.update(chunk)
            if digest.hexdigest() != key:
                return f"blob's sha256 is {digest.hexdigest()}"
        return None
