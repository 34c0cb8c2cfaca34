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
change counter is unchanged (``services.memo.CounterValidatedMemo``), so any commit in any
process (an upload, a yank, new upstreams or settings, a refreshed PyPI answer) forgets
it, and only until the PyPI answer it used goes stale or a file held back by a cooldown
comes of age. While there is no counter (``db.changes``) nothing is remembered.

File URLs: ``locate`` says which upstream serves a file; ``services.downloads`` serves it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from packyard.core.composite import (
    CompositeSettings,
    PypiFiles,
    Upstream,
    cooldown_ends,
    project_names,
    pypi_is_hidden,
    resolve_project,
)
from packyard.core.errors import NotFound, UpstreamError
from packyard.core.index import (
    Download,
    IndexFile,
    ProjectList,
    ProjectPage,
    Versioned,
    project_page,
)
from packyard.core.lifecycle import QUARANTINED
from packyard.core.models import Registry
from packyard.core.simple_api import METADATA_SUFFIX
from packyard.db import index as queries
from packyard.db.composites import settings_from
from packyard.dists.filenames import parse_filename_or_none
from packyard.services.composites import CompositeService, require_composite
from packyard.services.memo import CounterValidatedMemo
from packyard.services.upstream_pypi import PypiFile, PypiUpstream

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class _Resolved:
    files: list[tuple[IndexFile | PypiFile, Upstream]]
    settings: CompositeSettings
    pypi_digest: str
    # Until when the answer stands unless the database changes; None: no time limit.
    valid_until: datetime | None
    # Every source upstream that has the project has it quarantined: a page of no files.
    quarantined: bool = False


@dataclass(frozen=True, slots=True)
class _Remembered:
    """A version this process computed, and what must not have changed for it to hold
    (besides the database, which the memo checks)."""

    serial: int  # the composite's serial it was computed with
    valid_until: datetime | None
    version: int


