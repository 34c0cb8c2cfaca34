"""What the simple index shows: plain data, rendered as HTML or JSON by the web layer.

Every answer carries the registry's serial, the key of rendered-page caches and ETags.

The project list of a large registry is the expensive answer (100,000 names): it is read
as plain rows in batches (ORM rows would triple its cost), concurrent requests for the
same registry and serial share one query, and the forms rendered from it are made once
however many of those requests render at the same time (``ProjectList.form``).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from packyard.core.errors import NotFound
from packyard.core.models import Registry
from packyard.core.names import normalize_project, version_key
from packyard.db.tables import PackageRow
from packyard.services.single_flight import SingleFlight


@dataclass(frozen=True, slots=True)
class IndexFile:
    filename: str
    version: str
    sha256: str
    size: int
    upload_time: datetime | None  # None only for upstream files that lack one
    requires_python: str | None
    core_metadata_sha256: str | None
    yanked_reason: str | None
    yanked: bool = False
    # Composite registries only: the upstream the file came from, an absolute URL when the
    # file is linked where it lives (PyPI, pypi_files=link), and PEP 740 provenance.
    source: str | None = None
    url: str | None = None
    provenance: str | None = None


@dataclass(frozen=True, slots=True)
class ProjectPage:
    name: str  # normalised
    files: list[IndexFile]
    versions: list[str]


@dataclass(frozen=True, slots=True)
class ProjectList:
    projects: list[str]  # normalised names, sorted
    _forms: dict[str, bytes] = field(default_factory=dict, init=False, repr=False, compare=False)
    _lock: threading.Lock = field(
        default_factory=threading.Lock, init=False, repr=False, compare=False
    )

    def form(self, name: str, make: Callable[[], bytes]) -> bytes:
        """The form ``name`` of this listing (a rendered page), made by ``make`` the first
        time it is asked for; callers asking meanwhile wait for it rather than make
        another copy."""
        with self._lock:
            made = self._forms.get(name)
            if made is None:
                made = self._forms[name] = make()
            return made


class NonNormalizedName(Exception):
    """Raised to tell the web layer to redirect to the normalised project URL."""

    def __init__(self, normalized: str) -> None:
        super().__init__(normalized)
        self.normalized = normalized


_version_key = version_key  # the one definition lives in core.names


# The columns an index page needs of each file, and the IndexFile they make: shared by
# source registries and composites (which add the registry_id column).
INDEX_FILE_COLUMNS = (
    PackageRow.filename,
    PackageRow.version,
    PackageRow.sha256,
    PackageRow.size,
    PackageRow.created_at,
    PackageRow.requires_python,
    PackageRow.core_metadata_sha256,
    PackageRow.yanked_reason,
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
    )


# Names fetched per batch when reading a project list.
LISTING_BATCH = 5_000


class IndexService:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions
        self._listings: SingleFlight[tuple[str, int], ProjectList] = SingleFlight()

    def project_list(self, registry: Registry) -> ProjectList:
        """The registry's projects; concurrent calls for the same registry and serial
        share one query and one ProjectList."""
        return self._listings.run(
            (registry.id, registry.serial), lambda: self._read_project_list(registry)
        )

    def _read_project_list(self, registry: Registry) -> ProjectList:
        statement = (
            select(PackageRow.project)
            .where(PackageRow.registry_id == registry.id)
            .distinct()
            .order_by(PackageRow.project)
            .execution_options(yield_per=LISTING_BATCH)
        )
        names: list[str] = []
        with self._sessions() as session:
            # Core rather than ORM rows: a third of the time at 100,000 names.
            for batch in session.connection().execute(statement).scalars().partitions():
                names.extend(batch)
        return ProjectList(names)

    def project_page(self, registry: Registry, project: str) -> ProjectPage:
        """The files of ``project``; raises NonNormalizedName or NotFound."""
        normalized = normalize_project(project)
        if normalized != project:
            raise NonNormalizedName(normalized)
        with self._sessions() as session:
            rows = session.execute(
                select(*INDEX_FILE_COLUMNS).where(
                    PackageRow.registry_id == registry.id, PackageRow.project == normalized
                )
            ).all()
        if not rows:
            raise NotFound(f"No project {project!r} in registry {registry.slug!r}")
        files = sorted(
            (index_file_from_row(r) for r in rows),
            key=lambda f: (_version_key(f.version), f.filename),
        )
        versions = sorted({f.version for f in files}, key=_version_key)
        return ProjectPage(normalized, files, versions)
