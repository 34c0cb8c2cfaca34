"""People who use the web UI: accounts, memberships, sign-in sessions and the throttle.

Passwords are kept as argon2id hashes. A session is a random secret in a cookie; only its
SHA256 is stored (like tokens), with the session's CSRF token, so every process of a
scaled-out deployment recognises it. Failed sign-ins are throttled by the web layer per
client address and per address and email (web.auth_limits), never by locking an account:
a lockout is a weapon any stranger can aim at any account, and it tells which emails exist.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from packyard.core.errors import (
    NotFound,
    Unauthenticated,
    ValidationFailed,
)
from packyard.core.events import Actor, Change, EventType, Subject, changed_fields
from packyard.core.models import ANONYMOUS, Organization, Principal, PrincipalKind
from packyard.core.permissions import OPERATOR
from packyard.db.members import user_in
from packyard.db.tables import (
    MembershipRow,
    OrganizationRow,
    ServerSecretRow,
    UserRow,
    UserSessionRow,
)
from packyard.services.events import record
from packyard.services.registries import RegistryService
from packyard.services.scoped import ScopedService

MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 1024
MAX_EMAIL_LENGTH = 320
SESSION_LIFETIME = timedelta(days=14)
CSRF_KEY_NAME = "csrf-cookie"
WRONG_CREDENTIALS = "Wrong email or password."


@dataclass(frozen=True, slots=True)
class Membership:
    organization_id: str
    organization_slug: str
    organization_name: str
    admin: bool


@dataclass(frozen=True, slots=True)
class User:
    id: str
    email: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class SignedIn:
    """The user behind a live session, their organizations, and the session's CSRF token."""

    user: User
    memberships: tuple[Membership, ...]
    csrf_token: str

    def membership(self, organization_id: str) -> Membership | None:
        return next((m for m in self.memberships if m.organization_id == organization_id), None)


@dataclass(frozen=True, slots=True)
class NewSession:
    """A session just started: the cookie's secret is known only now."""

    secret: str
    expires_at: datetime


def normalize_email(email: str) -> str:
    return email.strip().lower()


