"""What a composite registry's index shows and which bytes its file URLs send.

Gathers each upstream's answer (one query loads the composite's settings, its source
upstreams' files and PyPI's cached answer), lets ``core.composite.resolve_project`` decide,
and returns the same ``ProjectPage`` a source registry returns, each file marked with its
upstream.

Every answer carries a ``version``: a number derived from the composite's serial, its
source upstreams' serials, the PyPI answer's digest and the files served. Rendered pages
are keyed by it, so they change exactly when what they show changes.

Each process remembers the versions it computed (``cached_version``), so that a page
already rendered is served without a query: a version is used only while the database's
change counter (``db.engine.change_counter``) is unchanged, so any commit in any process
(an upload, a yank, new upstreams or settings, a refreshed PyPI answer) forgets it, and
only until the PyPI answer it used goes stale or a file held back by a cooldown comes of
age. Where the database has no counter (PostgreSQL) nothing is remembered.
"""

from __future__ import annotations

import hashlib
import logging
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    parse_sdist_filename,
    parse_wheel_filename,
)
from sqlalchemy import String, and_, bindparam, select
from sqlalchemy.orm import Session, aliased, sessionmaker

from packyard.blobs.base import BlobStore
from packyard.core.composite import (
    PYPI,
    CompositeSettings,
    PypiFiles,
    Upstream,
    cooldown_ends,
    project_names,
    pypi_is_hidden,
    resolve_project,
)
from packyard.core.errors import NotFound, UpstreamError
from packyard.core.models import Registry
from packyard.core.names import normalize_project
from packyard.db.tables import (
    CompositeSettingsRow,
    CompositeUpstreamRow,
    PackageRow,
    PypiProjectRow,
    RegistryRow,
)
from packyard.services.composites import CompositeService, require_composite, settings_from
from packyard.services.downloads import METADATA_SUFFIX, Download, DownloadService
from packyard.services.index import (
    INDEX_FILE_COLUMNS,
    IndexFile,
    NonNormalizedName,
    ProjectList,
    ProjectPage,
    _version_key,
    index_file_from_row,
)
from packyard.services.registries import RegistryService
from packyard.services.upstream_pypi import PypiFile, PypiUpstream

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class PypiDownload:
    """A PyPI file a composite serves: from the blob store (``cache``) or by redirect."""

    filename: str
    blob_key: str | None
    local_path: Path | None
    redirect_url: str | None
    is_metadata: bool


@dataclass(frozen=True, slots=True)
class _Resolved:
    files: list[tuple[IndexFile | PypiFile, Upstream]]
    settings: CompositeSettings
    pypi_digest: str
    # Until when the answer stands unless the database changes; None: no time limit.
    valid_until: datetime | None


@dataclass(frozen=True, slots=True)
class _Loaded:
    """What one query tells about a composite and one project."""

    settings: CompositeSettings
    private: dict[str, list[IndexFile]]  # source registry id -> its files of the project
    pypi_row: PypiProjectRow | None  # PyPI's cached answer for the project, if any


@dataclass(frozen=True, slots=True)
class _Remembered:
    """A version this process computed, and what must not have changed for it to hold."""

    change_counter: int
    serial: int  # the composite's serial it was computed with
    valid_until: datetime | None
    version: int


