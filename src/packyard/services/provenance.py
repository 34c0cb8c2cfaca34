"""Serving PEP 740 provenance: the Integrity API's answer for one file
(``GET /{org}/{registry}/pypi/integrity/{project}/{version}/{filename}/provenance``).

A source registry answers from the file's row (``services.attestations`` verified it at
publish time); a composite from the source upstream that serves the file. PyPI's files in
a composite carry PyPI's own provenance URL in the index, so none is answered here.
"""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from packyard.core.errors import NotFound
from packyard.core.models import Registry, RegistryType
from packyard.core.names import normalize_project, normalize_version
from packyard.db.index import stored_provenance
from packyard.services.composite_index import CompositeIndexService


class ProvenanceService:
    def __init__(self, sessions: sessionmaker[Session], composite: CompositeIndexService) -> None:
        self._sessions = sessions
        self._composite = composite

    def provenance(self, registry: Registry, project: str, version: str, filename: str) -> str:
        """The provenance object (JSON) of ``filename`` of ``project`` ``version`` in a
        registry the caller may read. Raises NotFound when the file has none."""
        missing = NotFound(f"No provenance for {filename} of {project} {version}")
        normalized_project = normalize_project(project)
        normalized_version = normalize_version(version) or version
        source_id = registry.id
        if registry.type is RegistryType.COMPOSITE:
            upstream = self._composite.source_upstream(registry, normalized_project, filename)
            if upstream is None or upstream.registry_id is None:
                raise missing
            source_id = upstream.registry_id
        with self._sessions() as session:
            provenance = stored_provenance(
                session, source_id, normalized_project, normalized_version, filename
            )
        if provenance is None:
            raise missing
        return provenance
