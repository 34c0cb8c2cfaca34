"""Queries on packages (distribution files): row mapping, listings by push order, the UI's
name filter and statistics, a package's details, copies and deletes.

Listings use keyset pagination on ``packages.seq`` (the push order, indexed together with
``registry_id``), so page N costs the same as page 1 however many packages a registry has.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import (
    ColumnElement,
    Select,
    Table,
    bindparam,
    delete,
    exists,
    false,
    func,
    insert,
    inspect,
    select,
    union,
    update,
)
from sqlalchemy.orm import Session

from packyard.core.models import (
    ArchiveMember,
    Digests,
    FileType,
    PackageFile,
    Registry,
    RegistryStats,
    Release,
)
from packyard.core.publishers import publisher_from_json
from packyard.db.changes import UNCACHED_WRITE
from packyard.db.tables import PackageRow

MAX_PROJECTS_IN_FILTER = 200

# Publishing's statements, built once and in Core: it loads no rows, and the ORM's unit of
# work cost more than the statements themselves.
_PACKAGES = cast(Table, PackageRow.__table__)
_INSERT_PACKAGE = insert(_PACKAGES)
# The files a new one may duplicate: its name, and the other files of its release (whose
# names may normalise to the same distribution).
# Two indexed lookups, not one OR: SQLite answers ``filename = ... OR (project, version) =
# ...`` by walking every file of the registry (a publish then costs more the more files
# the registry holds); each half here is one search of a unique or project index.
_CANDIDATES = union(
    select(_PACKAGES.c.seq, _PACKAGES.c.filename).where(
        _PACKAGES.c.registry_id == bindparam("registry_id"),
        _PACKAGES.c.filename == bindparam("filename"),
    ),
    select(_PACKAGES.c.seq, _PACKAGES.c.filename).where(
        _PACKAGES.c.registry_id == bindparam("registry_id"),
        _PACKAGES.c.project == bindparam("project"),
        _PACKAGES.c.version == bindparam("version"),
    ),
)


@dataclass(frozen=True, slots=True)
class StoredPackage:
    """A package with what only its details show."""

    seq: int
    package: PackageFile
    metadata: dict[str, Any]
    description: str | None
    members: list[ArchiveMember]
    provenance: str | None = None  # the verified PEP 740 provenance object (JSON)


def package_from_row(row: PackageRow) -> PackageFile:
    return package_from_values({c: getattr(row, c) for c in _COLUMNS})


def package_from_values(values: Mapping[str, Any]) -> PackageFile:
    """A package from its column values (an ORM row's, or a Core insert's without building
    an ORM object)."""
    return PackageFile(
        id=values["id"],
        registry_id=values["registry_id"],
        project=values["project"],
        name=values["name"],
        version=values["version"],
        filename=values["filename"],
        filetype=FileType(values["filetype"]),
        python_version=values["python_version"],
        size=values["size"],
        digests=Digests(
            md5=values["md5"],
            sha1=values["sha1"],
            sha256=values["sha256"],
            sha512=values["sha512"],
            blake2b_256=values["blake2b_256"],
        ),
        requires_python=values["requires_python"],
        core_metadata_sha256=values["core_metadata_sha256"],
        yanked_reason=values["yanked_reason"],
        created_at=values["created_at"],
        downloads_count=values["downloads_count"],
        imported_from=values["imported_from"],
        published_by=publisher_from_json(values["published_by"]),
    )


_COLUMNS = (
    "id",
    "registry_id",
    "project",
    "name",
    "version",
    "filename",
    "filetype",
    "python_version",
    "size",
    "md5",
    "sha1",
    "sha256",
    "sha512",
    "blake2b_256",
    "requires_python",
    "core_metadata_sha256",
    "yanked_reason",
    "created_at",
    "downloads_count",
    "imported_from",
    "published_by",
)


def stored(row: PackageRow) -> StoredPackage:
    return StoredPackage(
        seq=row.seq,
        package=package_from_row(row),
        metadata=dict(row.metadata_json or {}),
        description=row.description,
        members=[ArchiveMember(str(path), int(size)) for path, size in row.members_json],
        provenance=row.provenance,
    )


def insert_package(session: Session, values: Mapping[str, Any]) -> None:
    """Insert a package given as its column values; a taken file name raises
    IntegrityError."""
    session.execute(_INSERT_PACKAGE, dict(values))


def duplicate_candidates(
    session: Session, registry_id: str, filename: str, project: str | None, version: str | None
) -> list[tuple[int, str]]:
    """(seq, filename) of the files stored under ``filename`` or in the release
    ``project`` ``version`` (None matches no release: the name alone is looked up)."""
    found = session.execute(
        _CANDIDATES,
        {"registry_id": registry_id, "filename": filename, "project": project, "version": version},
    ).all()
    return [(seq, stored) for seq, stored in found]


# One statement for all the counted packages (executemany), built once: a flush during a
# download load names hundreds of packages, and an ORM update each cost ~150 us.
_ADD_DOWNLOADS = (
    update(_PACKAGES)
    .where(_PACKAGES.c.id == bindparam("package_id"))
    .values(
        downloads_count=_PACKAGES.c.downloads_count + bindparam("increment"),
        last_downloaded_at=bindparam("now"),
    )
    .execution_options(**UNCACHED_WRITE)
)


def add_downloads(session: Session, counts: Mapping[str, int], now: datetime) -> None:
    """Add the counted downloads, by package id; ``now`` is when they were downloaded."""
    if not counts:
        return
    session.execute(
        _ADD_DOWNLOADS,
        [
            {"package_id": package_id, "increment": increment, "now": now}
            for package_id, increment in sorted(counts.items())
        ],
    )


def held_digests(session: Session, registry_id: str) -> dict[str, str]:
    """The registry's files' SHA256, by filename."""
    rows = session.execute(
        select(PackageRow.filename, PackageRow.sha256).where(PackageRow.registry_id == registry_id)
    )
    return {filename: sha256 for filename, sha256 in rows}


def package_by_seq(session: Session, seq: int) -> PackageFile:
    return package_from_row(session.get_one(PackageRow, seq))


def package_by_id(session: Session, registry_id: str, package_id: str) -> StoredPackage | None:
    row = _row(session, registry_id, package_id)
    return None if row is None else stored(row)


def _row(session: Session, registry_id: str, package_id: str) -> PackageRow | None:
    return session.scalar(
        select(PackageRow).where(PackageRow.id == package_id, PackageRow.registry_id == registry_id)
    )


def package_by_filename(session: Session, registry_id: str, filename: str) -> StoredPackage | None:
    row = session.scalar(
        select(PackageRow).where(
            PackageRow.registry_id == registry_id, PackageRow.filename == filename
        )
    )
    return None if row is None else stored(row)


def registry_usage(session: Session, registry_id: str) -> int:
    """Bytes the registry's files take (each file counted where it is, though identical
    bytes are stored once)."""
    total = session.scalar(
        select(func.coalesce(func.sum(PackageRow.size), 0)).where(
            PackageRow.registry_id == registry_id
        )
    )
    return int(total or 0)


def delete_packages(
    session: Session, registry_id: str, package_ids: list[str]
) -> list[PackageFile]:
    """Delete these packages of the registry in one statement; the packages deleted (ids
    already gone are left out)."""
    # Found by id alone, then kept to the registry: with the registry in the WHERE clause
    # SQLite's planner walks the registry's index (every file of it) instead of the ids'.
    rows = session.execute(
        select(*(getattr(PackageRow, c) for c in _COLUMNS)).where(PackageRow.id.in_(package_ids))
    ).all()
    found = [
        package_from_values(dict(row._mapping)) for row in rows if row.registry_id == registry_id
    ]
    if found:
        session.execute(delete(PackageRow).where(PackageRow.id.in_([p.id for p in found])))
    return found


# Columns a copy takes over unchanged; identity, place, time and counts are its own.
_OWN_COLUMNS = frozenset(
    {"seq", "id", "registry_id", "created_at", "downloads_count", "last_downloaded_at"}
)


def add_copy(
    session: Session, registry_id: str, package_id: str, destination: Registry, now: datetime
) -> StoredPackage:
    """Insert a copy of a package into ``destination``, sharing its stored bytes; a taken
    file name raises IntegrityError at the flush."""
    original = _row(session, registry_id, package_id)
    assert original is not None
    shared = {
        attribute.key: getattr(original, attribute.key)
        for attribute in inspect(PackageRow).column_attrs
        if attribute.key not in _OWN_COLUMNS
    }
    copy = PackageRow(
        **shared,
        id=str(uuid.uuid4()),
        registry_id=destination.id,
        created_at=now,
        downloads_count=0,
    )
    session.add(copy)
    session.flush()
    return stored(copy)


def siblings(session: Session, registry_id: str, project: str) -> list[Release]:
    """Every file of ``project`` in the registry."""
    rows = session.execute(
        select(*_RELEASE_COLUMNS).where(
            PackageRow.registry_id == registry_id, PackageRow.project == project
        )
    ).all()
    return [Release(*row) for row in rows]


_RELEASE_COLUMNS = (
    PackageRow.id,
    PackageRow.name,
    PackageRow.version,
    PackageRow.filename,
    PackageRow.filetype,
    PackageRow.size,
    PackageRow.created_at,
)


def stats(session: Session, registry_ids: list[str]) -> dict[str, RegistryStats]:
    """Package count and last push of each registry: one grouped query over the
    (registry_id, seq) index alone, then the push times of the newest rows."""
    counted = session.execute(
        select(PackageRow.registry_id, func.count(), func.max(PackageRow.seq))
        .where(PackageRow.registry_id.in_(registry_ids))
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
        registry_id: RegistryStats(count, newest.get(seq)) for registry_id, count, seq in counted
    }
    return {r: found.get(r, RegistryStats(0, None)) for r in registry_ids}


def releases(
    session: Session, registry_id: str, needle: str, before: int | None, limit: int
) -> tuple[list[Release], int | None]:
    """Up to ``limit`` files, newest first, older than ``before``, of projects whose name
    starts with ``needle``; and the cursor of the next page, if any."""
    query = select(PackageRow.seq, *_RELEASE_COLUMNS).where(PackageRow.registry_id == registry_id)
    if before is not None:
        query = query.where(PackageRow.seq < before)
    query = query.order_by(PackageRow.seq.desc()).limit(limit + 1)
    if needle:
        matching = _name_clause(session, registry_id, needle)
        if matching is None:
            return [], None
        query = query.where(matching)
    rows = session.execute(query).all()
    more = len(rows) > limit
    rows = rows[:limit]
    return [Release(*row[1:]) for row in rows], rows[-1].seq if more and rows else None


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _name_clause(session: Session, registry_id: str, needle: str) -> ColumnElement[bool] | None:
    """The condition for projects whose name starts with ``needle``; None when none do.

    The names come from a range of the (registry_id, project) index; when they are few,
    the listing reads just their rows, and when many match, walking the push order meets a
    page of them soon.
    """
    prefix = PackageRow.project.like(f"{_escape_like(needle)}%", escape="\\")
    clauses = [PackageRow.registry_id == registry_id, prefix]
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


@dataclass(frozen=True, slots=True)
class PageQuery:
    """A REST listing page: ``project`` and ``version`` already normalised."""

    registry_id: str
    per_page: int
    before: int | None
    after: int | None
    project: str | None
    version: str | None


def page(session: Session, query: PageQuery) -> tuple[list[StoredPackage], bool, bool]:
    """One page of packages, newest first; and whether newer and older ones exist."""
    filtered = _filtered(query)
    # Walking towards newer packages (only ``before``) reads ascending, then flips.
    towards_newer = query.before is not None and query.after is None
    order = PackageRow.seq.asc() if towards_newer else PackageRow.seq.desc()
    rows = list(
        session.scalars(_bounded(filtered, query).order_by(order).limit(query.per_page + 1))
    )
    more = len(rows) > query.per_page
    rows = rows[: query.per_page]
    if towards_newer:
        rows.reverse()
    if not rows:
        return [], False, False
    newer = more if towards_newer else _any_beyond(session, query, rows[0].seq, newer=True)
    older = _any_beyond(session, query, rows[-1].seq, newer=False) if towards_newer else more
    return [stored(row) for row in rows], newer, older


def _filtered(query: PageQuery) -> Select[PackageRow]:
    statement = select(PackageRow).where(PackageRow.registry_id == query.registry_id)
    if "\x00" in (query.project or "") + (query.version or ""):
        return statement.where(false())  # no stored name or version holds NUL
    if query.project:
        statement = statement.where(PackageRow.project == query.project)
    if query.version:
        statement = statement.where(PackageRow.version == query.version)
    return statement


def _bounded(statement: Select[PackageRow], query: PageQuery) -> Select[PackageRow]:
    if query.after is not None:
        statement = statement.where(PackageRow.seq < query.after)
    if query.before is not None:
        statement = statement.where(PackageRow.seq > query.before)
    return statement


def _any_beyond(session: Session, query: PageQuery, seq: int, *, newer: bool) -> bool:
    """Whether any package matching the filters lies past ``seq`` (newer or older)."""
    condition = PackageRow.seq > seq if newer else PackageRow.seq < seq
    return bool(session.scalar(select(exists(_filtered(query).where(condition)))))
