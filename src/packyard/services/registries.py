"""Organizations and registries: creating, finding, changing and deleting them.

Each use case is one method, called alike by the REST API, the web UI and the command
line: it takes the caller's Principal and how much a refusal may disclose
(``core.permissions``), checks the fields once (``core.registries``) and owns its
transaction. Composite registries are created by ``services.composites``.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from packyard.core.errors import NotFound, ValidationFailed
from packyard.core.events import ORIGIN, EventType, Subject, changed_fields, registry_state
from packyard.core.models import Organization, Principal, Registry, RegistryType
from packyard.core.names import is_slug, slugify
from packyard.core.permissions import (
    OPERATOR,
    Disclosure,
    allowed,
    authentication_required,
    require,
    require_in_organization,
)
from packyard.core.registries import RegistryFields, check
from packyard.core.scopes import Scope
from packyard.core.webhooks import registry_json
from packyard.db import registries as queries
from packyard.db.members import grant_on_create
from packyard.services.events import record


class RegistryService:
    def __init__(self, *, sessions: sessionmaker[Session], now: Callable[[], datetime]) -> None:
        self._sessions = sessions
        self._now = now

    def create_organization(
        self, slug: str, name: str | None = None, by: Principal = OPERATOR
    ) -> Organization:
        """Create an organization; raises ValidationFailed for a bad or taken slug."""
        if not is_slug(slug):
            raise ValidationFailed(
                f"Organization slug {slug!r} must be lowercase letters, digits and single hyphens"
            )
        organization = Organization(str(uuid.uuid4()), slug, name or slug, self._now())
        try:
            with self._sessions.begin() as session:
                queries.add_organization(session, organization)
                record(
                    session,
                    by,
                    EventType.ORGANIZATION_CREATED,
                    organization_id=organization.id,
                    subject=Subject("organization", organization.id, slug),
                    changes=changed_fields({}, {"slug": slug, "name": organization.name}),
                    now=organization.created_at,
                )
        except IntegrityError:
            raise ValidationFailed(f"Organization {slug!r} already exists") from None
        return organization

    def get_organization(self, slug: str) -> Organization:
        with self._sessions() as session:
            found = queries.organization_by_slug(session, slug)
        if found is None:
            raise NotFound(f"No organization {slug!r}")
        return found

    def find_registry(self, organization_slug: str, registry_slug: str) -> Registry:
        """The registry, regardless of caller; raises NotFound."""
        with self._sessions() as session:
            found = queries.registry_by_slugs(session, organization_slug, registry_slug)
        if found is None:
            raise NotFound(f"No registry {registry_slug!r} in organization {organization_slug!r}")
        return found

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
        """Every registry of the organization, oldest first, whoever asks (the web UI
        shows those the visitor may read: ``core.permissions.allowed``)."""
        organization = self.get_organization(organization_slug)
        with self._sessions() as session:
            return queries.registries_of(session, organization)

    def registries(
        self,
        principal: Principal,
        organization_slug: str,
        disclosure: Disclosure = Disclosure.INSTALLER,
    ) -> list[Registry]:
        """The organization's registries, oldest first (``read_registries``)."""
        organization = self.organization_for(
            principal, organization_slug, Scope.READ_REGISTRIES, disclosure
        )
        with self._sessions() as session:
            found = queries.registries_of(session, organization)
        # Members with teams on see only the registries their teams were granted.
        return [r for r in found if allowed(principal, Scope.READ_REGISTRIES, r, disclosure)]

    def create(
        self,
        principal: Principal,
        organization_slug: str,
        fields: RegistryFields,
        disclosure: Disclosure = Disclosure.INSTALLER,
    ) -> Registry:
        """Create a source registry whose slug is the kebab-case of its name
        (``write_registries``); raises ValidationFailed for bad fields or a taken slug."""
        organization = self.organization_for(
            principal, organization_slug, Scope.WRITE_REGISTRIES, disclosure
        )
        valid = check(fields)
        try:
            with self._sessions.begin() as session:
                created = queries.add_registry(
                    session, organization, valid, RegistryType.SOURCE, self._now()
                )
                # Buildkite's rule: the teams named, and the creator's teams, may write.
                grant_on_create(
                    session,
                    organization.id,
                    created.id,
                    fields.team_ids,
                    principal.user_id,
                    self._now(),
                )
                record_registry_created(session, principal, created, self._now())
                return created
        except IntegrityError:
            raise slug_taken(slugify(valid.name or ""), organization.slug) from None

    def update(
        self,
        principal: Principal,
        organization_slug: str,
        registry_slug: str,
        fields: RegistryFields,
        disclosure: Disclosure = Disclosure.INSTALLER,
    ) -> Registry:
        """Change the fields named in ``fields.given`` (``write_registries``). A new name
        gives a new slug, and the old one stops answering; a change of visibility bumps
        the serial. Raises ValidationFailed for bad values or a taken slug."""
        registry = self.registry_for(
            principal, organization_slug, registry_slug, Scope.WRITE_REGISTRIES, disclosure
        )
        valid = check(fields)
        ensure_private(registry.type, bool(valid.public))
        try:
            with self._sessions.begin() as session:
                changed = queries.change_registry(session, registry, valid)
                record_registry_changed(session, principal, registry, changed, self._now())
                return changed
        except IntegrityError:
            raise slug_taken(slugify(valid.name or ""), organization_slug) from None

    def delete(
        self,
        principal: Principal,
        organization_slug: str,
        registry_slug: str,
        disclosure: Disclosure = Disclosure.INSTALLER,
    ) -> Registry:
        """Delete the registry with its packages and registry tokens, in one transaction
        (``delete_registries``): its index answers 404 from the next request on. Stored
        bytes other registries share stay; unreferenced ones are garbage collected."""
        registry = self.registry_for(
            principal, organization_slug, registry_slug, Scope.DELETE_REGISTRIES, disclosure
        )
        with self._sessions.begin() as session:
            queries.delete_registry(session, registry.id)
            record(
                session,
                principal,
                EventType.REGISTRY_DELETED,
                organization_id=registry.organization_id,
                subject=_subject(registry),
                registry=registry,
                changes=changed_fields(registry_state(registry), {}),
                now=self._now(),
            )
        return registry


