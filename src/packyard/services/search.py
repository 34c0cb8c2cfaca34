"""Finding projects across every registry of an organization that the caller may read, and
only those: the REST API (``/search``), the web UI's search box and ``packyard search``.

Which registries a caller may read is ``core.permissions.allowed`` with ``read_packages``,
asked of each registry of the organization; the query (``db/search.py``) never looks
beyond them. A caller of another organization learns nothing (NotFound).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from packyard.core.errors import NotFound
from packyard.core.models import Principal, PrincipalKind, Registry, RegistryType
from packyard.core.names import normalize_project
from packyard.core.permissions import Disclosure, allowed, authentication_required
from packyard.core.scopes import Scope
from packyard.db import registries as registry_queries
from packyard.db import search as queries
from packyard.services.registries import RegistryService

DEFAULT_PER_PAGE = 30
MAX_PER_PAGE = 100
MAX_QUERY_LENGTH = 200


@dataclass(frozen=True, slots=True)
class SearchResult:
    registry: Registry
    project: str  # PEP 503 normalised
    name: str
    version: str  # of the newest file
    summary: str
    keywords: str


@dataclass(frozen=True, slots=True)
class SearchPage:
    query: str
    results: list[SearchResult]
    page: int
    per_page: int
    has_next: bool


class SearchService:
    def __init__(self, sessions: sessionmaker[Session], registries: RegistryService) -> None:
        self._sessions = sessions
        self._registries = registries

    def search(
        self,
        principal: Principal,
        organization_slug: str,
        query: str,
        *,
        page: int = 1,
        per_page: int = DEFAULT_PER_PAGE,
        disclosure: Disclosure = Disclosure.INSTALLER,
    ) -> SearchPage:
        """Page ``page`` of the projects matching ``query``, best first.

        Raises NotFound for an unknown organization; through the REST API also
        Unauthenticated for an anonymous caller and NotFound for one of another
        organization.
        """
        readable = self._readable(principal, organization_slug, disclosure)
        page = max(1, page)
        per_page = max(1, min(per_page, MAX_PER_PAGE))
        text = query.replace("\x00", "")[:MAX_QUERY_LENGTH]
        by_id = {registry.id: registry for registry in readable}
        with self._sessions() as session:
            hits = queries.search(
                session,
                list(by_id),
                text,
                normalize_project(text.strip()),
                limit=per_page + 1,
                offset=(page - 1) * per_page,
            )
        results = [
            SearchResult(
                by_id[hit.registry_id],
                hit.project,
                hit.name,
                hit.version,
                hit.summary,
                hit.keywords,
            )
            for hit in hits[:per_page]
        ]
        return SearchPage(text, results, page, per_page, has_next=len(hits) > per_page)

    def _readable(
        self, principal: Principal, organization_slug: str, disclosure: Disclosure
    ) -> list[Registry]:
        """The source registries of the organization the caller may read packages of.

        The REST API (``Disclosure.API``) answers only the organization's own credentials;
        the web UI shows anyone the public registries too, as its other pages do."""
        if principal.is_anonymous and disclosure is Disclosure.API:
            raise authentication_required(disclosure)
        organization = self._registries.get_organization(organization_slug)
        outsider = principal.organization_id != organization.id
        if (
            outsider
            and disclosure is Disclosure.API
            and principal.kind is not PrincipalKind.OPERATOR
        ):
            raise NotFound(f"No organization {organization_slug!r}")
        with self._sessions() as session:
            registries = registry_queries.registries_of(session, organization)
        return [
            registry
            for registry in registries
            if registry.type is RegistryType.SOURCE
            and allowed(principal, Scope.READ_PACKAGES, registry, disclosure)
        ]
