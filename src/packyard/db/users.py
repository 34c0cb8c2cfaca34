"""Queries on people: accounts, memberships, sign-in sessions and the deployment's shared
secrets, in the caller's session. ``services.users`` hashes, checks and records."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from packyard.core.models import Membership, User
from packyard.db.tables import (
    MembershipRow,
    OrganizationRow,
    ServerSecretRow,
    UserRow,
    UserSessionRow,
)


@dataclass(frozen=True, slots=True)
class Account:
    """A user with what signing in checks."""

    user: User
    password_hash: str


@dataclass(frozen=True, slots=True)
class LiveSession:
    user: User
    csrf_token: str
    expires_at: datetime


def server_secret(session: Session, name: str) -> str | None:
    row = session.get(ServerSecretRow, name)
    return None if row is None else row.value


def add_server_secret(session: Session, name: str, value: str) -> None:
    """The caller's transaction fails (IntegrityError) when another process added it."""
    session.add(ServerSecretRow(name=name, value=value))


def add_user(
    session: Session, user: User, password_hash: str, organization_id: str, *, admin: bool
) -> None:
    """A new account and its first membership; IntegrityError when the email is taken."""
    session.add(
        UserRow(
            id=user.id,
            email=user.email,
            password_hash=password_hash,
            failed_logins=0,
            created_at=user.created_at,
        )
    )
    session.flush()
    session.add(
        MembershipRow(
            user_id=user.id,
            organization_id=organization_id,
            admin=admin,
            created_at=user.created_at,
        )
    )
    session.flush()


def account(session: Session, email: str) -> Account | None:
    """The account with this (normalised) email."""
    row = session.scalar(select(UserRow).where(UserRow.email == email))
    return None if row is None else Account(_user(row), row.password_hash)


def add_session(
    session: Session,
    user_id: str,
    session_id: str,
    csrf_token: str,
    now: datetime,
    expires_at: datetime,
) -> None:
    """Start a session, removing the user's expired ones."""
    session.execute(
        delete(UserSessionRow).where(
            UserSessionRow.user_id == user_id, UserSessionRow.expires_at < now
        )
    )
    session.add(
        UserSessionRow(
            id=session_id,
            user_id=user_id,
            csrf_token=csrf_token,
            created_at=now,
            expires_at=expires_at,
        )
    )


def live_session(session: Session, session_id: str) -> LiveSession | None:
    """The session with this id (expired or not) and its user."""
    found = session.execute(
        select(UserSessionRow, UserRow)
        .join(UserRow, UserSessionRow.user_id == UserRow.id)
        .where(UserSessionRow.id == session_id)
    ).first()
    if found is None:
        return None
    session_row, user_row = found
    return LiveSession(_user(user_row), session_row.csrf_token, session_row.expires_at)


def delete_session(session: Session, session_id: str) -> None:
    session.execute(delete(UserSessionRow).where(UserSessionRow.id == session_id))


def memberships(session: Session, user_id: str) -> tuple[Membership, ...]:
    """The user's organizations, by slug."""
    rows = session.execute(
        select(MembershipRow.admin, OrganizationRow)
        .join(OrganizationRow, MembershipRow.organization_id == OrganizationRow.id)
        .where(MembershipRow.user_id == user_id)
        .order_by(OrganizationRow.slug)
    ).all()
    return tuple(Membership(org.id, org.slug, org.name, admin) for admin, org in rows)


def member_id(session: Session, email: str, organization_id: str) -> str | None:
    """The id of the organization's member with this (normalised) email."""
    return session.scalar(
        select(UserRow.id)
        .join(MembershipRow, MembershipRow.user_id == UserRow.id)
        .where(UserRow.email == email, MembershipRow.organization_id == organization_id)
    )


def organization_ids(session: Session, user_id: str) -> list[str]:
    """The organizations the user belongs to."""
    return list(
        session.scalars(
            select(MembershipRow.organization_id).where(MembershipRow.user_id == user_id)
        ).all()
    )


def _user(row: UserRow) -> User:
    return User(row.id, row.email, row.created_at)