def _subject(registry: Registry) -> Subject:
    return Subject("registry", registry.id, registry.slug)


def record_registry_created(
    session: Session, principal: Principal, registry: Registry, now: datetime
) -> None:
    """The audit entry of a new registry, source or composite."""
    record(
        session,
        principal,
        EventType.REGISTRY_CREATED,
        organization_id=registry.organization_id,
        subject=_subject(registry),
        registry=registry,
        changes=changed_fields({}, registry_state(registry)),
        now=now,
    )


def record_registry_changed(
    session: Session, principal: Principal, before: Registry, after: Registry, now: datetime
) -> None:
    """REGISTRY_UPDATED with the fields that changed, and REGISTRY_VISIBILITY_CHANGED too
    when it went public or private (Buildkite logs both)."""
    changes = changed_fields(registry_state(before), registry_state(after))
    if not changes:
        return
    base_url = ORIGIN.get().base_url
    for event_type in (EventType.REGISTRY_UPDATED, EventType.REGISTRY_VISIBILITY_CHANGED):
        if event_type is EventType.REGISTRY_VISIBILITY_CHANGED and "public" not in changes:
            continue
        record(
            session,
            principal,
            event_type,
            organization_id=after.organization_id,
            subject=_subject(after),
            registry=after,
            changes=changes,
            now=now,
            webhook={
                "registry": registry_json(after, base_url),
                "changes": {name: list(pair) for name, pair in changes.items()},
            },
        )


def ensure_private(registry_type: RegistryType, public: bool) -> None:
    """Raise ValidationFailed when asked to make a composite public: it would serve its
    private upstreams to anyone."""
    if registry_type is RegistryType.COMPOSITE and public:
        raise ValidationFailed(
            "A composite registry is always private: it serves its private upstreams",
            ["public: a composite registry cannot be public"],
        )


def slug_taken(slug: str, organization_slug: str) -> ValidationFailed:
    """The error for a registry slug already used in the organization."""
    return ValidationFailed(
        f"A registry with slug {slug!r} already exists in {organization_slug!r}"
    )
