"""Organizations and registries: creating them and finding them for a caller."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from packyard.core.errors import NotFound, ValidationFailed
from packyard.core.models import Organization, Principal, Registry, RegistryType
from packyard.core.names import is_slug, slugify
from packyard.core.permissions import Action, check_registry_access
from packyard.db.models import OrganizationRow, RegistryRow
from packyard.services.rows import organization_from_row, registry_from_row


class RegistryService:
    def __init__(self, sessions: sessionmaker[Session], now: Callable[[], datetime]) -> None:
        self._sessions = sessions
        self._now = now

    def create_organization(self, slug: str, name: str | None = None) -> Organization:
        """Create an organization; raises ValidationFailed for a bad or taken slug."""
        if not is_slug(slug):
            raise ValidationFailed(
                f"Organization slug {slug!r} must be lowercase letters, digits and single hyphens"
            )
        row = OrganizationRow(
            id=str(uuid.uuid4()), slug=slug, name=name or slug, created_at=self._now()
        )
        try:
            with self._sessions.begin() as session:
                session.add(row)
        except IntegrityError:
            raise ValidationFailed(f"Organization {slug!r} already exists") from None
        return organization_from_row(row)

    def get_organization(self, slug: str) -> Organization:
        with self._sessions() as session:
            row = session.scalar(select(OrganizationRow).where(OrganizationRow.slug == slug))
            if row is None:
                raise NotFound(f"No organization {slug!r}")
            return organization_from_row(row)

    def create_registry(
        self,
        organization_slug: str,
        name: str,
        *,
        public: bool = False,
        description: str = "",
        emoji: str | None = None,
        color: str | None = None,
    ) -> Registry:
        """Create a source registry whose slug is the kebab-case of ``name``.

        Raises NotFound for an unknown organization, ValidationFailed for a taken slug.
        """
        slug = slugify(name)
        organization = self.get_organization(organization_slug)
        row = RegistryRow(
            id=str(uuid.uuid4()),
            organization_id=organization.id,
            slug=slug,
            name=name.strip(),
            ecosystem="python",
            description=description,
            emoji=emoji,
            color=color,
            public=public,
            type=RegistryType.SOURCE.value,
            serial=0,
            created_at=self._now(),
        )
        try:
            with self._sessions.begin() as session:
                session.add(row)
        except IntegrityError:
            raise ValidationFailed(
                f"A registry with slug {slug!r} already exists in {organization_slug!r}"
            ) from None
        return registry_from_row(row, organization.slug)

    def find_registry(self, organization_slug: str, registry_slug: str) -> Registry:
        """The registry, regardless of caller; raises NotFound."""
        with self._sessions() as session:
            found = session.execute(
                select(RegistryRow, OrganizationRow.slug)
                .join(OrganizationRow, RegistryRow.organization_id == OrganizationRow.id)
                .where(OrganizationRow.slug == organization_slug, RegistryRow.slug == registry_slug)
            ).first()
        if found is None:
            raise NotFound(f"No registry {registry_slug!r} in organization {organization_slug!r}")
        return registry_from_row(found[0], found[1])

    def registry_for(
        self, principal: Principal, organization_slug: str, registry_slug: str, action: Action
    ) -> Registry:
        """The registry if ``principal`` may perform ``action`` on it.

        An anonymous caller is asked to authenticate even for a registry that does not
        exist, so that nobody learns which names exist without a credential.
        """
        try:
            registry = self.find_registry(organization_slug, registry_slug)
        except NotFound:
            if principal.is_anonymous:
                check_registry_access(principal, action, _UNKNOWN_REGISTRY)
            raise
        check_registry_access(principal, action, registry)
        return registry

    def list_registries(self, organization_slug: str) -> list[Registry]:
        organization = self.get_organization(organization_slug)
        with self._sessions() as session:
            rows = session.scalars(
                select(RegistryRow)
                .where(RegistryRow.organization_id == organization.id)
                .order_by(RegistryRow.created_at)
            ).all()
        return [registry_from_row(row, organization.slug) for row in rows]


# Stands in for a missing registry when an anonymous caller must be asked for credentials.
_UNKNOWN_REGISTRY = Registry(
    id="",
    organization_id="",
    organization_slug="",
    slug="",
    name="",
    ecosystem="python",
    description="",
    emoji=None,
    color=None,
    public=False,
    type=RegistryType.SOURCE,
    serial=0,
    created_at=datetime.min,
)
