"""Packages of a registry, one method per use case for the REST API and the web UI alike:
list (newest first, cursor pages), the UI's release listing and statistics, one package
with every detail, delete, and copy into another registry.

Cursors are positions in ``packages.seq``, which only grows (SQLite AUTOINCREMENT, or a
PostgreSQL sequence), so a client following ``next`` links while others publish sees every
older package exactly once. A copy is a new row that shares the stored bytes: blobs are
content-addressed, so nothing is written to the blob store.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from packyard.core.errors import Conflict, InvalidRequest, NotFound
from packyard.core.events import EventType, changed_fields
from packyard.core.index import version_key
from packyard.core.models import (
    ArchiveMember,
    PackageFile,
    Principal,
    Registry,
    RegistryStats,
    RegistryType,
    Release,
)
from packyard.core.names import looks_like_id, normalize_project, normalize_version
from packyard.core.permissions import Disclosure, allowed
from packyard.core.scopes import Scope
from packyard.db import packages as queries
from packyard.db.registries import bump_serial
from packyard.db.search import refresh_project, refresh_projects
from packyard.services.attestations import AttestationSummary
from packyard.services.attestations import summaries_from_provenance as summaries
from packyard.services.downloads import DownloadCounter
from packyard.services.events import package_identity, record_package, record_packages
from packyard.services.registries import RegistryService

DEFAULT_PER_PAGE = 30
MAX_PER_PAGE = 100
PAGE_SIZE = 50
MAX_FILTER_LENGTH = 200
# Files deleted per transaction by ``delete_packages`` (a retention run): each commit
# costs an fsync and drops every cached page of the registry (its serial moves, and index
# reads re-render), so batches are large; one holds the write lock for about a second.
DELETE_BATCH = 5000
BATCH_PAUSE = 0.2  # seconds between two batches of a bulk delete


@dataclass(frozen=True, slots=True)
class PackageQuery:
    """One page request: at most ``per_page`` packages newer than ``before`` and older
    than ``after`` (both cursors), optionally only those of project ``name`` or of
    ``version``."""

    per_page: int = DEFAULT_PER_PAGE
    before: int | None = None
    after: int | None = None
    name: str | None = None
    version: str | None = None


@dataclass(frozen=True, slots=True)
class PackagePage:
    registry: Registry
    items: list[PackageFile]
    # Cursors for the neighbouring pages: ``after=next_cursor`` continues to older
    # packages, ``before=prev_cursor`` goes back to newer ones; None when there are none.
    next_cursor: int | None
    prev_cursor: int | None


@dataclass(frozen=True, slots=True)
class ReleasePage:
    releases: list[Release]
    next_cursor: int | None  # pass as ``before`` for the next (older) page


@dataclass(frozen=True, slots=True)
class PackageDetails:
    """Everything the REST answer and the package page show about one file."""

    registry: Registry
    package: PackageFile
    metadata: dict[str, Any]
    description: str | None
    members: list[ArchiveMember]
    siblings: list[Release]  # every file of the same project, newest version first
    # Its verified PEP 740 attestations (empty: published without any).
    attestations: list[AttestationSummary] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class CopyResult:
    details: PackageDetails
    created: bool  # False when the destination already had these bytes under this name


class PackageService:
    def __init__(
        self,
        *,
        sessions: sessionmaker[Session],
        registries: RegistryService,
        counter: DownloadCounter,
        now: Callable[[], datetime],
    ) -> None:
        self._sessions = sessions
        self._registries = registries
        self._counter = counter
        self._now = now

    @staticmethod
    def readable(principal: Principal, registries: list[Registry]) -> list[Registry]:
        """The registries ``principal`` may read packages of."""
        return [r for r in registries if allowed(principal, Scope.READ_PACKAGES, r)]

    def stats(self, registries: list[Registry]) -> dict[str, RegistryStats]:
        """Package count and last push of each registry."""
        if not registries:
            return {}
        with self._sessions() as session:
            return queries.stats(session, [r.id for r in registries])

    def releases(
        self,
        registry: Registry,
        *,
        name_filter: str = "",
        before: int | None = None,
        limit: int = PAGE_SIZE,
    ) -> ReleasePage:
        """The files of a registry the caller already reads, newest first, ``limit`` at a
        time; ``name_filter`` keeps those whose project name starts with it (compared as
        PEP 503 normalises names)."""
        with self._sessions() as session:
            found, cursor = queries.releases(
                session, registry.id, _normalized_filter(name_filter), before, limit
            )
        return ReleasePage(found, cursor)

    def list_packages(
        self,
        principal: Principal,
        organization: str,
        registry_slug: str,
        query: PackageQuery,
        disclosure: Disclosure = Disclosure.INSTALLER,
    ) -> PackagePage:
        """A page of the registry's packages, newest first (``read_packages``)."""
        registry = self._registries.registry_for(
            principal, organization, registry_slug, Scope.READ_PACKAGES, disclosure
        )
        page_query = queries.PageQuery(
            registry_id=registry.id,
            per_page=max(1, min(query.per_page, MAX_PER_PAGE)),
            before=query.before,
            after=query.after,
            project=None if not query.name else normalize_project(query.name),
            version=None if not query.version else _normal_version(query.version),
        )
        with self._sessions() as session:
            found, newer, older = queries.page(session, page_query)
        return PackagePage(
            registry,
            [self._counted(p.package) for p in found],
            next_cursor=found[-1].seq if older else None,
            prev_cursor=found[0].seq if newer else None,
        )

    def package(
        self,
        principal: Principal,
        organization: str,
        registry_slug: str,
        package_id: str,
        disclosure: Disclosure = Disclosure.INSTALLER,
    ) -> PackageDetails:
        """One package with every detail (``read_packages``); raises NotFound."""
        registry = self._registries.registry_for(
            principal, organization, registry_slug, Scope.READ_PACKAGES, disclosure
        )
        with self._sessions() as session:
            return self._details(session, registry, _found(session, registry, package_id))

    def delete_package(
        self,
        principal: Principal,
        organization: str,
        registry_slug: str,
        package_id: str,
        disclosure: Disclosure = Disclosure.INSTALLER,
    ) -> None:
        """Remove the package from the registry and its index at once (``delete_packages``).

        The stored bytes stay while any registry holds them; unreferenced ones are garbage
        collected later.
        """
        registry = self._registries.registry_for(
            principal, organization, registry_slug, Scope.DELETE_PACKAGES, disclosure
        )
        with self._sessions.begin() as session:
            _found(session, registry, package_id)
            if not self._delete(session, principal, registry, [package_id]):
                raise _no_package(registry, package_id)

    def delete_packages(
        self,
        principal: Principal,
        organization: str,
        registry_slug: str,
        package_ids: list[str],
        disclosure: Disclosure = Disclosure.INSTALLER,
    ) -> list[PackageFile]:
        """Remove many packages of one registry (``delete_packages``): the same steps as
        ``delete_package`` for each (index serial, search, audit events), one transaction
        per batch of DELETE_BATCH so that readers and writers never wait long. Returns the
        packages deleted; ids no longer there are skipped."""
        registry = self._registries.registry_for(
            principal, organization, registry_slug, Scope.DELETE_PACKAGES, disclosure
        )
        deleted: list[PackageFile] = []
        for start in range(0, len(package_ids), DELETE_BATCH):
            if start:
                # Readers of this process wait for the interpreter while a batch is
                # prepared; a pause lets them catch up, and re-render the pages of the
                # projects the last commit changed, before the next.
                time.sleep(BATCH_PAUSE)
            with self._sessions.begin() as session:
                batch = package_ids[start : start + DELETE_BATCH]
                deleted += self._delete(session, principal, registry, batch)
        return deleted

    def _delete(
        self, session: Session, principal: Principal, registry: Registry, package_ids: list[str]
    ) -> list[PackageFile]:
        doomed = queries.delete_packages(session, registry.id, package_ids)
        if not doomed:
            return doomed
        projects = {p.project for p in doomed}
        bump_serial(session, registry.id, projects)
        refresh_projects(session, registry.id, projects)
        record_packages(
            session, principal, EventType.PACKAGE_DELETED, registry, doomed, self._now()
        )
        return doomed

    def copy_package(
        self,
        principal: Principal,
        organization: str,
        registry_slug: str,
        package_id: str,
        destination_slug: str,
        disclosure: Disclosure = Disclosure.INSTALLER,
    ) -> CopyResult:
        """Copy a package into another registry of the organization, sharing its bytes.

        Needs ``read_packages`` on the source and ``write_packages`` on the destination.
        The same bytes already there under that file name answer the existing package;
        other bytes raise Conflict. A composite destination raises InvalidRequest.
        """
        source = self._registries.registry_for(
            principal, organization, registry_slug, Scope.READ_PACKAGES, disclosure
        )
        destination = self._registries.registry_for(
            principal, organization, destination_slug, Scope.WRITE_PACKAGES, disclosure
        )
        if destination.type is not RegistryType.SOURCE:
            raise InvalidRequest(
                f"{destination.slug!r} is a composite registry; copy into a source registry"
            )
        with self._sessions() as session:
            original = _found(session, source, package_id).package
            existing = self._existing_copy(session, destination, original)
            if existing is not None:
                return CopyResult(existing, created=False)
        try:
            with self._sessions.begin() as session:
                copy = queries.add_copy(session, source.id, original.id, destination, self._now())
                bump_serial(session, destination.id, [copy.package.project])
                refresh_project(session, destination.id, copy.package.project)
                details = self._details(session, destination, copy)
                record_package(
                    session,
                    principal,
                    EventType.PACKAGE_COPIED,
                    destination,
                    copy.package,
                    self._now(),
                    changed_fields({}, {**package_identity(copy.package), "from": source.slug}),
                )
        except IntegrityError:
            # A concurrent copy or publish of the same file name won the race.
            with self._sessions() as session:
                existing = self._existing_copy(session, destination, original)
                if existing is None:
                    raise
                return CopyResult(existing, created=False)
        return CopyResult(details, created=True)

    def _existing_copy(
        self, session: Session, destination: Registry, original: PackageFile
    ) -> PackageDetails | None:
        found = queries.package_by_filename(session, destination.id, original.filename)
        if found is None:
            return None
        if found.package.digests.sha256 != original.digests.sha256:
            raise Conflict(
                f"File already exists: {original.filename} is already in {destination.slug!r} "
                "with different contents"
            )
        return self._details(session, destination, found)

    def _details(
        self, session: Session, registry: Registry, found: queries.StoredPackage
    ) -> PackageDetails:
        siblings = queries.siblings(session, registry.id, found.package.project)
        return PackageDetails(
            registry=registry,
            package=self._counted(found.package),
            metadata=found.metadata,
            description=found.description,
            members=found.members,
            siblings=sorted(
                siblings, key=lambda s: (version_key(s.version), s.filename), reverse=True
            ),
            attestations=[] if found.provenance is None else summaries(found.provenance),
        )

    def _counted(self, package: PackageFile) -> PackageFile:
        pending = self._counter.pending(package.id)
        if not pending:
            return package
        return replace(package, downloads_count=package.downloads_count + pending)


def _found(session: Session, registry: Registry, package_id: str) -> queries.StoredPackage:
    found = (
        queries.package_by_id(session, registry.id, package_id)
        if looks_like_id(package_id)
        else None
    )
    if found is None:
        raise _no_package(registry, package_id)
    return found


def _no_package(registry: Registry, package_id: str) -> NotFound:
    return NotFound(f"No package {package_id!r} in registry {registry.slug!r}")


def _normal_version(version: str) -> str:
    # An invalid version matches nothing stored, which is the right answer.
    return normalize_version(version) or version


def _normalized_filter(text: str) -> str:
    cleaned = text.strip().lower()[:MAX_FILTER_LENGTH]
    for separator in ("_", "."):
        cleaned = cleaned.replace(separator, "-")
    return cleaned
