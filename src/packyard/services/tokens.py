"""API access tokens and read-only registry tokens: minting, and turning a secret back into
a Principal.

A secret is ``pky_`` plus 32 random bytes, urlsafe; only its SHA256 is stored, so a leaked
database yields no usable token. Lookups go by that hash, which is already constant-time
with respect to the secret's content.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from packyard.core.errors import Unauthenticated, ValidationFailed
from packyard.core.models import API_TOKEN_KIND, REGISTRY_TOKEN_KIND, Principal
from packyard.core.scopes import Scope
from packyard.db.models import TokenRow
from packyard.services.registries import RegistryService

TOKEN_PREFIX = "pky_"
MAX_SECRET_LENGTH = 256


@dataclass(frozen=True, slots=True)
class Token:
    id: str
    organization_id: str
    registry_id: str | None
    scopes: frozenset[Scope]
    description: str
    created_at: datetime
    last_used_at: datetime | None


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
    )


class TokenService:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        registries: RegistryService,
        now: Callable[[], datetime],
    ) -> None:
        self._sessions = sessions
        self._registries = registries
        self._now = now

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
    ) -> IssuedToken:
        secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
        row = TokenRow(
            id=str(uuid.uuid4()),
            organization_id=organization_id,
            registry_id=registry_id,
            secret_sha256=hash_secret(secret),
            scopes=sorted(s.value for s in scopes),
            description=description,
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
            row = session.scalar(
                select(TokenRow).where(TokenRow.secret_sha256 == hash_secret(secret))
            )
        if row is None:
            raise Unauthenticated("Invalid token: it is unknown or has been revoked")
        return principal_from_row(row)


def principal_from_row(row: TokenRow) -> Principal:
    """The Principal a stored token stands for."""
    if row.registry_id is not None:
        return Principal(
            kind=REGISTRY_TOKEN_KIND,
            organization_id=row.organization_id,
            token_id=row.id,
            registry_id=row.registry_id,
        )
    return Principal(
        kind=API_TOKEN_KIND,
        organization_id=row.organization_id,
        token_id=row.id,
        scopes=frozenset(Scope(s) for s in row.scopes),
    )