def _session_id(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


class UserService(ScopedService):
    def __init__(
        self,
        sessions: sessionmaker[Session],
        registries: RegistryService,
        now: Callable[[], datetime],
        hasher: PasswordHasher | None = None,
    ) -> None:
        super().__init__(sessions, registries, now)
        self._hasher = hasher or PasswordHasher()
        self._decoy_hash: str | None = None
        self._csrf_key: bytes | None = None

    @property
    def known_csrf_key(self) -> bytes | None:
        """The key of ``csrf_key`` once loaded (no query), else None."""
        return self._csrf_key

    def csrf_key(self) -> bytes:
        """The deployment's key for signing pre-sign-in CSRF cookies: one row every process
        and host shares, made by whichever process needs it first."""
        if self._csrf_key is None:
            with self._sessions() as session:
                row = session.get(ServerSecretRow, CSRF_KEY_NAME)
            if row is None:
                try:
                    with self._sessions.begin() as session:
                        session.add(
                            ServerSecretRow(name=CSRF_KEY_NAME, value=secrets.token_hex(32))
                        )
                except IntegrityError:
                    pass  # another process made it first: use theirs
                with self._sessions() as session:
                    row = session.get(ServerSecretRow, CSRF_KEY_NAME)
            if row is None:
                raise RuntimeError("The CSRF key could not be stored")
            self._csrf_key = bytes.fromhex(row.value)
        return self._csrf_key

    def create_user(
        self,
        email: str,
        organization_slug: str,
        password: str,
        *,
        admin: bool = False,
        by: Principal = OPERATOR,
    ) -> User:
        """Create a user who belongs to the organization (as an admin when ``admin``).

        Raises NotFound for an unknown organization and ValidationFailed for a bad or taken
        email or a password that is too short.
        """
        address = _valid_email(email)
        _check_password(password)
        organization = self._registries.get_organization(organization_slug)
        now = self._now()
        row = UserRow(
            id=str(uuid.uuid4()),
            email=address,
            password_hash=self._hasher.hash(password),
            failed_logins=0,
            created_at=now,
        )
        try:
            with self._sessions.begin() as session:
                session.add(row)
                session.flush()
                session.add(
                    MembershipRow(
                        user_id=row.id, organization_id=organization.id, admin=admin, created_at=now
                    )
                )
                session.flush()
                changes = changed_fields({}, {"email": address, "admin": admin})
                _record_user(session, by, EventType.USER_CREATED, row, now, changes)
        except IntegrityError:
            raise ValidationFailed(f"A user with email {address!r} already exists") from None
        return User(row.id, row.email, row.created_at)

    def sign_in(self, email: str, password: str) -> NewSession:
        """Check the password and start a session.

        Raises Unauthenticated for a wrong email or password: the same message, and the
        same argon2 work (a decoy hash for an unknown email), for both.
        """
        address = normalize_email(email)
        if len(address) > MAX_EMAIL_LENGTH or len(password) > MAX_PASSWORD_LENGTH:
            raise Unauthenticated(WRONG_CREDENTIALS)
        with self._sessions() as session:
            row = session.scalar(select(UserRow).where(UserRow.email == address))
        if row is None:
            # Compared against anyway, so that timing does not tell which emails exist.
            if self._decoy_hash is None:
                self._decoy_hash = self._hasher.hash(secrets.token_urlsafe(16))
            self._verify(self._decoy_hash, password)
            raise Unauthenticated(WRONG_CREDENTIALS)
        if not self._verify(row.password_hash, password):
            with self._sessions.begin() as session:
                _record_user(session, _self(row), EventType.USER_SIGN_IN_FAILED, row, self._now())
            raise Unauthenticated(WRONG_CREDENTIALS)
        return self._start_session(row)

    def note_locked(self, email: str) -> None:
        """Record that sign-ins to ``email`` are now being held back (the web layer's
        throttle decided so); nothing for an unknown email."""
        with self._sessions.begin() as session:
            row = session.scalar(select(UserRow).where(UserRow.email == normalize_email(email)))
            if row is not None:
                _record_user(session, _self(row), EventType.USER_LOCKED, row, self._now())

    def _verify(self, password_hash: str, password: str) -> bool:
        try:
            return self._hasher.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    def _start_session(self, row: UserRow) -> NewSession:
        now = self._now()
        secret = secrets.token_urlsafe(32)
        expires_at = now + SESSION_LIFETIME
        with self._sessions.begin() as session:
            session.execute(
                delete(UserSessionRow).where(
                    UserSessionRow.user_id == row.id, UserSessionRow.expires_at < now
                )
            )
            session.add(
                UserSessionRow(
                    id=_session_id(secret),
                    user_id=row.id,
                    csrf_token=secrets.token_urlsafe(32),
                    created_at=now,
                    expires_at=expires_at,
                )
            )
            _record_user(session, _self(row), EventType.USER_SIGNED_IN, row, now)
        return NewSession(secret, expires_at)

    def signed_in(self, secret: str | None) -> SignedIn | None:
        """The user of a live session, or None for a missing, unknown or expired one."""
        if not secret or len(secret) > 256:
            return None
        with self._sessions() as session:
            found = session.execute(
                select(UserSessionRow, UserRow)
                .join(UserRow, UserSessionRow.user_id == UserRow.id)
                .where(UserSessionRow.id == _session_id(secret))
            ).first()
            if found is None:
                return None
            session_row, user_row = found
            if session_row.expires_at <= self._now():
                return None
            memberships = session.execute(
                select(MembershipRow.admin, OrganizationRow)
                .join(OrganizationRow, MembershipRow.organization_id == OrganizationRow.id)
                .where(MembershipRow.user_id == user_row.id)
                .order_by(OrganizationRow.slug)
            ).all()
        return SignedIn(
            user=User(user_row.id, user_row.email, user_row.created_at),
            memberships=tuple(
                Membership(org.id, org.slug, org.name, admin) for admin, org in memberships
            ),
            csrf_token=session_row.csrf_token,
        )

    def sign_out(self, secret: str | None) -> None:
        """End the session (a missing or unknown one is not an error)."""
        if not secret:
            return
        with self._sessions.begin() as session:
            session.execute(delete(UserSessionRow).where(UserSessionRow.id == _session_id(secret)))

    def principal(self, signed_in: SignedIn | None, organization: Organization) -> Principal:
        """Who ``signed_in`` is in ``organization``: a member or admin with their standing
        (role, switches, teams: loaded now, ``db.members``); anonymous for a visitor; a
        user with no scopes there for someone of other organizations (who sees public
        registries, and 404 for private ones)."""
        if signed_in is None:
            return ANONYMOUS
        with self._sessions() as session:
            return user_in(session, signed_in.user.id, organization.id)

    def member_id(self, email: str, organization_slug: str) -> str:
        """The id of the member with ``email``; raises NotFound unless they belong to the
        organization."""
        organization = self._registries.get_organization(organization_slug)
        with self._sessions() as session:
            found = session.scalar(
                select(UserRow.id)
                .join(MembershipRow, MembershipRow.user_id == UserRow.id)
                .where(
                    UserRow.email == normalize_email(email),
                    MembershipRow.organization_id == organization.id,
                )
            )
        if found is None:
            raise NotFound(f"No member {email!r} in organization {organization_slug!r}")
        return found


def _valid_email(email: str) -> str:
    address = normalize_email(email)
    local, at, domain = address.partition("@")
    if not at or not local or "." not in domain or len(address) > MAX_EMAIL_LENGTH:
        raise ValidationFailed(f"{email!r} is not an email address")
    if any(c.isspace() or c in "<>\"'" for c in address):
        raise ValidationFailed(f"{email!r} is not an email address")
    return address


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationFailed(f"A password needs at least {MIN_PASSWORD_LENGTH} characters")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise ValidationFailed(f"A password may have at most {MAX_PASSWORD_LENGTH} characters")


def _self(row: UserRow) -> Actor:
    """A person acting for themselves (signing in)."""
    return Actor(kind=PrincipalKind.USER.value, id=row.id, name=row.email)


def _record_user(
    session: Session,
    by: Principal | Actor,
    event_type: EventType,
    row: UserRow,
    now: datetime,
    changes: dict[str, Change] | None = None,
) -> None:
    """One entry in each organization the user belongs to: a person is not an
    organization's, and each organization's admins see what concerns their members."""
    organizations = session.scalars(
        select(MembershipRow.organization_id).where(MembershipRow.user_id == row.id)
    ).all()
    for organization_id in organizations:
        record(
            session,
            by,
            event_type,
            organization_id=organization_id,
            subject=Subject("user", row.id, row.email),
            changes=changes,
            now=now,
        )
