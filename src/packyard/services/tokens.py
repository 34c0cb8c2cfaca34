"""API access tokens and read-only registry tokens: minting, and turning a secret back into
a Principal.

A secret is ``pky_`` plus 32 random bytes, urlsafe; only its SHA256 is stored, so a leaked
database yields no usable token. Lookups go by that hash, which is already constant-time
with respect to the secret's content.
"""

from __future__ import annotations

import dataclasses
import hashlib
import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, delete, select
from sqlalchemy.orm import Session, sessionmaker

from packyard.core.errors import NotFound, Unauthenticated, ValidationFailed
from packyard.core.models import Principal, PrincipalKind, Registry
from packyard.core.names import looks_like_id
from packyard.core.permissions import Disclosure
from packyard.core.scopes import Scope
from packyard.db.models import TokenRow
from packyard.services.registries import RegistryService
from packyard.services.token_usage import TokenUsage

TOKEN_PREFIX = "pky_"
MAX_SECRET_LENGTH = 256

# Built once: every request with a token runs it, and building the statement each time
# cost half as much as running it.
_BY_SECRET_SHA256 = select(TokenRow).where(TokenRow.secret_sha256 == bindparam("secret_sha256"))


@dataclass(frozen=True, slots=True)
class Token:
    id: str
    organization_id: str
    registry_id: str | None
    scopes: frozenset[Scope]
    description: str
    created_at: datetime
    last_used_at: datetime | None
    created_by: str | None = None  # the id of the token that created it; None from the CLI


@dataclass(frozen=True, slots=True)
class IssuedToken:
    """A token just created, with its secret: the only moment the secret is known."""

    token: Token
    secret: str


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def _token_from_row(row: TokenRow) -> Token:
    return Token(
        id=row.id,
        organization_id=row.organization_id,
        registry_id=row.registry_id,
        scopes=frozenset(Scope(s) for s in row.scopes),
        description=row.description,
        created_at=row.created_at,
        last_used_at=row.last_used_at,
        created_by=row.created_by,
    )


