"""An organization's own settings (the switches admins set) and its people."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from packyard.core.events import EventType, Subject, changed_fields
from packyard.core.models import Organization, OrganizationSwitches, OrganizationUser, Principal
from packyard.core.permissions import Disclosure, require_admin
from packyard.core.scopes import Scope
from packyard.db import members as queries
from packyard.services.events import record
from packyard.services.scoped import ScopedService


@dataclass(frozen=True, slots=True)
class OrganizationSettings:
    organization: Organization
    switches: OrganizationSwitches


class OrganizationService(ScopedService):
    def settings(self, principal: Principal, organization_slug: str) -> OrganizationSettings:
        """The organization and its switches (any member, ``read_registries``)."""
        organization = self._registries.organization_for(
            principal, organization_slug, Scope.READ_REGISTRIES, Disclosure.API
        )
        return OrganizationSettings(organization, self._switches(organization.id))

    def change(
        self, principal: Principal, organization_slug: str, changes: dict[str, bool]
    ) -> OrganizationSettings:
        """Set the switches named in ``changes`` (admins, ``write_registries``)."""
        organization = self._registries.organization_for(
            principal, organization_slug, Scope.READ_REGISTRIES, Disclosure.API
        )
        require_admin(principal, Scope.WRITE_REGISTRIES, organization.id, organization.slug)
        with self._sessions.begin() as session:
            before, switches = queries.set_switches(session, organization.id, changes)
            changed = changed_fields(dataclasses.asdict(before), dataclasses.asdict(switches))
            if changed:
                record(
                    session,
                    principal,
                    EventType.ORGANIZATION_UPDATED,
                    organization_id=organization.id,
                    subject=Subject("organization", organization.id, organization.slug),
                    changes=changed,
                    now=self._now(),
                )
        return OrganizationSettings(organization, switches)

    def users(self, principal: Principal, organization_slug: str) -> list[OrganizationUser]:
        """The organization's people, by email (admins, ``read_teams``)."""
        organization = self._registries.organization_for(
            principal, organization_slug, Scope.READ_TEAMS, Disclosure.API
        )
        require_admin(principal, Scope.READ_TEAMS, organization.id, organization.slug)
        with self._sessions() as session:
            return queries.organization_users(session, organization.id)

    def _switches(self, organization_id: str) -> OrganizationSwitches:
        with self._sessions() as session:
            return queries.organization_switches(session, organization_id)
