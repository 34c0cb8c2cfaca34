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
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from packyard.core.errors import (
    NotFound,
    Unauthenticated,
    ValidationFailed,
)
from packyard.core.events import Actor, Change, EventType, Subject, changed_fields
from packyard.core.models import (
    ANONYMOUS,
    Membership,
    Organization,
    Principal,
    PrincipalKind,
    User,
)
from packyard.core.permissions import OPERATOR
from packyard.db import users as queries
from packyard.db.members import user_in
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
                value = queries.server_secret(session, CSRF_KEY_NAME)
            if value is None:
                try:
                    with self._sessions.begin() as session:
                        queries.add_server_secret(session, CSRF_KEY_NAME, secrets.token_hex(32))
                except IntegrityError:
                    pass  # another process made it first: use theirs
                with self._sessions() as session:
                    value = queries.server_secret(session, CSRF_KEY_NAME)
            if value is None:
                raise RuntimeError("The CSRF key could not be stored")
            self._csrf_key = bytes.fromhex(value)
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
        user = User(str(uuid.uuid4()), address, self._now())
        password_hash = self._hasher.hash(password)
        try:
            with self._sessions.begin() as session:
                queries.add_user(session, user, password_hash, organization.id, admin=admin)
                changes = changed_fields({}, {"email": address, "admin": admin})
                _record_user(session, by, EventType.USER_CREATED, user, user.created_at, changes)
        except IntegrityError:
            raise ValidationFailed(f"A user with email {address!r} already exists") from None
        return user

    def sign_in(self, email: str, password: str) -> NewSession:
        """Check the password and start a session.

        Raises Unauthenticated for a wrong email or password: the same message, and the
        same argon2 work (a decoy hash for an unknown email), for both.
        """
        address = normalize_email(email)
        if len(address) > MAX_EMAIL_LENGTH or len(password) > MAX_PASSWORD_LENGTH:
            raise Unauthenticated(WRONG_CREDENTIALS)
        with self._sessions() as session:
            found = queries.account(session, address)
        if found is None:
            # Compared against anyway, so that timing does not tell which emails exist.
            if self._decoy_hash is None:
                self._decoy_hash = self._hasher.hash(secrets.token_urlsafe(16))
            self._verify(self._decoy_hash, password)
            raise Unauthenticated(WRONG_CREDENTIALS)
        user = found.user
        if not self._verify(found.password_hash, password):
            with self._sessions.begin() as session:
                _record_user(session, _self(user), EventType.USER_SIGN_IN_FAILED, user, self._now())
            raise Unauthenticated(WRONG_CREDENTIALS)
        return self._start_session(user)

    def note_locked(self, email: str) -> None:
        """Record that sign-ins to ``email`` are now being held back (the web layer's
        throttle decided so); nothing for an unknown email."""
        with self._sessions.begin() as session:
            found = queries.account(session, normalize_email(email))
            if found is not None:
                user = found.user
                _record_user(session, _self(user), EventType.USER_LOCKED, user, self._now())

    def _verify(self, password_hash: str, password: str) -> bool:
        try:
            return self._hasher.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    def _start_session(self, user: User) -> NewSession:
        now = self._now()
        secret = secrets.token_urlsafe(32)
        expires_at = now + SESSION_LIFETIME
        with self._sessions.begin() as session:
            csrf_token = secrets.token_urlsafe(32)
            queries.add_session(session, user.id, _session_id(secret), csrf_token, now, expires_at)
            _record_user(session, _self(user), EventType.USER_SIGNED_IN, user, now)
        return NewSession(secret, expires_at)

    def signed_in(self, secret: str | None) -> SignedIn | None:
        """The user of a live session, or None for a missing, unknown or expired one."""
        if not secret or len(secret) > 256:
            return None
        with self._sessions() as session:
            live = queries.live_session(session, _session_id(secret))
            if live is None or live.expires_at <= self._now():
                return None
            memberships = queries.memberships(session, live.user.id)
        return SignedIn(user=live.user, memberships=memberships, csrf_token=live.csrf_token)

    def sign_out(self, secret: str | None) -> None:
        """End the session (a missing or unknown one is not an error)."""
        if not secret:
            return
        with self._sessions.begin() as session:
            queries.delete_session(session, _session_id(secret))

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
            found = queries.member_id(session, normalize_email(email), organization.id)
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


def _self(user: User) -> Actor:
    """A person acting for themselves (signing in)."""
    return Actor(kind=PrincipalKind.USER.value, id=user.id, name=user.email)


def _record_user(
    session: Session,
    by: Principal | Actor,
    event_type: EventType,
    user: User,
    now: datetime,
    changes: dict[str, Change] | None = None,
) -> None:
    """One entry in each organization the user belongs to: a person is not an
    organization's, and each organization's admins see what concerns their members."""
    for organization_id in queries.organization_ids(session, user.id):
        record(
            session,
            by,
            event_type,
            organization_id=organization_id,
            subject=Subject("user", user.id, user.email),
            changes=changes,
            now=now,
        )
