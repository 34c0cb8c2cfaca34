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
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from packyard.blobs.base import BlobStore
from packyard.core.durability import Pending
from packyard.core.errors import Conflict, InvalidRequest, QuotaExceeded
from packyard.core.events import EventType
from packyard.core.models import PackageFile, Principal, Publisher, Registry, RegistryType
from packyard.core.permissions import OPERATOR, Disclosure
from packyard.core.publishers import publisher_json
from packyard.core.scopes import Scope
from packyard.db import packages as queries
from packyard.db.blob_locks import BlobLocks
from packyard.db.packages import package_from_values
from packyard.db.registries import bump_serial
from packyard.db.search import replace_project_row
from packyard.dists.filenames import canonical_filename
from packyard.dists.inspection import Inspection, inspect_distribution
from packyard.dists.limits import DEFAULT_LIMITS, ArchiveLimits
from packyard.dists.metadata import CoreMetadata
from packyard.services import metrics
from packyard.services.attestations import (
    VerifiedProvenance,
    parse_attestations,
    verify_attestations,
)
from packyard.services.composites import source_upstream_slugs
from packyard.services.events import record_package
from packyard.services.lifecycle import refuse_closed_project
from packyard.services.registries import RegistryService
from packyard.services.staging import StagedFile, StagingArea


@dataclass(frozen=True, slots=True)
class Provenance:
    """What an imported file keeps from the registry it came from, instead of what a
    publish would give it: its original upload time and yank state, the requires-python the
    source index stated (None: the file's own), and where it came from (no credentials)."""

    uploaded_at: datetime
    source: str
    yanked_reason: str | None = None  # "" is yanked without a reason
    requires_python: str | None = None


@dataclass(frozen=True, slots=True)
class PublishResult:
    package: PackageFile
    created: bool  # False when the same bytes were already there


class PublishService:
    def __init__(
        self,
        *,
        sessions: sessionmaker[Session],
        registries: RegistryService,
        blobs: BlobStore,
        staging: StagingArea,
        now: Callable[[], datetime],
        blob_locks: BlobLocks,
        limits: ArchiveLimits = DEFAULT_LIMITS,
    ) -> None:
        self._sessions = sessions
        self._blob_locks = blob_locks
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
        return self.uploadable(
            self._registries.registry_for(
                principal, organization, registry, Scope.WRITE_PACKAGES, Disclosure.INSTALLER
            )
        )

    def uploadable(self, target: Registry) -> Registry:
        """``target``, which the caller may write to (already checked), if it takes
        uploads; raises InvalidRequest for a composite registry, naming its sources."""
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
        provenance: Provenance | None = None,
        by: Principal = OPERATOR,
    ) -> PublishResult:
        """Inspect, store and record ``staged`` in ``registry``; the staged file is consumed.

        ``verify`` is called with the file's metadata before anything is stored (the upload
        API compares the form's claims with it); ``attestations`` (PEP 740 JSON) are
        verified (``services.attestations``) and kept with a newly recorded file, with the
        provenance object they make; ``provenance`` is given by an import; ``by`` is who
        publishes (already authorized), its publisher (trusted publishing) recorded with a
        new file, and it must be who signed the attestations.

        Raises InvalidDistribution for a bad file, Conflict when the name is taken by other
        bytes, InvalidRequest for attestations that do not verify, and whatever ``verify``
        raises.
        """
        try:
            # The bytes reach the disk while they are inspected and looked up.
            self._blobs.prepare(staged.digests.sha256, staged.path)
            inspection = inspect_distribution(staged.path, staged.filename, self._limits)
            if verify is not None:
                verify(inspection.metadata)
            verified = _verified(attestations, staged, by.publisher)
            existing = self._existing(registry, staged, inspection)
            if existing is not None:
                result = PublishResult(existing, created=False)
            else:
                if registry.quota_bytes is not None:
                    with self._sessions() as session:
                        _check_quota(session, registry, staged.size, adding=True)
                blobs, metadata = _blobs_of(staged, inspection)
                # Held until the row is committed: the collector cannot remove a blob
                # this publish is about to reference (db.blob_locks).
                with self._blob_locks.publishing([*blobs, *metadata]):
                    # The blobs are stored (the disk or the object store waited for) while
                    # the row's statements run; the commit waits for them (``_record``).
                    storing = self._blobs.start_put_all(blobs, metadata)
                    try:
                        result = self._record(
                            registry, staged, inspection, verified, provenance, by, storing
                        )
                    finally:
                        storing.settle()  # the staged file is not discarded under it
            metrics.record_publish(staged.size, created=result.created)
            return result
        finally:
            self.staging.discard(staged)

    def _existing(
        self, registry: Registry, staged: StagedFile, inspection: Inspection | None = None
    ) -> PackageFile | None:
        """The package already stored under this file name, or under one that differs only
        by normalisation (``Foo_Bar-1.0.tar.gz`` is ``foo_bar-1.0.tar.gz``).

        One query finds the candidates (the name itself and the release's other files)
        reading two columns; the whole row is loaded only for a match, which is rare."""
        metadata = None if inspection is None else inspection.metadata
        with self._sessions() as session:
            # Without an inspection only the name is looked up.
            candidates = queries.duplicate_candidates(
                session,
                registry.id,
                staged.filename,
                None if metadata is None else metadata.project,
                None if metadata is None else metadata.version,
            )
            seq = _matching_seq(candidates, staged.filename, check_canonical=inspection is not None)
            if seq is None:
                return None
            return _same_bytes_or_conflict(queries.package_by_seq(session, seq), staged)

    def _record(
        self,
        registry: Registry,
        staged: StagedFile,
        inspection: Inspection,
        verified: tuple[str, VerifiedProvenance] | None = None,
        provenance: Provenance | None = None,
        by: Principal = OPERATOR,
        storing: Pending | None = None,
    ) -> PublishResult:
        """Record the new file in one transaction, committed only once ``storing`` (the
        blobs it references being stored) is done: a row never names a blob that a power
        cut could take away."""
        attestations = None if verified is None else verified[0]
        values = _package_values(registry, staged, inspection, self._now(), attestations)
        values["provenance"] = None if verified is None else verified[1].provenance_json
        values["published_by"] = publisher_json(by.publisher)
        if provenance is not None:
            values["created_at"] = provenance.uploaded_at
            values["imported_from"] = provenance.source
            values["yanked_reason"] = provenance.yanked_reason
            if provenance.requires_python is not None:
                values["requires_python"] = provenance.requires_python
        try:
            with self._sessions.begin() as session:
                refuse_closed_project(session, registry, values["project"])
                queries.insert_package(session, values)
                if registry.quota_bytes is not None:  # again: others may have published
                    _check_quota(session, registry, staged.size, adding=False)
                bump_serial(session, registry.id, [values["project"]])
                replace_project_row(
                    session,
                    registry.id,
                    values["project"],
                    values["name"],
                    values["version"],
                    values["metadata_json"],
                )
                package = package_from_values(values)
                record_package(
                    session, by, EventType.PACKAGE_CREATED, registry, package, self._now()
                )
                if storing is not None:
                    storing.wait()
        except IntegrityError:
            # A concurrent publish of the same file name won the race.
            existing = self._existing(registry, staged)
            if existing is None:
                raise
            return PublishResult(existing, created=False)
        return PublishResult(package, created=True)


