"""What the web UI's Settings tab and tokens page change: a registry's fields and
visibility, deleting it, its read-only tokens, and organization API access tokens.

Each method checks the caller's scopes first (``core.permissions``). A token a user
creates never carries more than that user's own scopes.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from packyard.core.errors import NotFound, PermissionDenied, ValidationFailed
from packyard.core.models import Organization, Principal, Registry, RegistryType
from packyard.core.names import slugify
from packyard.core.permissions import Disclosure, require, require_in_organization
from packyard.core.scopes import Scope
from packyard.db.models import PackageRow, RegistryRow, TokenRow
from packyard.services.registries import RegistryService
from packyard.services.rows import registry_from_row
from packyard.services.tokens import IssuedToken, TokenService

MAX_NAME_LENGTH = 200
MAX_DESCRIPTION_LENGTH = 10_000
MAX_EMOJI_LENGTH = 16
_COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")


@dataclass(frozen=True, slots=True)
class RegistryForm:
    """The fields a person edits on the Settings tab or the New registry form."""

    name: str
    description: str = ""
    emoji: str | None = None
    color: str | None = None
    public: bool = False


@dataclass(frozen=True, slots=True)
class TokenListing:
    id: str
    description: str
    scopes: tuple[str, ...]
    created_at: datetime
    last_used_at: datetime | None
    created_by: str | None


def validate_form(form: RegistryForm) -> RegistryForm:
    """The form with blanks turned into None; raises ValidationFailed listing problems."""
    problems: list[str] = []
    name = form.name.strip()
    if not name:
        problems.append("A registry needs a name.")
    elif len(name) > MAX_NAME_LENGTH:
        problems.append(f"The name may have at most {MAX_NAME_LENGTH} characters.")
    else:
        try:
            slugify(name)
        except ValidationFailed as error:
            problems.append(error.message)
    if len(form.description) > MAX_DESCRIPTION_LENGTH:
        problems.append(f"The description may have at most {MAX_DESCRIPTION_LENGTH} characters.")
    emoji = (form.emoji or "").strip() or None
    if emoji is not None and len(emoji) > MAX_EMOJI_LENGTH:
        problems.append("The emoji may be a few characters at most.")
    color = (form.color or "").strip() or None
    if color is not None and not _COLOR.match(color):
        problems.append("The colour must look like #1a2b3c.")
    if any("\x00" in value for value in (name, form.description, emoji or "")):
        problems.append("Fields may not contain NUL characters.")
    if problems:
        raise ValidationFailed(problems[0], problems)
    return RegistryForm(name, form.description.strip(), emoji, color, form.public)


class RegistrySettingsService:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        registries: RegistryService,
        tokens: TokenService,
        now: Callable[[], datetime],
    ) -> None:
        self._sessions = sessions
        self._registries = registries
        self._tokens = tokens
        self._now = now

    def create_registry(
        self, principal: Principal, organization: Organization, form: RegistryForm
    ) -> Registry:
        """Create a source registry (``write_registries``); raises ValidationFailed."""
        require_in_organization(
            principal,
            Scope.WRITE_REGISTRIES,
            organization.id,
            organization.slug,
            Disclosure.INSTALLER,
        )
        valid = validate_form(form)
        return self._registries.create_registry(
            organization.slug,
            valid.name,
            public=valid.public,
            description=valid.description,
            emoji=valid.emoji,
            color=valid.color,
        )

    def update_registry(
        self, principal: Principal, registry: Registry, form: RegistryForm
    ) -> Registry:
        """Change every field of the form (``write_registries``); a new name gives a new
        slug. Raises ValidationFailed for bad values or a taken slug."""
        require(principal, Scope.WRITE_REGISTRIES, registry, Disclosure.INSTALLER)
        valid = validate_form(form)
        if registry.type is RegistryType.COMPOSITE and valid.public:
            raise ValidationFailed(
                "A composite registry is always private: it serves its private upstreams"
            )
        try:
            with self._sessions.begin() as session:
                row = session.get(RegistryRow, registry.id)
                if row is None:
                    raise NotFound(f"No registry {registry.slug!r}")
                row.name = valid.name
                row.slug = slugify(valid.name)
                row.description = valid.description
                row.emoji = valid.emoji
                row.color = valid.color
                if row.public != valid.public:
                    row.public = valid.public
                    row.serial += 1  # cached index pages carry the visibility
                session.flush()
                changed = registry_from_row(row, registry.organization_slug)
        except IntegrityError:
            raise ValidationFailed(
                f"Another registry of this organization is already called {valid.name!r}."
            ) from None
        return changed

    def delete_registry(self, principal: Principal, registry: Registry, typed_name: str) -> None:
        """Delete the registry, its packages and tokens (``delete_registries``), once the
        person has typed its name; raises ValidationFailed when the name does not match."""
        require(principal, Scope.DELETE_REGISTRIES, registry, Disclosure.INSTALLER)
        if typed_name.strip() != registry.name:
            raise ValidationFailed("Type the registry's name exactly to delete it.")
        with self._sessions.begin() as session:
            session.execute(delete(PackageRow).where(PackageRow.registry_id == registry.id))
            session.execute(delete(TokenRow).where(TokenRow.registry_id == registry.id))
            session.execute(delete(RegistryRow).where(RegistryRow.id == registry.id))

    def registry_tokens(self, principal: Principal, registry: Registry) -> list[TokenListing]:
        """The registry's read-only tokens, newest first (``write_registries``)."""
        require(principal, Scope.WRITE_REGISTRIES, registry, Disclosure.INSTALLER)
        return self._listing(TokenRow.registry_id == registry.id)

    def create_registry_token(
        self, principal: Principal, registry: Registry, description: str
    ) -> IssuedToken:
        """Mint a read-only token for the registry (``write_registries``)."""
        require(principal, Scope.WRITE_REGISTRIES, registry, Disclosure.INSTALLER)
        issued = self._tokens.create_registry_token(
            registry.organization_slug, registry.slug, _description(description)
        )
        self._mark_creator(issued, principal)
        return issued

    def revoke_registry_token(
        self, principal: Principal, registry: Registry, token_id: str
    ) -> None:
        require(principal, Scope.WRITE_REGISTRIES, registry, Disclosure.INSTALLER)
        self._revoke(token_id, TokenRow.registry_id == registry.id)

    def api_tokens(self, principal: Principal, organization: Organization) -> list[TokenListing]:
        """The organization's API access tokens a user may see: all of them for an admin
        (``write_registries``), their own for a member."""
        require_in_organization(
            principal, Scope.READ_PACKAGES, organization.id, organization.slug, Disclosure.INSTALLER
        )
        clauses = [TokenRow.organization_id == organization.id, TokenRow.registry_id.is_(None)]
        if Scope.WRITE_REGISTRIES not in principal.scopes:
            clauses.append(TokenRow.created_by == principal.user_id)
        return self._listing(*clauses)

    def create_api_token(
        self,
        principal: Principal,
        organization: Organization,
        scopes: frozenset[Scope],
        description: str,
    ) -> IssuedToken:
        """Mint an API access token with ``scopes``, which must be among the caller's own."""
        require_in_organization(
            principal, Scope.READ_PACKAGES, organization.id, organization.slug, Disclosure.INSTALLER
        )
        beyond = sorted(s.value for s in scopes - principal.scopes)
        if beyond:
            raise PermissionDenied(f"You cannot grant scopes you lack: {', '.join(beyond)}")
        issued = self._tokens.create_api_token(organization.slug, scopes, _description(description))
        self._mark_creator(issued, principal)
        return issued

    def revoke_api_token(
        self, principal: Principal, organization: Organization, token_id: str
    ) -> None:
        require_in_organization(
            principal, Scope.READ_PACKAGES, organization.id, organization.slug, Disclosure.INSTALLER
        )
        clauses = [TokenRow.organization_id == organization.id, TokenRow.registry_id.is_(None)]
        if Scope.WRITE_REGISTRIES not in principal.scopes:
            clauses.append(TokenRow.created_by == principal.user_id)
        self._revoke(token_id, *clauses)

    def _listing(self, *clauses: object) -> list[TokenListing]:
        with self._sessions() as session:
            rows = session.scalars(
                select(TokenRow).where(*clauses).order_by(TokenRow.created_at.desc())  # type: ignore[arg-type]
            ).all()
        return [
            TokenListing(
                r.id,
                r.description,
                tuple(sorted(r.scopes)),
                r.created_at,
                r.last_used_at,
                r.created_by,
            )
            for r in rows
        ]

    def _revoke(self, token_id: str, *clauses: object) -> None:
        with self._sessions.begin() as session:
            result = session.execute(
                delete(TokenRow).where(TokenRow.id == token_id, *clauses)  # type: ignore[arg-type]
            )
            if not getattr(result, "rowcount", 0):
                raise NotFound("No such token: it may have been revoked already")

    def _mark_creator(self, issued: IssuedToken, principal: Principal) -> None:
        if principal.user_id is None:
            return
        with self._sessions.begin() as session:
            session.execute(
                update(TokenRow)
                .where(TokenRow.id == issued.token.id)
                .values(created_by=principal.user_id)
            )


def _description(text: str) -> str:
    cleaned = text.strip()
    if len(cleaned) > 200:
        raise ValidationFailed("A token's description may have at most 200 characters.")
    return cleaned
