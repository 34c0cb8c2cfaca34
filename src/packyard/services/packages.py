"""Packages of a registry through the REST API: list (newest first, cursor pages), get with
every detail, delete, and copy into another registry.

Cursors are positions in ``packages.seq``, which only grows (SQLite AUTOINCREMENT, or a
PostgreSQL sequence), so a client following ``next`` links while others publish sees every
older package exactly once. A copy is a new row that shares the stored bytes: blobs are
content-addressed, so nothing is written to the blob store.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import Select, delete, exists, false, inspect, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from packyard.core.errors import Conflict, InvalidRequest, NotFound
from packyard.core.models import ArchiveMember, PackageFile, Principal, Registry, RegistryType
from packyard.core.names import looks_like_id, normalize_project, normalize_version
from packyard.core.permissions import Disclosure
from packyard.core.scopes import Scope
from packyard.db.models import PackageRow, RegistryRow
from packyard.services.downloads import DownloadCounter
from packyard.services.registries import RegistryService
from packyard.services.rows import package_from_row

DEFAULT_PER_PAGE = 30
MAX_PER_PAGE = 100


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
class PackageDetails:
    """Everything the package details page shows about one file."""

    registry: Registry
    package: PackageFile
    metadata: dict[str, Any]
    members: list[ArchiveMember]


@dataclass(frozen=True, slots=True)
class CopyResult:
    details: PackageDetails
    created: bool  # False when the destination already had these bytes under this name


class PackageService:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        registries: RegistryService,
        counter: DownloadCounter,
        now: Callable[[], datetime],
    ) -> None:
        self._sessions = sessions
        self._registries = registries
        self._counter = counter
        self._now = now

    def list_packages(
        self, principal: Principal, organization: str, registry_slug: str, query: PackageQuery
    ) -> PackagePage:
        """A page of the registry's packages, newest first (``read_packages``)."""
        registry = self._registries.registry_for(
            principal, organization, registry_slug, Scope.READ_PACKAGES, Disclosure.API
        )
        per_page = max(1, min(query.per_page, MAX_PER_PAGE))
        filtered = _filtered(select(PackageRow), registry, query)
        # Walking towards newer packages (only ``before``) reads ascending, then flips.
        towards_newer = query.before is not None and query.after is None
        order = PackageRow.seq.asc() if towards_newer else PackageRow.seq.desc()
        with self._sessions() as session:
            rows = list(
                session.scalars(_bounded(filtered, query).order_by(order).limit(per_page + 1))
            )
            more = len(rows) > per_page
            rows = rows[:per_page]
            if towards_newer:
                rows.reverse()
            items = [self._counted(package_from_row(row)) for row in rows]
            seqs = [row.seq for row in rows]
            newer_exists = bool(seqs) and (
                more if towards_newer else _any_beyond(session, registry, query, seqs[0], True)
            )
            older_exists = bool(seqs) and (
                _any_beyond(session, registry, query, seqs[-1], False) if towards_newer else more
            )
        return PackagePage(
            registry,
            items,
            next_cursor=seqs[-1] if older_exists else None,
            prev_cursor=seqs[0] if newer_exists else None,
        )

    def package(
        self, principal: Principal, organization: str, registry_slug: str, package_id: str
    ) -> PackageDetails:
        """One package with every detail (``read_packages``); raises NotFound."""
        registry = self._registries.registry_for(
            principal, organization, registry_slug, Scope.READ_PACKAGES, Disclosure.API
        )
        with self._sessions() as session:
            return self._details(registry, _package_row(session, registry, package_id))

    def delete_package(
        self, principal: Principal, organization: str, registry_slug: str, package_id: str
    ) -> None:
        """Remove the package from the registry and its index at once (``delete_packages``).

        The stored bytes stay while any registry holds them; unreferenced ones are garbage
        collected later.
        """
        registry = self._registries.registry_for(
            principal, organization, registry_slug, Scope.DELETE_PACKAGES, Disclosure.API
        )
        with self._sessions.begin() as session:
            row = _package_row(session, registry, package_id)
            session.execute(delete(PackageRow).where(PackageRow.seq == row.seq))
            _bump_serial(session, registry)

    def copy_package(
        self,
        principal: Principal,
        organization: str,
        registry_slug: str,
        package_id: str,
        destination_slug: str,
    ) -> CopyResult:
        """Copy a package into another registry of the organization, sharing its bytes.

        Needs ``read_packages`` on the source and ``write_packages`` on the destination.
        The same bytes already there under that file name answer the existing package;
        other bytes raise Conflict. A composite destination raises InvalidRequest.
        """
        source = self._registries.registry_for(
            principal, organization, registry_slug, Scope.READ_PACKAGES, Disclosure.API
        )
        destination = self._registries.registry_for(
            principal, organization, destination_slug, Scope.WRITE_PACKAGES, Disclosure.API
        )
        if destination.type is not RegistryType.SOURCE:
            raise InvalidRequest(
                f"{destination.slug!r} is a composite registry; copy into a source registry"
            )
        with self._sessions() as session:
            original = _package_row(session, source, package_id)
            existing = _existing_copy(session, destination, original)
            if existing is not None:
                return CopyResult(self._details(destination, existing), created=False)
            copy = _copied_row(original, destination, self._now())
        try:
            with self._sessions.begin() as session:
                session.add(copy)
                _bump_serial(session, destination)
        except IntegrityError:
            # A concurrent copy or publish of the same file name won the race.
            with self._sessions() as session:
                existing = _existing_copy(session, destination, copy)
                if existing is None:
                    raise
                return CopyResult(self._details(destination, existing), created=False)
        return CopyResult(self._details(destination, copy), created=True)

    def _details(self, registry: Registry, row: PackageRow) -> PackageDetails:
        members = [ArchiveMember(str(path), int(size)) for path, size in row.members_json]
        package = self._counted(package_from_row(row))
        return PackageDetails(registry, package, dict(row.metadata_json), members)

    def _counted(self, package: PackageFile) -> PackageFile:
        pending = self._counter.pending(package.id)
        if not pending:
            return package
        return replace(package, downloads_count=package.downloads_count + pending)


