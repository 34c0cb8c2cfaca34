"""Tokens: organization access tokens (scopes over the whole organization) and read-only
registry tokens; minting, listing, describing, revoking, and turning a secret back into a
Principal.

Each use case is one method whoever calls it (REST API, web UI, command line): it takes
the caller's Principal and checks it through ``core.permissions``. A token never carries
more scopes than its creator holds, and records who made it (``created_by_token``,
``created_by_user``) in the transaction that stores it.

A secret is ``pky_`` plus 32 random bytes, urlsafe; only its SHA256 is stored, so a leaked
database yields no usable token. Lookups go by that hash, which is already constant-time
with respect to the secret's content.
"""

from __future__ import annotations

import dataclasses
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from packyard.core.errors import NotFound, PermissionDenied, Unauthenticated, ValidationFailed
from packyard.core.events import EventType, Subject, changed_fields
from packyard.core.models import Principal, PrincipalKind, Registry, Token
from packyard.core.names import looks_like_id
from packyard.core.permissions import (
    Disclosure,
    authentication_required,
    is_admin,
    useful_scopes,
)
from packyard.core.scopes import Scope
from packyard.db import tokens as queries
from packyard.db.tokens import hash_secret
from packyard.services.events import record
from packyard.services.oidc import MINTED_PREFIX, OidcService
from packyard.services.oidc_keys import looks_like_jwt
from packyard.services.registries import RegistryService
from packyard.services.token_usage import TokenUsage

TOKEN_PREFIX = "pky_"
MAX_SECRET_LENGTH = 256
MAX_DESCRIPTION_LENGTH = 1000


@dataclass(frozen=True, slots=True)
class IssuedToken:
    """A token just created, with its secret: the only moment the secret is known."""

    token: Token
    secret: str