class CompositeIndexService:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        registries: RegistryService,
        composites: CompositeService,
        pypi: PypiUpstream,
        downloads: DownloadService,
        blobs: BlobStore,
        now: Callable[[], datetime],
        change_counter: Callable[[], int] | None,
        max_remembered: int = 10_000,
    ) -> None:
        self._sessions = sessions
        self._registries = registries
        self._composites = composites
        self._pypi = pypi
        self._downloads = downloads
        self._blobs = blobs
        self._now = now
        self._change_counter = change_counter
        self._max_remembered = max_remembered
        self._remembered: dict[tuple[str, str], _Remembered] = {}

    def cached_version(self, registry: Registry, project: str) -> int | None:
        """The version ``project_page`` (with ``project=""``: ``project_list``) would give
        for ``registry``, when this process computed it and nothing it depends on can have
        changed since; None when that is not known (ask ``project_page``).

        Costs no query and no I/O: cheap enough to call on the event loop.
        """
        if self._change_counter is None:
            return None
        remembered = self._remembered.get((registry.id, project))
        if (
            remembered is None
            or remembered.serial != registry.serial
            or remembered.change_counter != self._change_counter()
        ):
            return None
        if remembered.valid_until is not None and self._now() >= remembered.valid_until:
            return None
        return remembered.version

    def _counter(self) -> int | None:
        """Read before the queries, so that a change made meanwhile forgets the answer."""
        return None if self._change_counter is None else self._change_counter()

    def _remember(
        self,
        registry: Registry,
        project: str,
        counter: int | None,
        valid_until: datetime | None,
        version: int,
    ) -> None:
        if counter is None:
            return
        if len(self._remembered) >= self._max_remembered:
            self._remembered.clear()
        self._remembered[(registry.id, project)] = _Remembered(
            counter, registry.serial, valid_until, version
        )

    def project_list(self, registry: Registry) -> tuple[ProjectList, int]:
        """The union of the source upstreams' projects, and the answer's version.

        PyPI's own list (hundreds of thousands of names, unused by pip and uv) is not
        merged in; its projects are served on their project pages.
        """
        counter = self._counter()
        settings = self._composites.settings(registry)
        ids = [u.registry_id for u in settings.source_upstreams if u.registry_id]
        with self._sessions() as session:
            names = session.scalars(
                select(PackageRow.project).where(PackageRow.registry_id.in_(ids)).distinct()
            ).all()
        version = _version(registry, settings, "", [])
        self._remember(registry, "", counter, None, version)
        return ProjectList(project_names([names])), version

    def project_page(self, registry: Registry, project: str) -> tuple[ProjectPage, int]:
        """The merged files of ``project`` and the answer's version.

        Raises NonNormalizedName (redirect), NotFound, or UpstreamError when only PyPI
        could answer and it cannot be reached with nothing cached.
        """
        normalized = normalize_project(project)
        if normalized != project:
            raise NonNormalizedName(normalized)
        counter = self._counter()
        resolved = self._resolve(registry, normalized)
        link = resolved.settings.policy.pypi_files is PypiFiles.LINK
        files = sorted(
            (_index_file(file, upstream, link) for file, upstream in resolved.files),
            key=lambda f: (_version_key(f.version), f.filename),
        )
        versions = sorted({f.version for f in files}, key=_version_key)
        page = ProjectPage(normalized, files, versions)
        served = [f.filename for f in files]
        version = _version(registry, resolved.settings, resolved.pypi_digest, served)
        self._remember(registry, normalized, counter, resolved.valid_until, version)
        return page, version

    def locate(self, registry: Registry, filename: str) -> Download | PypiDownload:
        """The file ``filename`` (or its ``.metadata``) as the composite serves it.

        Source upstreams' files come from the blob store; PyPI's are cached on first use
        (``pypi_files=cache``, hash checked) or redirected to. Raises NotFound, and
        UpstreamError for bytes from PyPI that do not match their announced hash.
        """
        is_metadata = filename.endswith(METADATA_SUFFIX)
        stored_name = filename.removesuffix(METADATA_SUFFIX) if is_metadata else filename
        project = _project_of(stored_name)
        if project is None:
            raise NotFound(f"No file {filename!r} in registry {registry.slug!r}")
        resolved = self._resolve(registry, project)
        for file, upstream in resolved.files:
            if file.filename != stored_name:
                continue
            if isinstance(file, PypiFile):
                return self._pypi_download(file, resolved.settings, is_metadata)
            source = self._registries.find_registry(registry.organization_slug, upstream.slug)
            return self._downloads.locate(source, filename)
        raise NotFound(f"No file {filename!r} in registry {registry.slug!r}")

    def _pypi_download(
        self, file: PypiFile, settings: CompositeSettings, is_metadata: bool
    ) -> PypiDownload:
        suffix = METADATA_SUFFIX if is_metadata else ""
        if settings.policy.pypi_files is PypiFiles.LINK:
            return PypiDownload(file.filename, None, None, file.url + suffix, is_metadata)
        key = self._pypi.cached_file(file, metadata=is_metadata)
        return PypiDownload(file.filename, key, self._blobs.local_path(key), None, is_metadata)

    def _resolve(self, registry: Registry, project: str) -> _Resolved:
        loaded = self._load(registry, project)
        settings, private = loaded.settings, loaded.private
        pypi_files: list[PypiFile] | None = None
        digest = ""
        valid_until: datetime | None = None
        has_private = any(private.values())
        if settings.uses_pypi and not pypi_is_hidden(project, has_private, settings.policy):
            try:
                answer = self._pypi.answer(project, loaded.pypi_row)
                pypi_files, digest = answer.files, answer.digest
                valid_until = answer.fresh_until
            except UpstreamError:
                if not has_private:
                    raise
                log.warning("Serving %r without PyPI's files: PyPI is unreachable", project)
                valid_until = self._now()  # ask PyPI again on the next request
        answers: list[tuple[Upstream, Sequence[IndexFile | PypiFile] | None]] = [
            (u, pypi_files if u.is_pypi else private.get(u.registry_id or "", []))
            for u in settings.upstreams
        ]
        now = self._now()
        files = resolve_project(project, answers, settings.policy, now)
        if not files:
            raise NotFound(f"No project {project!r} in registry {registry.slug!r}")
        coming_of_age = cooldown_ends(project, pypi_files or [], settings.policy, now)
        if coming_of_age is not None:
            valid_until = coming_of_age if valid_until is None else min(valid_until, coming_of_age)
        return _Resolved(files, settings, digest, valid_until)

    def _load(self, registry: Registry, project: str) -> _Loaded:
        """One query, one row per upstream and file: the composite's settings, its
        upstreams in order (with their serials), their files of ``project``, and PyPI's
        cached answer on the PyPI upstream's row. Raises InvalidRequest for a source
        registry."""
        require_composite(registry)
        with self._sessions() as session:
            rows = session.execute(_LOAD, {"composite_id": registry.id, "project": project}).all()
        upstreams: dict[int, Upstream] = {}
        private: dict[str, list[IndexFile]] = defaultdict(list)
        pypi_row: PypiProjectRow | None = None
        for row in rows:
            if row.position is None:
                continue  # a composite whose upstreams were all deleted
            if row.upstream_id is None:
                upstreams[row.position] = PYPI
                pypi_row = row.PypiProjectRow
                continue
            upstreams[row.position] = Upstream(
                row.upstream_slug, row.upstream_id, row.upstream_serial
            )
            if row.filename is not None:
                private[row.upstream_id].append(index_file_from_row(row))
        settings_row = rows[0].CompositeSettingsRow if rows else None
        return _Loaded(settings_from(list(upstreams.values()), settings_row), private, pypi_row)


