"""Queries on tokens, and turning a token row into a Principal.

A token is found by the SHA256 of its secret; ids a caller sends are checked to look like
ours before any query (``core.names.looks_like_id``).
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, bindparam, delete, or_, select, update
from sqlalchemy.orm import Session

from packyard.core.models import Principal, PrincipalKind, Token
from packyard.core.names import looks_like_id
from packyard.core.scopes import Scope
from packyard.db.changes import UNCACHED_WRITE
from packyard.db.members import owner_standing
from packyard.db.tables import TokenRow

# Built once: every request with a token runs it, and building the statement each time
# cost half as much as running it.
_BY_SECRET_SHA256 = select(TokenRow).where(TokenRow.secret_sha256 == bindparam("secret_sha256"))


@dataclass(frozen=True, slots=True)
class NewToken:
    organization_id: str
    registry_id: str | None
    secret_sha256: str
    scopes: frozenset[Scope]
    description: str
    created_by_token: str | None
    created_by_user: str | None
    created_at: datetime
    user_id: str | None = None  # the person it acts for; None: the organization


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def token_from_row(row: TokenRow) -> Token:
    return Token(
        id=row.id,
        organization_id=row.organization_id,
        registry_id=row.registry_id,
        scopes=frozenset(Scope(s) for s in row.scopes),
        description=row.description,
        created_at=row.created_at,
        last_used_at=row.last_used_at,
        created_by_token=row.created_by_token,
        created_by_user=row.created_by_user,
        user_id=row.user_id,
    )


def principal_from_row(session: Session, row: TokenRow) -> Principal:
    """The Principal a stored token stands for (``principal_of``)."""
    return principal_of(
        session, row.id, row.organization_id, row.registry_id, row.user_id, row.scopes
    )


def principal_of(
    session: Session,
    token_id: str,
    organization_id: str,
    registry_id: str | None,
    user_id: str | None,
    scopes: Sequence[str],
) -> Principal:
    """The Principal of a stored token, from its columns. A token acting for a person
    carries its scopes and its owner's standing, read now (``db.members``); if the owner
    left the organization it holds no scope at all."""
    if registry_id is not None:
        return Principal(
            kind=PrincipalKind.REGISTRY_TOKEN,
            organization_id=organization_id,
            token_id=token_id,
            registry_id=registry_id,
        )
    member, acting = owner_standing(session, organization_id, user_id)
    return Principal(
        kind=PrincipalKind.API_TOKEN,
        organization_id=organization_id,
        token_id=token_id,
        scopes=frozenset(Scope(s) for s in scopes) if acting else frozenset(),
        user_id=user_id,
        member=member,
    )


def principal_by_secret(session: Session, secret_sha256: str) -> Principal | None:
    row = session.scalar(_BY_SECRET_SHA256, {"secret_sha256": secret_sha256})
    return None if row is None else principal_from_row(session, row)


def add_token(session: Session, new: NewToken) -> Token:
    row = TokenRow(
        id=str(uuid.uuid4()),
        organization_id=new.organization_id,
        registry_id=new.registry_id,
        secret_sha256=new.secret_sha256,
        scopes=sorted(s.value for s in new.scopes),
        description=new.description,
        created_by_token=new.created_by_token,
        created_by_user=new.created_by_user,
        user_id=new.user_id,
        created_at=new.created_at,
    )
    session.add(row)
    session.flush()
    return token_from_row(row)


def token_by_id(session: Session, token_id: str) -> Token | None:
    row = session.get(TokenRow, token_id)
    return None if row is None else token_from_row(row)


def delete_token(session: Session, token_id: str) -> None:
    session.execute(delete(TokenRow).where(TokenRow.id == token_id))


def _access_token_clauses(
    organization_id: str, created_by_user: str | None
) -> list[ColumnElement[bool]]:
    clauses = [TokenRow.organization_id == organization_id, TokenRow.registry_id.is_(None)]
    if created_by_user is not None:
        clauses.append(TokenRow.created_by_user == created_by_user)
    return clauses


def access_tokens(
    session: Session, organization_id: str, created_by_user: str | None
) -> list[Token]:
    """The organization's access tokens, oldest first; only ``created_by_user``'s unless
    it is None."""
    rows = session.scalars(
        select(TokenRow)
        .where(*_access_token_clauses(organization_id, created_by_user))
        .order_by(TokenRow.created_at, TokenRow.id)
    ).all()
    return [token_from_row(row) for row in rows]


def delete_access_token(
    session: Session, organization_id: str, token_id: str, created_by_user: str | None
) -> bool:
    """Whether a token was deleted."""
    result = session.execute(
        delete(TokenRow).where(
            TokenRow.id == token_id, *_access_token_clauses(organization_id, created_by_user)
        )
    )
    return bool(getattr(result, "rowcount", 0))


def registry_tokens(session: Session, registry_id: str) -> list[Token]:
    rows = session.scalars(
        select(TokenRow)
        .where(TokenRow.registry_id == registry_id)
        .order_by(TokenRow.created_at, TokenRow.id)
    ).all()
    return [token_from_row(row) for row in rows]


def _registry_token_row(session: Session, registry_id: str, token_id: str) -> TokenRow | None:
    if not looks_like_id(token_id):
        return None
    return session.scalar(
        select(TokenRow).where(TokenRow.id == token_id, TokenRow.registry_id == registry_id)
    )


def registry_token(session: Session, registry_id: str, token_id: str) -> Token | None:
    row = _registry_token_row(session, registry_id, token_id)
    return None if row is None else token_from_row(row)


def describe_registry_token(
    session: Session, registry_id: str, token_id: str, description: str
) -> Token | None:
    row = _registry_token_row(session, registry_id, token_id)
    if row is None:
        return None
    row.description = description
    session.flush()
    return token_from_row(row)


def delete_registry_token(session: Session, registry_id: str, token_id: str) -> bool:
    """Whether a token was deleted."""
    row = _registry_token_row(session, registry_id, token_id)
    if row is None:
        return False
    session.delete(row)
    return True


def note_last_used(session: Session, uses: Mapping[str, datetime]) -> None:
    """Each token's last use, by token id, unless a later one is stored already."""
    for token_id, used_at in sorted(uses.items()):
        session.execute(
            update(TokenRow)
            .where(
                TokenRow.id == token_id,
                or_(TokenRow.last_used_at.is_(None), TokenRow.last_used_at < used_at),
            )
            .values(last_used_at=used_at)
            .execution_options(**UNCACHED_WRITE)
        )
