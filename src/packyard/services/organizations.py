"""An organization's own settings (the switches admins set) and its people."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from packyard.core.errors import NotFound
from packyard.core.events import EventType, Subject, changed_fields
from packyard.core.models import Organization, OrganizationSwitches, Principal
from packyard.core.permissions import Disclosure, require_admin
from packyard.core.scopes import Scope
from packyard.db.members import switches_from_row
from packyard.db.tables import MembershipRow, OrganizationRow, UserRow
from packyard.services.events import record
from packyard.services.registries import RegistryService

SWITCHES = frozenset(
    {
        "teams_enabled",
        "members_can_create_registries",
        "members_can_delete_packages",
        "members_can_delete_registries",
    }
)


@dataclass(frozen=True, slots=True)
class OrganizationSettings:
    organization: Organization
    switches: OrganizationSwitches


@dataclass(frozen=True, slots=True)
class OrganizationUser:
    id: str
    email: str
    name: str
    admin: bool
    created_at: datetime


class OrganizationService:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        registries: RegistryService,
        now: Callable[[], datetime],
    ) -> None:
        self._sessions = sessions
        self._registries = registries
        self._now = now

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
            row = session.get(OrganizationRow, organization.id)
            if row is None:
                raise NotFound(f"No organization {organization_slug!r}")
            before = {name: getattr(row, name) for name in sorted(SWITCHES)}
            for name in SWITCHES & changes.keys():
                setattr(row, name, bool(changes[name]))
            switches = switches_from_row(row)
            changed = changed_fields(before, {name: getattr(row, name) for name in SWITCHES})
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
            rows = session.execute(
                select(UserRow, MembershipRow.admin)
                .join(MembershipRow, MembershipRow.user_id == UserRow.id)
                .where(MembershipRow.organization_id == organization.id)
                .order_by(UserRow.email)
            ).all()
        return [
            OrganizationUser(u.id, u.email, u.name or u.email, bool(admin), u.created_at)
            for u, admin in rows
        ]

    def _switches(self, organization_id: str) -> OrganizationSwitches:
        with self._sessions() as session:
            row = session.get(OrganizationRow, organization_id)
            return switches_from_row(row) if row is not None else OrganizationSwitches()
