"""The queries of the index-read and download paths: typed functions over a ``Session``
that return ``core`` dataclasses, each row mapped once (``index_file_from_row``).

The statements run on every uncached read, so the ones with a fixed shape are built once
at import (building a statement costs about as much as running it on SQLite).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, cast

from sqlalchemy import String, Table, and_, bindparam, select
from sqlalchemy.orm import Session, aliased

from packyard.core.composite import PYPI, Upstream
from packyard.core.index import IndexFile
from packyard.core.lifecycle import ProjectStatus
from packyard.core.models import Principal, Registry
from packyard.db import tokens
from packyard.db.lifecycle import quarantined_file
from packyard.db.registries import REGISTRY_BY_SLUGS, registry_from_row
from packyard.db.tables import (
    CompositeSettingsRow,
    CompositeUpstreamRow,
    PackageRow,
    ProjectStatusRow,
    PypiProjectRow,
    RegistryRow,
    TokenRow,
)

_TOKENS = cast(Table, TokenRow.__table__)
# The registry named by its slugs and, in the same query, the token whose secret hashes to
# ``secret_sha256`` (no token when it is NULL or matches none): plain columns, as
# ``REGISTRY_BY_SLUGS``'s.
_REGISTRY_AND_TOKEN = REGISTRY_BY_SLUGS.add_columns(
    _TOKENS.c.id.label("token_id"),
    _TOKENS.c.organization_id.label("token_organization_id"),
    _TOKENS.c.registry_id.label("token_registry_id"),
    _TOKENS.c.user_id.label("token_user_id"),
    _TOKENS.c.scopes.label("token_scopes"),
).outerjoin(_TOKENS, _TOKENS.c.secret_sha256 == bindparam("secret_sha256", type_=String))


def registry_and_reader(
    session: Session, organization: str, registry: str, secret_sha256: str | None
) -> tuple[Registry, Principal | None] | None:
    """The registry, and the principal of the token whose secret hashes to
    ``secret_sha256`` (None: no such token, or no secret); None for no such registry."""
    row = session.execute(
        _REGISTRY_AND_TOKEN,
        {"organization": organization, "registry": registry, "secret_sha256": secret_sha256},
    ).first()
    if row is None:
        return None
    # A person's token carries their teams, read now: a cached answer is dropped by the
    # change counter when a team or a grant changes.
    reader = (
        None
        if row.token_id is None
        else tokens.principal_of(
            session,
            row.token_id,
            row.token_organization_id,
            row.token_registry_id,
            row.token_user_id,
            row.token_scopes,
        )
    )
    return registry_from_row(row, row.organization_slug), reader


# Names fetched per batch when reading a project list.
LISTING_BATCH = 5_000

_PACKAGES = cast(Table, PackageRow.__table__)
_STATUSES = cast(Table, ProjectStatusRow.__table__)
# The columns an index page needs of each file (``index_file_from_row``). The table's own
# columns, not the mapped class's: a statement reading only table columns takes
# Session.execute's Core path, about 55 us a query less (a page's first read, every
# download located).
INDEX_FILE_COLUMNS = (
    _PACKAGES.c.filename,
    _PACKAGES.c.version,
    _PACKAGES.c.sha256,
    _PACKAGES.c.size,
    _PACKAGES.c.created_at,
    _PACKAGES.c.requires_python,
    _PACKAGES.c.core_metadata_sha256,
    _PACKAGES.c.yanked_reason,
    _PACKAGES.c.provenance.is_not(None).label("has_provenance"),
)


class IndexFileRow(Protocol):
    """A result row holding ``INDEX_FILE_COLUMNS``."""

    @property
    def filename(self) -> str: ...
    @property
    def version(self) -> str: ...
    @property
    def sha256(self) -> str: ...
    @property
    def size(self) -> int: ...
    @property
    def created_at(self) -> datetime: ...
    @property
    def requires_python(self) -> str | None: ...
    @property
    def core_metadata_sha256(self) -> str | None: ...
    @property
    def yanked_reason(self) -> str | None: ...
    @property
    def has_provenance(self) -> bool: ...


def index_file_from_row(row: IndexFileRow) -> IndexFile:
    return IndexFile(
        filename=row.filename,
        version=row.version,
        sha256=row.sha256,
        size=row.size,
        upload_time=row.created_at,
        requires_python=row.requires_python,
        core_metadata_sha256=row.core_metadata_sha256,
        yanked_reason=row.yanked_reason,
        yanked=row.yanked_reason is not None,
        has_provenance=bool(row.has_provenance),
    )


def project_names(session: Session, registry_ids: Sequence[str]) -> list[str]:
    """The distinct projects of the registries, sorted; read as plain rows in batches
    (ORM rows would triple the cost at 100,000 names)."""
    statement = (
        select(PackageRow.project)
        .where(PackageRow.registry_id.in_(registry_ids))
        .distinct()
        .order_by(PackageRow.project)
        .execution_options(yield_per=LISTING_BATCH)
    )
    names: list[str] = []
    for batch in session.connection().execute(statement).scalars().partitions():
        names.extend(batch)
    return names


_PROJECT_FILES = select(*INDEX_FILE_COLUMNS).where(
    _PACKAGES.c.registry_id == bindparam("registry_id", type_=String),
    _PACKAGES.c.project == bindparam("project", type_=String),
)


def project_files(session: Session, registry_id: str, project: str) -> list[IndexFile]:
    """The files of ``project`` (normalised) in one source registry, unordered."""
    rows = session.execute(_PROJECT_FILES, {"registry_id": registry_id, "project": project})
    return [index_file_from_row(row) for row in rows]


@dataclass(frozen=True, slots=True)
class StoredFile:
    """What serving a distribution (or its PEP 658 metadata) needs to know of it."""

    package_id: str
    filename: str
    sha256: str
    size: int
    core_metadata_sha256: str | None


_STORED_FILE = select(
    _PACKAGES.c.id,
    _PACKAGES.c.filename,
    _PACKAGES.c.sha256,
    _PACKAGES.c.size,
    _PACKAGES.c.core_metadata_sha256,
)
_BY_ID = _STORED_FILE.where(
    _PACKAGES.c.registry_id == bindparam("registry_id", type_=String),
    _PACKAGES.c.id == bindparam("package_id", type_=String),
)
# A file by its name and, in the same query, its project's status (PEP 792).
_SERVABLE_BY_FILENAME = (
    _STORED_FILE.add_columns(_STATUSES.c.status)
    .select_from(
        _PACKAGES.outerjoin(
            _STATUSES,
            and_(
                _STATUSES.c.registry_id == _PACKAGES.c.registry_id,
                _STATUSES.c.project == _PACKAGES.c.project,
            ),
        )
    )
    .where(
        _PACKAGES.c.registry_id == bindparam("registry_id", type_=String),
        _PACKAGES.c.filename == bindparam("filename", type_=String),
    )
)


def stored_file(session: Session, registry_id: str, package_id: str) -> StoredFile | None:
    """The file of a source registry with that package id."""
    row = session.execute(_BY_ID, {"registry_id": registry_id, "package_id": package_id}).first()
    return None if row is None else StoredFile(*row)


def servable_file(session: Session, registry_id: str, filename: str) -> StoredFile | None:
    """The file of a source registry with that name, unless its project is quarantined
    (PEP 792: a quarantined project serves no file); one query."""
    row = session.execute(
        _SERVABLE_BY_FILENAME, {"registry_id": registry_id, "filename": filename}
    ).first()
    if row is None or row.status == ProjectStatus.QUARANTINED.value:
        return None
    return StoredFile(row.id, row.filename, row.sha256, row.size, row.core_metadata_sha256)


@dataclass(frozen=True, slots=True)
class CompositeProject:
    """What one query tells about a composite and one project."""

    upstreams: list[Upstream]  # in order, each source with its serial
    settings_row: CompositeSettingsRow | None
    private: dict[str, list[IndexFile]]  # source registry id -> its files of the project
    pypi_row: PypiProjectRow | None  # PyPI's cached answer for the project, if any
    # Source registries where the project is quarantined (PEP 792): their files are in
    # ``private`` (the name is still taken there) but must not be served.
    quarantined: frozenset[str] = frozenset()


def composite_project(session: Session, composite_id: str, project: str) -> CompositeProject:
    """One query, one row per upstream and file: the composite's settings, its upstreams in
    order (with their serials), their files of ``project``, and PyPI's cached answer."""
    rows = session.execute(_COMPOSITE_PROJECT, {"composite_id": composite_id, "project": project})
    upstreams: dict[int, Upstream] = {}
    private: dict[str, list[IndexFile]] = defaultdict(list)
    pypi_row: PypiProjectRow | None = None
    settings_row: CompositeSettingsRow | None = None
    quarantined: set[str] = set()
    for row in rows:
        settings_row = row.CompositeSettingsRow
        if row.position is None:
            continue  # a composite whose upstreams were all deleted
        if row.upstream_id is None:
            upstreams[row.position] = PYPI
            pypi_row = row.PypiProjectRow
            continue
        upstreams[row.position] = Upstream(row.upstream_slug, row.upstream_id, row.upstream_serial)
        if row.filename is not None:
            private[row.upstream_id].append(index_file_from_row(row))
        if row.upstream_status == ProjectStatus.QUARANTINED.value:
            quarantined.add(row.upstream_id)
    return CompositeProject(
        list(upstreams.values()), settings_row, private, pypi_row, frozenset(quarantined)
    )