def _verified(
    attestations: str | None, staged: StagedFile, publisher: Publisher | None
) -> tuple[str, VerifiedProvenance] | None:
    """The attestations as sent and what their verification made, None without any."""
    if attestations is None:
        return None
    parsed = parse_attestations(attestations)
    verified = verify_attestations(parsed, staged.filename, staged.digests.sha256, publisher)
    return None if verified is None else (attestations, verified)


def _matching_seq(
    candidates: Sequence[tuple[int, str]], filename: str, *, check_canonical: bool
) -> int | None:
    """The seq of the candidate stored under ``filename`` itself, else (when
    ``check_canonical``) of one whose name normalises to the same distribution."""
    for seq, stored in candidates:
        if stored == filename:
            return seq
    if not check_canonical or not candidates:
        return None
    wanted = canonical_filename(filename)
    return next((seq for seq, stored in candidates if canonical_filename(stored) == wanted), None)


def _same_bytes_or_conflict(package: PackageFile, staged: StagedFile) -> PackageFile:
    if package.digests.sha256 != staged.digests.sha256:
        raise Conflict(
            f"File already exists: {staged.filename} is already in this registry with "
            "different contents. Publish a new version instead of replacing a file."
        )
    return package


def _package_values(
    registry: Registry,
    staged: StagedFile,
    inspection: Inspection,
    now: datetime,
    attestations: str | None,
) -> dict[str, Any]:
    """The new ``packages`` row, as column values."""
    metadata = inspection.metadata
    core_metadata_sha256 = (
        hashlib.sha256(inspection.wheel_metadata).hexdigest()
        if inspection.wheel_metadata is not None
        else None
    )
    digests = staged.digests
    return {
        "id": str(uuid.uuid4()),
        "registry_id": registry.id,
        "project": metadata.project,
        "name": metadata.name,
        "version": metadata.version,
        "filename": staged.filename,
        "filetype": inspection.filename.filetype.value,
        "python_version": inspection.filename.python_version,
        "size": staged.size,
        "md5": digests.md5,
        "sha1": digests.sha1,
        "sha256": digests.sha256,
        "sha512": digests.sha512,
        "blake2b_256": digests.blake2b_256,
        "requires_python": metadata.requires_python,
        "core_metadata_sha256": core_metadata_sha256,
        "metadata_json": metadata.as_dict(),
        "description": metadata.description,
        "members_json": [[m.path, m.size] for m in inspection.members],
        "yanked_reason": None,
        "attestations": attestations,
        "imported_from": None,
        "published_by": None,
        "downloads_count": 0,
        "created_at": now,
    }


def _check_quota(session: Session, registry: Registry, size: int, *, adding: bool) -> None:
    """Raise QuotaExceeded when a file of ``size`` bytes takes ``registry`` past its quota
    (``adding``: the file is not counted yet)."""
    quota = registry.quota_bytes
    if quota is None:
        return
    usage = queries.registry_usage(session, registry.id)
    before = usage if adding else usage - size
    if before + size > quota:
        raise QuotaExceeded(
            f"Registry {registry.slug!r} would exceed its storage quota of {quota} bytes: "
            f"its files use {before} bytes and this file is {size} bytes. Delete files "
            f"(or set a retention policy), or ask an administrator for a larger quota."
        )


def _blobs_of(
    staged: StagedFile, inspection: Inspection
) -> tuple[dict[str, Path], dict[str, bytes]]:
    """The blobs a publish stores, by key: the file, and a wheel's METADATA (stored
    together: one wait on the disk for both)."""
    metadata: dict[str, bytes] = {}
    if inspection.wheel_metadata is not None:
        key = hashlib.sha256(inspection.wheel_metadata).hexdigest()
        metadata[key] = inspection.wheel_metadata
    return {staged.digests.sha256: staged.path}, metadata