class TokenService:
    def __init__(
        self,
        *,
        sessions: sessionmaker[Session],
        registries: RegistryService,
        now: Callable[[], datetime],
        usage: TokenUsage | None = None,
        oidc: OidcService | None = None,
    ) -> None:
        self._sessions = sessions
        self._oidc = oidc
        self._registries = registries
        self._now = now
        self.usage = usage if usage is not None else TokenUsage(sessions, now)

    def authenticate(self, secret: str, base_url: str | None = None) -> Principal:
        """The Principal a secret stands for; raises Unauthenticated for an unknown one.
        OIDC credentials (a CI job's JWT, a minted token) go to services.oidc, which
        needs the server's ``base_url`` to check a JWT's audience."""
        if self._oidc is not None:
            if looks_like_jwt(secret):
                return self._oidc.one_phase_principal(secret, base_url)
            if secret.startswith(MINTED_PREFIX):
                return self._oidc.minted_principal(secret)
        if not secret or len(secret) > MAX_SECRET_LENGTH:
            raise Unauthenticated("Invalid token")
        with self._sessions() as session:
            found = queries.principal_by_secret(session, hash_secret(secret))
        if found is None:
            raise Unauthenticated("Invalid token: it is unknown or has been revoked")
        if found.token_id is not None:
            self.usage.record(found.token_id)
        return found

    # Organization access tokens.

    def access_tokens(
        self,
        principal: Principal,
        organization_slug: str,
        disclosure: Disclosure = Disclosure.INSTALLER,
    ) -> list[Token]:
        """The organization's access tokens the caller may see, oldest first: all of them
        with ``write_registries``, otherwise those the caller made."""
        organization = self._registries.organization_for(
            principal, organization_slug, Scope.READ_PACKAGES, disclosure
        )
        with self._sessions() as session:
            found = queries.access_tokens(session, organization.id, _only_own(principal))
        return [self._with_usage(token) for token in found]

    def create_access_token(
        self,
        principal: Principal,
        organization_slug: str,
        scopes: frozenset[Scope],
        description: str = "",
        disclosure: Disclosure = Disclosure.INSTALLER,
        *,
        for_user: str | None = None,
    ) -> IssuedToken:
        """Mint an access token with ``scopes``, which must be among the caller's own. A
        person's token acts for them (never more than they may do); the command line
        makes one for ``for_user``, or an organization token without it."""
        organization = self._registries.organization_for(
            principal, organization_slug, Scope.READ_PACKAGES, disclosure
        )
        if not scopes:
            raise ValidationFailed("An API access token needs at least one scope")
        beyond = sorted(s.value for s in scopes - useful_scopes(principal))
        if beyond:
            raise PermissionDenied(f"You cannot grant scopes you lack: {', '.join(beyond)}")
        owner = for_user if principal.kind is PrincipalKind.OPERATOR else _acting_for(principal)
        return self._issue(principal, organization.id, None, scopes, description, owner)

    def revoke_access_token(
        self,
        principal: Principal,
        organization_slug: str,
        token_id: str,
        disclosure: Disclosure = Disclosure.INSTALLER,
    ) -> None:
        """Revoke an organization access token: any with ``write_registries``, otherwise
        one the caller made."""
        organization = self._registries.organization_for(
            principal, organization_slug, Scope.READ_PACKAGES, disclosure
        )
        with self._sessions.begin() as session:
            # Recorded first: a token revoking itself is still there to name the actor.
            token = queries.token_by_id(session, token_id) if looks_like_id(token_id) else None
            if token is not None:
                self._record(session, principal, EventType.API_ACCESS_TOKEN_DELETED, token)
            if not queries.delete_access_token(
                session, organization.id, token_id, _only_own(principal)
            ):
                raise NotFound("No such token: it may have been revoked already")

    # Read-only registry tokens: managed with ``write_registries`` on the registry.

    def registry_tokens(
        self,
        principal: Principal,
        organization_slug: str,
        registry_slug: str,
        disclosure: Disclosure = Disclosure.INSTALLER,
    ) -> RegistryTokens:
        """The read-only tokens of a registry, oldest first."""
        registry = self._manageable(principal, organization_slug, registry_slug, disclosure)
        with self._sessions() as session:
            found = queries.registry_tokens(session, registry.id)
        return RegistryTokens(registry, [self._with_usage(token) for token in found])

    def create_registry_token(
        self,
        principal: Principal,
        organization_slug: str,
        registry_slug: str,
        description: str = "",
        disclosure: Disclosure = Disclosure.INSTALLER,
    ) -> tuple[Registry, IssuedToken]:
        """Mint a read-only token for the registry."""
        registry = self._manageable(principal, organization_slug, registry_slug, disclosure)
        issued = self._issue(
            principal, registry.organization_id, registry, frozenset(), description
        )
        return registry, issued

    def registry_token(
        self,
        principal: Principal,
        organization_slug: str,
        registry_slug: str,
        token_id: str,
        disclosure: Disclosure = Disclosure.INSTALLER,
    ) -> tuple[Registry, Token]:
        """One token of the registry; raises NotFound."""
        registry = self._manageable(principal, organization_slug, registry_slug, disclosure)
        with self._sessions() as session:
            token = _found(
                queries.registry_token(session, registry.id, token_id), registry, token_id
            )
        return registry, self._with_usage(token)

    def describe_registry_token(
        self,
        principal: Principal,
        organization_slug: str,
        registry_slug: str,
        token_id: str,
        description: str,
        disclosure: Disclosure = Disclosure.INSTALLER,
    ) -> tuple[Registry, Token]:
        """Change a registry token's description; raises NotFound."""
        registry = self._manageable(principal, organization_slug, registry_slug, disclosure)
        cleaned = _checked_description(description)
        with self._sessions.begin() as session:
            before = _found(
                queries.registry_token(session, registry.id, token_id), registry, token_id
            )
            token = queries.describe_registry_token(session, registry.id, token_id, cleaned)
            token = _found(token, registry, token_id)
            changes = changed_fields(
                {"description": before.description}, {"description": token.description}
            )
            if changes:
                self._record(
                    session, principal, EventType.REGISTRY_TOKEN_UPDATED, token, registry, changes
                )
        return registry, self._with_usage(token)

    def revoke_registry_token(
        self,
        principal: Principal,
        organization_slug: str,
        registry_slug: str,
        token_id: str,
        disclosure: Disclosure = Disclosure.INSTALLER,
    ) -> None:
        """Delete a registry token: it stops working with the next request."""
        registry = self._manageable(principal, organization_slug, registry_slug, disclosure)
        with self._sessions.begin() as session:
            token = queries.registry_token(session, registry.id, token_id)
            if token is not None:
                self._record(session, principal, EventType.REGISTRY_TOKEN_DELETED, token, registry)
            if not looks_like_id(token_id) or not queries.delete_registry_token(
                session, registry.id, token_id
            ):
                raise NotFound(f"No token {token_id!r} in registry {registry.slug!r}")

    # The caller's own token.

    def current_token(self, principal: Principal) -> Token:
        """The token the caller authenticated with; raises Unauthenticated without one."""
        if principal.token_id is None:
            raise authentication_required(Disclosure.API)
        with self._sessions() as session:
            token = queries.token_by_id(session, principal.token_id)
        if token is None:
            raise Unauthenticated("Invalid token: it is unknown or has been revoked")
        return self._with_usage(token)

    def revoke_current_token(self, principal: Principal) -> None:
        """Delete the token the caller authenticated with."""
        if principal.token_id is None:
            raise authentication_required(Disclosure.API)
        with self._sessions.begin() as session:
            token = queries.token_by_id(session, principal.token_id)
            if token is not None:
                deleted = (
                    EventType.API_ACCESS_TOKEN_DELETED
                    if token.registry_id is None
                    else EventType.REGISTRY_TOKEN_DELETED
                )
                self._record(session, principal, deleted, token)
            queries.delete_token(session, principal.token_id)

    def _manageable(
        self,
        principal: Principal,
        organization_slug: str,
        registry_slug: str,
        disclosure: Disclosure,
    ) -> Registry:
        return self._registries.registry_for(
            principal, organization_slug, registry_slug, Scope.WRITE_REGISTRIES, disclosure
        )

    def _issue(
        self,
        creator: Principal,
        organization_id: str,
        registry: Registry | None,
        scopes: frozenset[Scope],
        description: str,
        user_id: str | None = None,
    ) -> IssuedToken:
        secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
        with self._sessions.begin() as session:
            token = queries.add_token(
                session,
                queries.NewToken(
                    organization_id=organization_id,
                    registry_id=registry.id if registry is not None else None,
                    secret_sha256=hash_secret(secret),
                    scopes=scopes,
                    description=_checked_description(description),
                    created_by_token=creator.token_id,
                    created_by_user=creator.user_id,
                    created_at=self._now(),
                    user_id=user_id,
                ),
            )
            created = (
                EventType.API_ACCESS_TOKEN_CREATED
                if registry is None
                else EventType.REGISTRY_TOKEN_CREATED
            )
            fields = {"description": token.description, "scopes": sorted(token.scopes)}
            if user_id is not None:
                fields["user_id"] = user_id
            # Never the secret: the log names the token by id and description only.
            self._record(session, creator, created, token, registry, changed_fields({}, fields))
        return IssuedToken(token, secret)

    def _record(
        self,
        session: Session,
        principal: Principal,
        event_type: EventType,
        token: Token,
        registry: Registry | None = None,
        changes: dict[str, tuple[object, object]] | None = None,
    ) -> None:
        record(
            session,
            principal,
            event_type,
            organization_id=token.organization_id,
            subject=Subject("token", token.id, token.description),
            registry=registry,
            changes=changes,
            now=self._now(),
        )

    def _with_usage(self, token: Token) -> Token:
        pending = self.usage.pending(token.id)
        if pending is None or (token.last_used_at is not None and token.last_used_at >= pending):
            return token
        return dataclasses.replace(token, last_used_at=pending)


@dataclass(frozen=True, slots=True)
class RegistryTokens:
    registry: Registry
    tokens: list[Token]


def _only_own(principal: Principal) -> str | None:
    """The user whose tokens alone the caller may see and revoke; None for all of them."""
    if is_admin(principal):
        return None
    return principal.user_id or ""


def _acting_for(principal: Principal) -> str | None:
    """Whom a token made by ``principal`` acts for: the person behind a signed-in user or
    a person's token (so no token outgrows its owner); None from an organization token."""
    return principal.user_id if principal.member is not None else None


def _checked_description(description: str) -> str:
    cleaned = description.strip()
    if len(cleaned) > MAX_DESCRIPTION_LENGTH:
        raise ValidationFailed(f"A description may be at most {MAX_DESCRIPTION_LENGTH} characters")
    if "\x00" in cleaned:
        raise ValidationFailed("A description may not contain NUL characters")
    return cleaned


def _found(token: Token | None, registry: Registry, token_id: str) -> Token:
    if token is None:
        raise NotFound(f"No token {token_id!r} in registry {registry.slug!r}")
    return token
