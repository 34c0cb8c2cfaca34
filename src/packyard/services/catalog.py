"""What the web UI shows of registries and packages: summaries, release listings, package
details. Plain data out; permission checks go through ``core.permissions``.

Listings use keyset pagination on ``packages.seq`` (the push order, indexed together with
``registry_id``), so page N costs the same as page 1 however many packages a registry has.
(The REST API's ``services/packages.py`` answers similar questions for its own shapes; the
two can share queries once both exist.)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from packaging.version import InvalidVersion, Version
from sqlalchemy import ColumnElement, delete, func, select, update
from sqlalchemy.orm import Session, sessionmaker

from packyard.core.errors import NotFound
from packyard.core.models import ArchiveMember, PackageFile, Principal, Registry
from packyard.core.permissions import Disclosure, allowed, require
from packyard.core.scopes import Scope
from packyard.db.models import PackageRow, RegistryRow
from packyard.services.rows import package_from_row

PAGE_SIZE = 50
MAX_FILTER_LENGTH = 200
MAX_PROJECTS_IN_FILTER = 200


@dataclass(frozen=True, slots=True)
class RegistryStats:
    packages: int
    last_pushed_at: datetime | None


@dataclass(frozen=True, slots=True)
class Release:
    """One row of the Releases tab: a file with what a person scans for."""

    id: str
    name: str
    version: str
    filename: str
    filetype: str
    size: int
    created_at: datetime


@dataclass(frozen=True, slots=True)
class ReleasePage:
    releases: list[Release]
    next_cursor: int | None  # pass as ``before`` for the next (older) page


@dataclass(frozen=True, slots=True)
class PackageDetail:
    """Everything the package page shows about one file."""

    package: PackageFile
    metadata: dict[str, Any]
    description: str | None
    members: list[ArchiveMember]
    siblings: list[Release]  # every file of the same project in the registry


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _version_key(version: str) -> tuple[int, Version | str]:
    try:
        return (1, Version(version))
    except InvalidVersion:
        return (0, version)


class CatalogService:
    def __init__(self, sessions: sessionmaker[Session], now: Callable[[], datetime]) -> None:
        self._sessions = sessions
        self._now = now

    @staticmethod
    def readable(principal: Principal, registries: list[Registry]) -> list[Registry]:
        """The registries ``principal`` may read packages of."""
        return [r for r in registries if allowed(principal, Scope.READ_PACKAGES, r)]

    def stats(self, registries: list[Registry]) -> dict[str, RegistryStats]:
        """Package count and last push of each registry: one grouped query over the
        (registry_id, seq) index alone, then the push times of the newest rows."""
        if not registries:
            return {}
        with self._sessions() as session:
            counted = session.execute(
                select(PackageRow.registry_id, func.count(), func.max(PackageRow.seq))
                .where(PackageRow.registry_id.in_([r.id for r in registries]))
                .group_by(PackageRow.registry_id)
            ).all()
            newest = dict(
                session.execute(
                    select(PackageRow.seq, PackageRow.created_at).where(
                        PackageRow.seq.in_([seq for _, _, seq in counted])
                    )
                ).all()
            )
        found = {
            registry_id: RegistryStats(count, newest.get(seq))
            for registry_id, count, seq in counted
        }
        return {r.id: found.get(r.id, RegistryStats(0, None)) for r in registries}

    def releases(
        self,
        registry: Registry,
        *,
        name_filter: str = "",
        before: int | None = None,
        limit: int = PAGE_SIZE,
    ) -> ReleasePage:
        """The registry's files, newest first, ``limit`` at a time; ``name_filter`` keeps
        those whose project name starts with it (compared as PEP 503 normalises names)."""
        query = select(
            PackageRow.seq,
            PackageRow.id,
            PackageRow.name,
            PackageRow.version,
            PackageRow.filename,
            PackageRow.filetype,
            PackageRow.size,
            PackageRow.created_at,
        ).where(PackageRow.registry_id == registry.id)
        if before is not None:
            query = query.where(PackageRow.seq < before)
        query = query.order_by(PackageRow.seq.desc()).limit(limit + 1)
        needle = _normalized_filter(name_filter)
        with self._sessions() as session:
            if needle:
                matching = self._name_clause(session, registry, needle)
                if matching is None:
                    return ReleasePage([], None)
                query = query.where(matching)
            rows = session.execute(query).all()
        more = len(rows) > limit
        rows = rows[:limit]
        releases = [
            Release(r.id, r.name, r.version, r.filename, r.filetype, r.size, r.created_at)
            for r in rows
        ]
        return ReleasePage(releases, rows[-1].seq if more and rows else None)

    @staticmethod
    def _name_clause(
        session: Session, registry: Registry, needle: str
    ) -> ColumnElement[bool] | None:
        """The condition for projects whose name starts with ``needle``; None when none do.

        The names come from a range of the (registry_id, project) index; when they are few,
        the listing reads just their rows, and when many match, walking the push order
        meets a page of them soon.
        """
        prefix = PackageRow.project.like(f"{_escape_like(needle)}%", escape="\\")
        clauses = [PackageRow.registry_id == registry.id, prefix]
        if session.get_bind().dialect.name == "sqlite":
            # SQLite's LIKE ignores case and so cannot use the index; a range can. (On
            # PostgreSQL a range depends on the collation; LIKE alone is right there.)
            clauses += [PackageRow.project >= needle, PackageRow.project < needle + "\uffff"]
        projects = session.scalars(
            select(PackageRow.project).where(*clauses).distinct().limit(MAX_PROJECTS_IN_FILTER + 1)
        ).all()
        if not projects:
            return None
        if len(projects) <= MAX_PROJECTS_IN_FILTER:
            return PackageRow.project.in_(projects)
        return prefix

    def package(self, registry: Registry, package_id: str) -> PackageDetail:
        """One file of the registry with its metadata, README, members and the other files
        of its project; raises NotFound."""
        with self._sessions() as session:
            row = session.scalar(
                select(PackageRow).where(
                    PackageRow.registry_id == registry.id, PackageRow.id == package_id
                )
            )
            if row is None:
                raise NotFound(f"No package {package_id!r} in registry {registry.slug!r}")
            siblings = session.execute(
                select(
                    PackageRow.id,
                    PackageRow.name,
                    PackageRow.version,
                    PackageRow.filename,
                    PackageRow.filetype,
                    PackageRow.size,
                    PackageRow.created_at,
                ).where(PackageRow.registry_id == registry.id, PackageRow.project == row.project)
            ).all()
            detail = PackageDetail(
                package=package_from_row(row),
                metadata=dict(row.metadata_json or {}),
                description=row.description,
                members=[ArchiveMember(str(path), int(size)) for path, size in row.members_json],
                siblings=sorted(
                    (Release(*s) for s in siblings),
                    key=lambda s: (_version_key(s.version), s.filename),
                    reverse=True,
                ),
            )
        return detail

    def delete_package(self, principal: Principal, registry: Registry, package_id: str) -> None:
        """Remove one file from the registry (``delete_packages``) and bump its serial.

        The blob stays for other registries that share it; raises NotFound or
        PermissionDenied.
        """
        require(principal, Scope.DELETE_PACKAGES, registry, Disclosure.INSTALLER)
        with self._sessions.begin() as session:
            deleted = session.execute(
                delete(PackageRow).where(
                    PackageRow.registry_id == registry.id, PackageRow.id == package_id
                )
            )
            if not getattr(deleted, "rowcount", 0):
                raise NotFound(f"No package {package_id!r} in registry {registry.slug!r}")
            session.execute(
                update(RegistryRow)
                .where(RegistryRow.id == registry.id)
                .values(serial=RegistryRow.serial + 1)
            )


def _normalized_filter(text: str) -> str:
    cleaned = text.strip().lower()[:MAX_FILTER_LENGTH]
    for separator in ("_", "."):
        cleaned = cleaned.replace(separator, "-")
    return cleaned