# ``CompositeIndexService._load``'s query, built once (building it costs more than running
# it on SQLite): the composite's row, its settings, each upstream in order with its serial,
# the upstream's files of the project, and PyPI's cached answer on the PyPI upstream's row.
_UPSTREAM = aliased(RegistryRow)
_LINK = CompositeUpstreamRow
_PROJECT = bindparam("project", type_=String)
_LOAD = (
    select(
        CompositeSettingsRow,
        _LINK.position,
        _LINK.upstream_id,
        _UPSTREAM.slug.label("upstream_slug"),
        _UPSTREAM.serial.label("upstream_serial"),
        PypiProjectRow,
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


def _index_file(file: IndexFile | PypiFile, upstream: Upstream, link: bool) -> IndexFile:
    if isinstance(file, IndexFile):
        return IndexFile(
            filename=file.filename,
            version=file.version,
            sha256=file.sha256,
            size=file.size,
            upload_time=file.upload_time,
            requires_python=file.requires_python,
            core_metadata_sha256=file.core_metadata_sha256,
            yanked_reason=file.yanked_reason,
            yanked=file.yanked,
            source=upstream.slug,
        )
    return IndexFile(
        filename=file.filename,
        version=file.version,
        sha256=file.sha256,
        size=file.size,
        upload_time=file.upload_time,
        requires_python=file.requires_python,
        core_metadata_sha256=file.core_metadata_sha256,
        yanked_reason=file.yanked_reason,
        yanked=file.yanked,
        source=upstream.slug,
        url=file.url if link else None,
        provenance=file.provenance,
    )


def _version(
    registry: Registry, settings: CompositeSettings, pypi_digest: str, served: list[str]
) -> int:
    parts = [str(registry.serial), pypi_digest, *served]
    parts += [f"{u.slug}:{u.serial}" for u in settings.upstreams]
    digest = hashlib.sha256("\n".join(parts).encode()).digest()
    return int.from_bytes(digest[:8], "big") >> 1


def _project_of(filename: str) -> str | None:
    try:
        if filename.endswith(".whl"):
            return str(parse_wheel_filename(filename)[0])
        if filename.endswith((".tar.gz", ".zip")):
            return str(parse_sdist_filename(filename)[0])
    except (InvalidWheelFilename, InvalidSdistFilename):
        return None
    return None
