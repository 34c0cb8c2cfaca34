"""Organizations and registries: creating them and finding them for a caller."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from packyard.core.errors import NotFound, ValidationFailed
from packyard.core.models import Organization, Principal, Registry, RegistryType
from packyard.core.names import is_slug, slugify
from packyard.core.permissions import (
    Disclosure,
    authentication_required,
    require,
    require_in_organization,
)
from packyard.core.scopes import Scope
from packyard.db.models import OrganizationRow, PackageRow, RegistryRow, TokenRow
from packyard.services.rows import (
    new_registry_row,
    organization_from_row,
    registry_from_row,
    slug_taken,
)

# Built once: every request naming a registry runs it, and building the statement each time
# cost about as much as running it.
_REGISTRY_BY_SLUGS = (
    select(RegistryRow, OrganizationRow.slug)
    .join(OrganizationRow, RegistryRow.organization_id == OrganizationRow.id)
    .where(
        OrganizationRow.slug == bindparam("organization"),
        RegistryRow.slug == bindparam("registry"),
    )
)


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
        row = new_registry_row(
            organization.id,
            slug,
            name,
            RegistryType.SOURCE,
            self._now(),
            public=public,
            description=description,
            emoji=emoji,
            color=color,
        )
        try:
            with self._sessions.begin() as session:
                session.add(row)
        except IntegrityError:
            raise slug_taken(slug, organization_slug) from None
        return registry_from_row(row, organization.slug)

    def find_registry(self, organization_slug: str, registry_slug: str) -> Registry:
        """The registry, regardless of caller; raises NotFound."""
        with self._sessions() as session:
            found = session.execute(
                _REGISTRY_BY_SLUGS, {"organization": organization_slug, "registry": registry_slug}
            ).first()
        if found is None:
            raise NotFound(f"No registry {registry_slug!r} in organization {organization_slug!r}")
        return registry_from_row(found[0], found[1])

    def registry_for(
        self,
        principal: Principal,
        organization_slug: str,
        registry_slug: str,
        scope: Scope,
        disclosure: Disclosure = Disclosure.INSTALLER,
    ) -> Registry:
        """The registry if ``principal`` may use ``scope`` on it (``core.permissions``).

        An anonymous caller is asked to authenticate even for a registry that does not
        exist, so that nobody learns which names exist without a credential; anyone else
        gets the same NotFound for an unknown registry as for one they may not see.
        """
        try:
            if not (is_slug(organization_slug) and is_slug(registry_slug)):
                # Also keeps NUL and the like out of SQL.
                raise NotFound(
                    f"No registry {registry_slug!r} in organization {organization_slug!r}"
                )
            registry = self.find_registry(organization_slug, registry_slug)
        except NotFound:
            if principal.is_anonymous:
                raise authentication_required(disclosure) from None
            raise
        require(principal, scope, registry, disclosure)
        return registry

    def organization_for(
        self,
        principal: Principal,
        organization_slug: str,
        scope: Scope,
        disclosure: Disclosure = Disclosure.INSTALLER,
    ) -> Organization:
        """The organization if ``principal`` holds the organization-wide ``scope`` (such
        as listing or creating registries) there. Raises Unauthenticated, NotFound or
        PermissionDenied."""
        try:
            if not is_slug(organization_slug):  # also keeps NUL and the like out of SQL
                raise NotFound(f"No organization {organization_slug!r}")
            organization = self.get_organization(organization_slug)
        except NotFound:
            if principal.is_anonymous:
                raise authentication_required(disclosure) from None
            raise
        require_in_organization(principal, scope, organization.id, organization.slug, disclosure)
        return organization

    def list_registries(self, organization_slug: str) -> list[Registry]:
        organization = self.get_organization(organization_slug)
        with self._sessions() as session:
            rows = session.scalars(
                select(RegistryRow)
                .where(RegistryRow.organization_id == organization.id)
                .order_by(RegistryRow.created_at)
            ).all()
        return [registry_from_row(row, organization.slug) for row in rows]

    # The REST API: every call checks the caller with the API's rules (``core.permissions``).

    def api_list_registries(self, principal: Principal, organization_slug: str) -> list[Registry]:
        """The organization's registries, oldest first (``read_registries``)."""
        self.organization_for(principal, organization_slug, Scope.READ_REGISTRIES, Disclosure.API)
        return self.list_registries(organization_slug)

    def api_create_registry(
        self, principal: Principal, organization_slug: str, fields: RegistryFields
    ) -> Registry:
        """Create a source registry (``write_registries``); raises ValidationFailed for bad
        fields or a taken slug."""
        self.organization_for(principal, organization_slug, Scope.WRITE_REGISTRIES, Disclosure.API)
        _validate_fields(fields)
        return self.create_registry(
            organization_slug,
            fields.name or "",
            public=bool(fields.public),
            description=fields.description or "",
            emoji=fields.emoji,
            color=fields.color,
        )

    def api_update_registry(
        self,
        principal: Principal,
        organization_slug: str,
        registry_slug: str,
        fields: RegistryFields,
    ) -> Registry:
        """Change the fields named in ``fields.given`` (``write_registries``). A new name
        gives a new slug; the old one stops answering. Raises ValidationFailed for a taken
        slug or bad values."""
        registry = self.registry_for(
            principal, organization_slug, registry_slug, Scope.WRITE_REGISTRIES, Disclosure.API
        )
        _validate_fields(fields)
        if registry.type is RegistryType.COMPOSITE and fields.public:
            raise ValidationFailed(
                "A composite registry is always private: it serves its private upstreams",
                ["public: a composite registry cannot be public"],
            )
        try:
            with self._sessions.begin() as session:
                row = session.get(RegistryRow, registry.id)
                if row is None:
                    raise NotFound(
                        f"No registry {registry_slug!r} in organization {organization_slug!r}"
                    )
                _apply_fields(row, fields)
                session.flush()
                changed = registry_from_row(row, registry.organization_slug)
        except IntegrityError:
            raise ValidationFailed(
                f"A registry with slug {slugify(fields.name or '')!r} already exists in "
                f"{organization_slug!r}"
            ) from None
        return changed

    def api_get_registry(
        self, principal: Principal, organization_slug: str, registry_slug: str
    ) -> Registry:
        """One registry (``read_registries``); raises NotFound."""
        return self.registry_for(
            principal, organization_slug, registry_slug, Scope.READ_REGISTRIES, Disclosure.API
        )

    def api_delete_registry(
        self, principal: Principal, organization_slug: str, registry_slug: str
    ) -> Registry:
        """Delete the registry with its packages and registry tokens, in one transaction
        (``delete_registries``): its index answers 404 from the next request on. Stored
        bytes other registries share stay; unreferenced ones are garbage collected."""
        registry = self.registry_for(
            principal, organization_slug, registry_slug, Scope.DELETE_REGISTRIES, Disclosure.API
        )
        with self._sessions.begin() as session:
            session.execute(delete(PackageRow).where(PackageRow.registry_id == registry.id))
            session.execute(delete(TokenRow).where(TokenRow.registry_id == registry.id))
            session.execute(delete(RegistryRow).where(RegistryRow.id == registry.id))
        return registry


