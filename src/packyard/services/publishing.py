"""Publishing a distribution file into a source registry.

The pipeline, each step a function of its own::

    authorize -> (bytes staged by the caller) -> inspect -> reject duplicates
              -> store blobs -> record (one transaction: row + registry serial)

A failure before ``record`` leaves no row and no index change; a crash after the blobs are
stored leaves at most an unreferenced blob, which is harmless (content-addressed) and
collected later. Publishing is idempotent: the same bytes under the same name answer the
existing package.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from packyard.blobs.base import BlobStore
from packyard.core.errors import Conflict, InvalidRequest
from packyard.core.models import PackageFile, Principal, Registry, RegistryType
from packyard.core.permissions import Action
from packyard.db.models import PackageRow, RegistryRow
from packyard.dists.filenames import canonical_filename
from packyard.dists.inspection import Inspection, inspect_distribution
from packyard.dists.limits import DEFAULT_LIMITS, ArchiveLimits
from packyard.dists.metadata import CoreMetadata
from packyard.services.composites import source_upstream_slugs
from packyard.services.registries import RegistryService
from packyard.services.rows import package_from_row
from packyard.services.staging import StagedFile, StagingArea


@dataclass(frozen=True, slots=True)
class PublishResult:
    package: PackageFile
    created: bool  # False when the same bytes were already there


class PublishService:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        registries: RegistryService,
        blobs: BlobStore,
        staging: StagingArea,
        now: Callable[[], datetime],
        limits: ArchiveLimits = DEFAULT_LIMITS,
    ) -> None:
        self._sessions = sessions
        self._registries = registries
        self._blobs = blobs
        self.staging = staging
        self._now = now
        self._limits = limits

    def authorize(self, principal: Principal, organization: str, registry: str) -> Registry:
        """The registry to publish into, checked before any byte of the body is read.

        Raises Unauthenticated, PermissionDenied or NotFound, and InvalidRequest for a
        registry that does not take uploads.
        """
        target = self._registries.registry_for(
            principal, organization, registry, Action.WRITE_PACKAGES
        )
        if target.type is not RegistryType.SOURCE:
            sources = ", ".join(source_upstream_slugs(self._sessions, target.id)) or "none yet"
            raise InvalidRequest(
                f"{target.slug!r} is a composite registry; publish to one of its source "
                f"registries: {sources}"
            )
        return target

    def publish(
        self,
        registry: Registry,
        staged: StagedFile,
        *,
        verify: Callable[[CoreMetadata], None] | None = None,
        attestations: str | None = None,
    ) -> PublishResult:
        """Inspect, store and record ``staged`` in ``registry``; the staged file is consumed.

        ``verify`` is called with the file's metadata before anything is stored (the upload
        API compares the form's claims with it); ``attestations`` (PEP 740 JSON) is kept
        with a newly recorded file.

        Raises InvalidDistribution for a bad file, Conflict when the name is taken by other
        bytes, and whatever ``verify`` raises.
        """
        try:
            inspection = inspect_distribution(staged.path, staged.filename, self._limits)
            if verify is not None:
                verify(inspection.metadata)
            existing = self._existing(registry, staged, inspection)
            if existing is not None:
                return PublishResult(existing, created=False)
            self._store_blobs(staged, inspection)
            return self._record(registry, staged, inspection, attestations)
        finally:
            self.staging.discard(staged)

    def _existing(
        self, registry: Registry, staged: StagedFile, inspection: Inspection | None = None
    ) -> PackageFile | None:
        """The package already stored under this file name, or under one that differs only
        by normalisation (``Foo_Bar-1.0.tar.gz`` is ``foo_bar-1.0.tar.gz``)."""
        with self._sessions() as session:
            row = session.scalar(
                select(PackageRow).where(
                    PackageRow.registry_id == registry.id, PackageRow.filename == staged.filename
                )
            )
            if row is None and inspection is not None:
                row = _same_distribution(session, registry, staged, inspection)
            return None if row is None else _same_bytes_or_conflict(row, staged)

    def _store_blobs(self, staged: StagedFile, inspection: Inspection) -> None:
        if inspection.wheel_metadata is not None:
            key = hashlib.sha256(inspection.wheel_metadata).hexdigest()
            self._blobs.put_bytes(key, inspection.wheel_metadata)
        self._blobs.put_file(staged.digests.sha256, staged.path)

    def _record(
        self,
        registry: Registry,
        staged: StagedFile,
        inspection: Inspection,
        attestations: str | None = None,
    ) -> PublishResult:
        row = _package_row(registry, staged, inspection, self._now())
        row.attestations = attestations
        try:
            with self._sessions.begin() as session:
                session.add(row)
                session.execute(
                    update(RegistryRow)
                    .where(RegistryRow.id == registry.id)
                    .values(serial=RegistryRow.serial + 1)
                )
        except IntegrityError:
            # A concurrent publish of the same file name won the race.
            existing = self._existing(registry, staged)
            if existing is None:
                raise
            return PublishResult(existing, created=False)
        return PublishResult(package_from_row(row), created=True)


def _same_distribution(
    session: Session, registry: Registry, staged: StagedFile, inspection: Inspection
) -> PackageRow | None:
    wanted = canonical_filename(staged.filename)
    rows = session.scalars(
        select(PackageRow).where(
            PackageRow.registry_id == registry.id,
            PackageRow.project == inspection.metadata.project,
            PackageRow.version == inspection.metadata.version,
        )
    )
    return next((row for row in rows if canonical_filename(row.filename) == wanted), None)


def _same_bytes_or_conflict(row: PackageRow, staged: StagedFile) -> PackageFile:
    if row.sha256 != staged.digests.sha256:
        raise Conflict(
            f"File already exists: {staged.filename} is already in this registry with "
            "different contents. Publish a new version instead of replacing a file."
        )
    return package_from_row(row)


def _package_row(
    registry: Registry, staged: StagedFile, inspection: Inspection, now: datetime
) -> PackageRow:
    metadata = inspection.metadata
    core_metadata_sha256 = (
        hashlib.sha256(inspection.wheel_metadata).hexdigest()
        if inspection.wheel_metadata is not None
        else None
    )
    digests = staged.digests
    return PackageRow(
        id=str(uuid.uuid4()),
        registry_id=registry.id,
        project=metadata.project,
        name=metadata.name,
        version=metadata.version,
        filename=staged.filename,
        filetype=inspection.filename.filetype.value,
        python_version=inspection.filename.python_version,
        size=staged.size,
        md5=digests.md5,
        sha1=digests.sha1,
        sha256=digests.sha256,
        sha512=digests.sha512,
        blake2b_256=digests.blake2b_256,
        requires_python=metadata.requires_python,
        core_metadata_sha256=core_metadata_sha256,
        metadata_json=metadata.as_dict(),
        description=metadata.description,
        members_json=[[m.path, m.size] for m in inspection.members],
        downloads_count=0,
        created_at=now,
    )