class TokenService:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        registries: RegistryService,
        now: Callable[[], datetime],
        usage: TokenUsage | None = None,
    ) -> None:
        self._sessions = sessions
        self._registries = registries
        self._now = now
        self.usage = usage if usage is not None else TokenUsage(sessions, now)

    def create_api_token(
        self, organization_slug: str, scopes: frozenset[Scope], description: str = ""
    ) -> IssuedToken:
        """Mint an organization-wide API access token with ``scopes``."""
        if not scopes:
            raise ValidationFailed("An API access token needs at least one scope")
        organization = self._registries.get_organization(organization_slug)
        return self._issue(organization.id, None, scopes, description)

    def create_registry_token(
        self, organization_slug: str, registry_slug: str, description: str = ""
    ) -> IssuedToken:
        """Mint a read-only token for one registry."""
        registry = self._registries.find_registry(organization_slug, registry_slug)
        return self._issue(registry.organization_id, registry.id, frozenset(), description)

    def _issue(
        self,
        organization_id: str,
        registry_id: str | None,
        scopes: frozenset[Scope],
        description: str,
        created_by: str | None = None,
    ) -> IssuedToken:
        secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
        row = TokenRow(
            id=str(uuid.uuid4()),
            organization_id=organization_id,
            registry_id=registry_id,
            secret_sha256=hash_secret(secret),
            scopes=sorted(s.value for s in scopes),
            description=description,
            created_by=created_by,
            created_at=self._now(),
        )
        with self._sessions.begin() as session:
            session.add(row)
        return IssuedToken(_token_from_row(row), secret)

    def authenticate(self, secret: str) -> Principal:
        """The Principal a secret stands for; raises Unauthenticated for an unknown one."""
        if not secret or len(secret) > MAX_SECRET_LENGTH:
            raise Unauthenticated("Invalid token")
        with self._sessions() as session:
            row = session.scalar(_BY_SECRET_SHA256, {"secret_sha256": hash_secret(secret)})
        if row is None:
            raise Unauthenticated("Invalid token: it is unknown or has been revoked")
        self.usage.record(row.id)
        return principal_from_row(row)

    # The REST API: registry tokens managed by API tokens, and the caller's own token.

    def registry_tokens(
        self, principal: Principal, organization_slug: str, registry_slug: str
    ) -> RegistryTokens:
        """The read-only tokens of a registry, oldest first (``write_registries``)."""
        registry = self._manageable_registry(principal, organization_slug, registry_slug)
        with self._sessions() as session:
            rows = session.scalars(
                select(TokenRow)
                .where(TokenRow.registry_id == registry.id)
                .order_by(TokenRow.created_at, TokenRow.id)
            ).all()
            tokens = [self._with_usage(_token_from_row(row)) for row in rows]
        return RegistryTokens(registry, tokens)

    def issue_registry_token(
        self, principal: Principal, organization_slug: str, registry_slug: str, description: str
    ) -> tuple[Registry, IssuedToken]:
        """Mint a read-only token for the registry on behalf of ``principal``."""
        registry = self._manageable_registry(principal, organization_slug, registry_slug)
        _check_description(description)
        issued = self._issue(
            registry.organization_id, registry.id, frozenset(), description, principal.token_id
        )
        return registry, issued

    def registry_token(
        self, principal: Principal, organization_slug: str, registry_slug: str, token_id: str
    ) -> tuple[Registry, Token]:
        """One token of the registry; raises NotFound."""
        registry = self._manageable_registry(principal, organization_slug, registry_slug)
        with self._sessions() as session:
            row = _registry_token_row(session, registry, token_id)
            return registry, self._with_usage(_token_from_row(row))

    def describe_registry_token(
        self,
        principal: Principal,
        organization_slug: str,
        registry_slug: str,
        token_id: str,
        description: str,
    ) -> tuple[Registry, Token]:
        """Change a registry token's description; raises NotFound."""
        registry = self._manageable_registry(principal, organization_slug, registry_slug)
        _check_description(description)
        with self._sessions.begin() as session:
            row = _registry_token_row(session, registry, token_id)
            row.description = description
            token = _token_from_row(row)
        return registry, self._with_usage(token)

    def delete_registry_token(
        self, principal: Principal, organization_slug: str, registry_slug: str, token_id: str
    ) -> None:
        """Delete a registry token: it stops working with the next request."""
        registry = self._manageable_registry(principal, organization_slug, registry_slug)
        with self._sessions.begin() as session:
            session.delete(_registry_token_row(session, registry, token_id))

    def current_token(self, principal: Principal) -> Token:
        """The token the caller authenticated with; raises Unauthenticated without one."""
        if principal.token_id is None:
            raise Unauthenticated("Authentication required: send Authorization: Bearer TOKEN")
        with self._sessions() as session:
            row = session.get(TokenRow, principal.token_id)
            if row is None:
                raise Unauthenticated("Invalid token: it is unknown or has been revoked")
            return self._with_usage(_token_from_row(row))

    def revoke_current_token(self, principal: Principal) -> None:
        """Delete the token the caller authenticated with."""
        if principal.token_id is None:
            raise Unauthenticated("Authentication required: send Authorization: Bearer TOKEN")
        with self._sessions.begin() as session:
            session.execute(delete(TokenRow).where(TokenRow.id == principal.token_id))

    def _manageable_registry(
        self, principal: Principal, organization_slug: str, registry_slug: str
    ) -> Registry:
        return self._registries.registry_for(
            principal, organization_slug, registry_slug, Scope.WRITE_REGISTRIES, Disclosure.API
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


MAX_DESCRIPTION_LENGTH = 1000


def _check_description(description: str) -> None:
    if len(description) > MAX_DESCRIPTION_LENGTH:
        raise ValidationFailed(f"A description may be at most {MAX_DESCRIPTION_LENGTH} characters")
    if "\x00" in description:
        raise ValidationFailed("A description may not contain NUL characters")


def _registry_token_row(session: Session, registry: Registry, token_id: str) -> TokenRow:
    row = (
        None
        if not looks_like_id(token_id)
        else session.scalar(
            select(TokenRow).where(TokenRow.id == token_id, TokenRow.registry_id == registry.id)
        )
    )
    if row is None:
        raise NotFound(f"No token {token_id!r} in registry {registry.slug!r}")
    return row


def principal_from_row(row: TokenRow) -> Principal:
    """The Principal a stored token stands for."""
    if row.registry_id is not None:
        return Principal(
            kind=PrincipalKind.REGISTRY_TOKEN,
            organization_id=row.organization_id,
            token_id=row.id,
            registry_id=row.registry_id,
        )
    return Principal(
        kind=PrincipalKind.API_TOKEN,
        organization_id=row.organization_id,
        token_id=row.id,
        scopes=frozenset(Scope(s) for s in row.scopes),
    )