def _filtered(
    statement: Select[PackageRow], registry: Registry, query: PackageQuery
) -> Select[PackageRow]:
    statement = statement.where(PackageRow.registry_id == registry.id)
    if "\x00" in (query.name or "") + (query.version or ""):
        return statement.where(false())  # no stored name or version holds NUL
    if query.name:
        statement = statement.where(PackageRow.project == normalize_project(query.name))
    if query.version:
        statement = statement.where(PackageRow.version == _normal_version(query.version))
    return statement


def _bounded(statement: Select[PackageRow], query: PackageQuery) -> Select[PackageRow]:
    if query.after is not None:
        statement = statement.where(PackageRow.seq < query.after)
    if query.before is not None:
        statement = statement.where(PackageRow.seq > query.before)
    return statement


def _any_beyond(
    session: Session, registry: Registry, query: PackageQuery, seq: int, newer: bool
) -> bool:
    """Whether any package matching the filters lies past ``seq`` (newer or older)."""
    condition = PackageRow.seq > seq if newer else PackageRow.seq < seq
    inner = _filtered(select(PackageRow), registry, query).where(condition)
    return bool(session.scalar(select(exists(inner))))


def _normal_version(version: str) -> str:
    # An invalid version matches nothing stored, which is the right answer.
    return normalize_version(version) or version


def _package_row(session: Session, registry: Registry, package_id: str) -> PackageRow:
    row = (
        None
        if not looks_like_id(package_id)
        else session.scalar(
            select(PackageRow).where(
                PackageRow.id == package_id, PackageRow.registry_id == registry.id
            )
        )
    )
    if row is None:
        raise NotFound(f"No package {package_id!r} in registry {registry.slug!r}")
    return row


def _existing_copy(
    session: Session, destination: Registry, original: PackageRow
) -> PackageRow | None:
    row = session.scalar(
        select(PackageRow).where(
            PackageRow.registry_id == destination.id, PackageRow.filename == original.filename
        )
    )
    if row is not None and row.sha256 != original.sha256:
        raise Conflict(
            f"File already exists: {original.filename} is already in {destination.slug!r} with "
            "different contents"
        )
    return row


# Columns a copy takes over unchanged; identity, place, time and counts are its own.
_OWN_COLUMNS = frozenset({"seq", "id", "registry_id", "created_at", "downloads_count"})


def _copied_row(original: PackageRow, destination: Registry, now: datetime) -> PackageRow:
    shared = {
        attribute.key: getattr(original, attribute.key)
        for attribute in inspect(PackageRow).column_attrs
        if attribute.key not in _OWN_COLUMNS
    }
    return PackageRow(
        **shared,
        id=str(uuid.uuid4()),
        registry_id=destination.id,
        created_at=now,
        downloads_count=0,
    )


def _bump_serial(session: Session, registry: Registry) -> None:
    session.execute(
        update(RegistryRow)
        .where(RegistryRow.id == registry.id)
        .values(serial=RegistryRow.serial + 1)
    )
