"""What the simple index shows, for source and composite registries alike: the one entry
the web layer asks (``project_page``, ``project_list``, ``cached_version``,
``current_version``).

A source registry's project list is versioned by its serial, and a project's page by its
project's serial (``services.project_serials``), both changed in the same transaction as
anything the page shows; a composite's are answered by ``services.composite_index``, with
versions of their own.

The project list of a large registry is the expensive answer (100,000 names): concurrent
requests for the same registry and serial share one query (``SingleFlight``).
"""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from packyard.core.errors import NotFound
from packyard.core.index import ProjectList, ProjectPage, Versioned, project_page
from packyard.core.models import Registry, RegistryType
from packyard.db import index as queries
from packyard.db.lifecycle import project_state
from packyard.services.composite_index import CompositeIndexService
from packyard.services.project_serials import ProjectSerials
from packyard.services.single_flight import SingleFlight


class IndexService:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        composite: CompositeIndexService,
        project_serials: ProjectSerials,
    ) -> None:
        self._sessions = sessions
        self._composite = composite
        self._project_serials = project_serials
        self._listings: SingleFlight[tuple[str, int], ProjectList] = SingleFlight()

    def cached_version(self, registry: Registry, project: str) -> int | None:
        """The version ``project_page`` (``project=""``: ``project_list``) would answer
        with, when known without a query; None otherwise. Safe on the event loop."""
        if registry.type is RegistryType.COMPOSITE:
            return self._composite.cached_version(registry, project)
        if project:
            return self._project_serials.cached(registry, project)
        return registry.serial

    def current_version(self, registry: Registry, project: str) -> int | None:
        """The version a source registry's ``project_page`` answers with, known after at
        most one small query (run it in the thread pool), so that a page cached under it
        is found without reading the project's files; None for a composite (its version
        comes with its page)."""
        if registry.type is RegistryType.COMPOSITE:
            return None
        return self._project_serials.current(registry, project)

    def project_list(self, registry: Registry) -> Versioned[ProjectList]:
        """The registry's projects; concurrent calls for the same source registry and
        serial share one query and one ProjectList."""
        if registry.type is RegistryType.COMPOSITE:
            return self._composite.project_list(registry)
        listing = self._listings.run(
            (registry.id, registry.serial), lambda: self._read_project_list(registry)
        )
        return Versioned(listing, registry.serial)

    def _read_project_list(self, registry: Registry) -> ProjectList:
        with self._sessions() as session:
            return ProjectList(queries.project_names(session, [registry.id]))

    def project_page(self, registry: Registry, project: str) -> Versioned[ProjectPage]:
        """The files of ``project`` (normalised: the web layer redirects other spellings);
        raises NotFound, and for a composite UpstreamError when only PyPI could answer and
        cannot be reached."""
        if registry.type is RegistryType.COMPOSITE:
            return self._composite.project_page(registry, project)
        # The version is read before the files: a change committed in between makes the
        # page newer than its version, never older, so no reader is served a stale page.
        version = self._project_serials.current(registry, project)
        with self._sessions() as session:
            files = queries.project_files(session, registry.id, project)
            status = project_state(session, registry.id, project) if files else None
        if not files:
            raise NotFound(f"No project {project!r} in registry {registry.slug!r}")
        return Versioned(project_page(project, files, status), version)