# The composite's row, its settings, each upstream in order with its serial, the
# upstream's files of the project, and PyPI's cached answer on the PyPI upstream's row.
_UPSTREAM = aliased(RegistryRow)
_LINK = CompositeUpstreamRow
_PROJECT = bindparam("project", type_=String)
_COMPOSITE_PROJECT = (
    select(
        CompositeSettingsRow,
        _LINK.position,
        _LINK.upstream_id,
        _UPSTREAM.slug.label("upstream_slug"),
        _UPSTREAM.serial.label("upstream_serial"),
        PypiProjectRow,
        ProjectStatusRow.status.label("upstream_status"),
        *INDEX_FILE_COLUMNS,
    )
    .select_from(RegistryRow)
    .outerjoin(CompositeSettingsRow, CompositeSettingsRow.registry_id == RegistryRow.id)
    .outerjoin(_LINK, _LINK.composite_id == RegistryRow.id)
    .outerjoin(_UPSTREAM, _UPSTREAM.id == _LINK.upstream_id)
    .outerjoin(
        PackageRow,
        and_(PackageRow.registry_id == _LINK.upstream_id, PackageRow.project == _PROJECT),
    )
    .outerjoin(
        ProjectStatusRow,
        and_(
            ProjectStatusRow.registry_id == _LINK.upstream_id,
            ProjectStatusRow.project == _PROJECT,
        ),
    )
    .outerjoin(
        PypiProjectRow,
        and_(
            _LINK.position.is_not(None),
            _LINK.upstream_id.is_(None),
            PypiProjectRow.project == _PROJECT,
        ),
    )
    .where(RegistryRow.id == bindparam("composite_id", type_=String))
    .order_by(_LINK.position)
)


def stored_provenance(
    session: Session, registry_id: str, project: str, version: str, filename: str
) -> str | None:
    """The verified PEP 740 provenance of a file of a source registry, None when the file
    has none, is not there under that project and version, or its project is quarantined."""
    statement = select(PackageRow.provenance).where(
        PackageRow.registry_id == registry_id,
        PackageRow.filename == filename,
        PackageRow.project == project,
        PackageRow.version == version,
    )
    provenance = session.scalar(statement)
    if provenance is None or quarantined_file(session, registry_id, filename):
        return None
    return provenance