class CompositeIndexService:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        composites: CompositeService,
        pypi: PypiUpstream,
        now: Callable[[], datetime],
        change_counter: Callable[[], int | None],
        max_remembered: int = 10_000,
    ) -> None:
        self._sessions = sessions
        self._composites = composites
        self._pypi = pypi
        self._now = now
        self._remembered: CounterValidatedMemo[tuple[str, str], _Remembered] = CounterValidatedMemo(
            change_counter, max_remembered
        )

    def cached_version(self, registry: Registry, project: str) -> int | None:
        """The version ``project_page`` (with ``project=""``: ``project_list``) would give
        for ``registry``, when this process computed it and nothing it depends on can have
        changed since; None when that is not known (ask ``project_page``).

        Costs no query and no I/O: cheap enough to call on the event loop.
        """
        remembered = self._remembered.get((registry.id, project))
        if remembered is None or remembered.serial != registry.serial:
            return None
        if remembered.valid_until is not None and self._now() >= remembered.valid_until:
            return None
        return remembered.version

    def project_list(self, registry: Registry) -> Versioned[ProjectList]:
        """The union of the source upstreams' projects, and the answer's version.

        PyPI's own list (hundreds of thousands of names, unused by pip and uv) is not
        merged in; its projects are served on their project pages.
        """
        counter = self._remembered.counter()
        settings = self._composites.settings(registry)
        ids = [u.registry_id for u in settings.source_upstreams if u.registry_id]
        with self._sessions() as session:
            names = queries.project_names(session, ids)
        version = _version(registry, settings, "", [])
        self._remembered.put(
            (registry.id, ""), counter, _Remembered(registry.serial, None, version)
        )
        return Versioned(ProjectList(project_names([names])), version)

    def project_page(self, registry: Registry, project: str) -> Versioned[ProjectPage]:
        """The merged files of ``project`` (normalised) and the answer's version.

        Raises NotFound, or UpstreamError when only PyPI could answer and it cannot be
        reached with nothing cached.
        """
        counter = self._remembered.counter()
        resolved = self._resolve(registry, project)
        link = resolved.settings.policy.pypi_files is PypiFiles.LINK
        page = project_page(
            project,
            (_index_file(file, upstream, link) for file, upstream in resolved.files),
            QUARANTINED if resolved.quarantined else None,
        )
        served = [f.filename for f in page.files]
        version = _version(registry, resolved.settings, resolved.pypi_digest, served)
        remembered = _Remembered(registry.serial, resolved.valid_until, version)
        self._remembered.put((registry.id, project), counter, remembered)
        return Versioned(page, version)

    def locate(self, registry: Registry, filename: str) -> Download | Upstream:
        """Where the composite's file ``filename`` (or its ``.metadata``) comes from: the
        source upstream that serves it, or what to send for a PyPI file, cached on first
        use (``pypi_files=cache``, hash checked) or linked to.

        Raises NotFound, and UpstreamError for bytes from PyPI that do not match their
        announced hash.
        """
        stored_name = filename.removesuffix(METADATA_SUFFIX)
        parsed = parse_filename_or_none(stored_name)
        if parsed is None:
            raise NotFound(f"No file {filename!r} in registry {registry.slug!r}")
        resolved = self._resolve(registry, parsed.project)
        for file, upstream in resolved.files:
            if file.filename != stored_name:
                continue
            if isinstance(file, PypiFile):
                return self._pypi_download(file, resolved.settings, filename)
            return upstream
        raise NotFound(f"No file {filename!r} in registry {registry.slug!r}")

    def source_upstream(self, registry: Registry, project: str, filename: str) -> Upstream | None:
        """The source upstream the composite serves ``filename`` of ``project`` from; None
        when no source upstream does (PyPI's, or none). Fetches no file."""
        resolved = self._resolve(registry, project)
        for file, upstream in resolved.files:
            if file.filename == filename and not isinstance(file, PypiFile):
                return upstream
        return None

    def _pypi_download(
        self, file: PypiFile, settings: CompositeSettings, filename: str
    ) -> Download:
        is_metadata = filename.endswith(METADATA_SUFFIX)
        if settings.policy.pypi_files is PypiFiles.LINK:
            suffix = METADATA_SUFFIX if is_metadata else ""
            return Download(filename, None, redirect_url=file.url + suffix)
        return Download(filename, self._pypi.cached_file(file, metadata=is_metadata))

    def _resolve(self, registry: Registry, project: str) -> _Resolved:
        require_composite(registry)
        with self._sessions() as session:
            loaded = queries.composite_project(session, registry.id, project)
        settings = settings_from(loaded.upstreams, loaded.settings_row)
        private = loaded.private
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
        # A quarantined project's files still take its name (PyPI's stays hidden) but are
        # never served (PEP 792), as in the source registry itself.
        answers: list[tuple[Upstream, Sequence[IndexFile | PypiFile] | None]] = [
            (u, pypi_files if u.is_pypi else _servable(private, loaded.quarantined, u))
            for u in settings.upstreams
        ]
        now = self._now()
        files = resolve_project(project, answers, settings.policy, now)
        if not files and has_private and loaded.quarantined:
            return _Resolved([], settings, digest, valid_until, quarantined=True)
        if not files:
            raise NotFound(f"No project {project!r} in registry {registry.slug!r}")
        coming_of_age = cooldown_ends(project, pypi_files or [], settings.policy, now)
        if coming_of_age is not None:
            valid_until = coming_of_age if valid_until is None else min(valid_until, coming_of_age)
        return _Resolved(files, settings, digest, valid_until)


def _servable(
    private: dict[str, list[IndexFile]], quarantined: frozenset[str], upstream: Upstream
) -> list[IndexFile]:
    registry_id = upstream.registry_id or ""
    return [] if registry_id in quarantined else private.get(registry_id, [])


def _index_file(file: IndexFile | PypiFile, upstream: Upstream, link: bool) -> IndexFile:
    if isinstance(file, IndexFile):
        return dataclasses.replace(file, source=upstream.slug)
    # A PyPI file's fields are a subset of IndexFile's; its URL is only linked to when the
    # composite does not serve PyPI's bytes itself.
    fields = dataclasses.asdict(file) | {"url": file.url if link else None}
    return IndexFile(**fields, source=upstream.slug)


def _version(
    registry: Registry, settings: CompositeSettings, pypi_digest: str, served: list[str]
) -> int:
    parts = [str(registry.serial), pypi_digest, *served]
    parts += [f"{u.slug}:{u.serial}" for u in settings.upstreams]
    digest = hashlib.sha256("\n".join(parts).encode()).digest()
    return int.from_bytes(digest[:8], "big") >> 1