PYTHON_ECOSYSTEM = "python"
MAX_NAME_LENGTH = 200
MAX_DESCRIPTION_LENGTH = 10_000
MAX_EMOJI_LENGTH = 64
MAX_COLOR_LENGTH = 32


@dataclass(frozen=True, slots=True)
class RegistryFields:
    """Values given for a registry; ``given`` names those present in an update (so that
    ``emoji=None`` can clear an emoji while an absent ``emoji`` leaves it alone)."""

    given: frozenset[str]
    name: str | None = None
    ecosystem: str | None = None
    description: str | None = None
    emoji: str | None = None
    color: str | None = None
    public: bool | None = None


def _validate_fields(fields: RegistryFields) -> None:
    problems: list[str] = []
    if "name" in fields.given:
        if fields.name is None or not fields.name.strip():
            problems.append("name: a registry needs a name")
        else:
            try:
                slugify(fields.name)
            except ValidationFailed as error:
                problems.append(f"name: {error.message}")
    if "ecosystem" in fields.given and fields.ecosystem != PYTHON_ECOSYSTEM:
        problems.append(f"ecosystem: must be {PYTHON_ECOSYSTEM!r}, and cannot change")
    limits = {
        "name": MAX_NAME_LENGTH,
        "description": MAX_DESCRIPTION_LENGTH,
        "emoji": MAX_EMOJI_LENGTH,
        "color": MAX_COLOR_LENGTH,
    }
    for field_name, limit in limits.items():
        value = getattr(fields, field_name)
        if value is not None and len(value) > limit:
            problems.append(f"{field_name}: at most {limit} characters")
        if value is not None and "\x00" in value:
            problems.append(f"{field_name}: may not contain NUL characters")
    if problems:
        raise ValidationFailed("The registry's fields are not acceptable", problems)


def _apply_fields(row: RegistryRow, fields: RegistryFields) -> None:
    if "name" in fields.given and fields.name is not None:
        row.name = fields.name.strip()
        row.slug = slugify(fields.name)
    if "description" in fields.given:
        row.description = fields.description or ""
    if "emoji" in fields.given:
        row.emoji = fields.emoji
    if "color" in fields.given:
        row.color = fields.color
    if "public" in fields.given and fields.public is not None:
        row.public = fields.public
