"""Reading the audit log: an organization's entries, newest first, in cursor pages.

Only organization admins and organization tokens holding ``read_audit_events`` may read it
(``core.permissions.allowed_in_organization`` names no other). Entries are written by
``services.events.record`` alone.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from packyard.core.events import AuditEntry, AuditFilter
from packyard.core.models import Organization, Principal
from packyard.core.permissions import Disclosure
from packyard.core.scopes import Scope
from packyard.db import audit as queries
from packyard.services.registries import RegistryService

DEFAULT_PER_PAGE = 50
MAX_PER_PAGE = 500


@dataclass(frozen=True, slots=True)
class AuditPage:
    organization: Organization
    items: list[AuditEntry]
    next_cursor: int | None  # pass as ``after`` for the next, older page


class AuditService:
    def __init__(self, sessions: sessionmaker[Session], registries: RegistryService) -> None:
        self._sessions = sessions
        self._registries = registries

    def events(
        self,
        principal: Principal,
        organization_slug: str,
        wanted: AuditFilter,
        *,
        after: int | None = None,
        per_page: int = DEFAULT_PER_PAGE,
        disclosure: Disclosure = Disclosure.API,
    ) -> AuditPage:
        """The entries matching ``wanted``, newest first, older than the cursor ``after``
        (``read_audit_events``; raises Unauthenticated, NotFound or PermissionDenied)."""
        organization = self._registries.organization_for(
            principal, organization_slug, Scope.READ_AUDIT_EVENTS, disclosure
        )
        size = max(1, min(per_page, MAX_PER_PAGE))
        with self._sessions() as session:
            found = queries.entries(session, organization.id, wanted, after, size + 1)
        items = found[:size]
        more = len(found) > size
        return AuditPage(organization, items, items[-1].seq if more and items else None)
