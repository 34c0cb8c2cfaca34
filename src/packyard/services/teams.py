"""Teams of an organization: create, change, delete; their members and roles; the access
levels teams hold on registries. Every call checks the caller with ``core.permissions``
(``allowed_on_team`` for a team, ``allowed`` for a registry) and runs in one transaction.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from packyard.core.errors import NotFound, ValidationFailed
from packyard.core.events import EventType, Subject, changed_fields
from packyard.core.models import (
    AccessLevel,
    Organization,
    Principal,
    Registry,
    Team,
    TeamPrivacy,
    TeamRole,
)
from packyard.core.names import looks_like_id, slugify
from packyard.core.permissions import (
    Disclosure,
    allowed_on_team,
    require_on_team,
)
from packyard.core.scopes import Scope
from packyard.db.tables import MembershipRow, TeamMemberRow, TeamRegistryRow, TeamRow, UserRow
from packyard.services.events import record
from packyard.services.registries import RegistryService

MAX_NAME_LENGTH = 200
MAX_DESCRIPTION_LENGTH = 10_000


@dataclass(frozen=True, slots=True)
class TeamFields:
    """Values given for a team; ``given`` names those present in an update."""

    given: frozenset[str]
    name: str | None = None
    description: str | None = None
    privacy: str | None = None
    default: bool | None = None


@dataclass(frozen=True, slots=True)
class TeamMember:
    user_id: str
    email: str
    name: str
    role: TeamRole
    created_at: datetime


@dataclass(frozen=True, slots=True)
class TeamAccess:
    """One team's level on one registry."""

    team: Team
    registry: Registry
    access_level: AccessLevel
    created_at: datetime


def team_from_row(row: TeamRow) -> Team:
    return Team(
        id=row.id,
        organization_id=row.organization_id,
        slug=row.slug,
        name=row.name,
        description=row.description,
        privacy=TeamPrivacy(row.privacy),
        default=row.is_default,
        created_at=row.created_at,
        created_by=row.created_by,
    )


class TeamService:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        registries: RegistryService,
        now: Callable[[], datetime],
    ) -> None:
        self._sessions = sessions
        self._registries = registries
        self._now = now

    def _organization(self, principal: Principal, slug: str, scope: Scope) -> Organization:
        return self._registries.organization_for(principal, slug, scope, Disclosure.API)

    def list_teams(self, principal: Principal, organization_slug: str) -> list[Team]:
        """The teams the caller may see, by name (``read_teams``)."""
        organization = self._organization(principal, organization_slug, Scope.READ_TEAMS)
        with self._sessions() as session:
            rows = session.scalars(
                select(TeamRow)
                .where(TeamRow.organization_id == organization.id)
                .order_by(TeamRow.name, TeamRow.id)
            ).all()
            teams = [team_from_row(row) for row in rows]
        return [t for t in teams if allowed_on_team(principal, Scope.READ_TEAMS, t)]

    def team(self, principal: Principal, organization_slug: str, team_id: str) -> Team:
        """One team (``read_teams``), by id or slug; NotFound for one the caller may not see."""
        return self._team(principal, organization_slug, team_id, Scope.READ_TEAMS)

    def _team(
        self, principal: Principal, organization_slug: str, team_id: str, scope: Scope
    ) -> Team:
        organization = self._organization(principal, organization_slug, Scope.READ_TEAMS)
        with self._sessions() as session:
            team = _find_team(session, organization.id, team_id)
        require_on_team(principal, scope, team)
        return team

    def create_team(self, principal: Principal, organization_slug: str, fields: TeamFields) -> Team:
        """Create a team (``write_teams``; organization admins). The creator, when a
        person, becomes its first maintainer."""
        organization = self._organization(principal, organization_slug, Scope.WRITE_TEAMS)
        _validate(fields, create=True)
        now = self._now()
        row = TeamRow(
            id=str(uuid.uuid4()),
            organization_id=organization.id,
            slug=slugify(fields.name or ""),
            name=(fields.name or "").strip(),
            description=fields.description or "",
            privacy=fields.privacy or TeamPrivacy.VISIBLE.value,
            is_default=bool(fields.default),
            created_by=principal.user_id,
            created_at=now,
        )
        try:
            with self._sessions.begin() as session:
                session.add(row)
                session.flush()
                if principal.user_id is not None:
                    session.add(
                        TeamMemberRow(
                            team_id=row.id,
                            user_id=principal.user_id,
                            role=TeamRole.MAINTAINER.value,
                            created_at=now,
                        )
                    )
                created = team_from_row(row)
                self._record(
                    session, principal, EventType.TEAM_CREATED, created, {}, _state(created)
                )
        except IntegrityError:
            raise ValidationFailed(
                f"A team with slug {row.slug!r} already exists in {organization_slug!r}"
            ) from None
        return team_from_row(row)

    def update_team(
        self, principal: Principal, organization_slug: str, team_id: str, fields: TeamFields
    ) -> Team:
        """Change the fields given (``write_teams``: admins and the team's maintainers)."""
        team = self._team(principal, organization_slug, team_id, Scope.WRITE_TEAMS)
        _validate(fields, create=False)
        try:
            with self._sessions.begin() as session:
                row = session.get(TeamRow, team.id)
                if row is None:
                    raise NotFound(f"No team {team_id!r}")
                if "name" in fields.given and fields.name:
                    row.name = fields.name.strip()
                    row.slug = slugify(fields.name)
                if "description" in fields.given:
                    row.description = fields.description or ""
                if "privacy" in fields.given and fields.privacy:
                    row.privacy = fields.privacy
                if "default" in fields.given and fields.default is not None:
                    row.is_default = fields.default
                session.flush()
                changed = team_from_row(row)
                self._record(
                    session,
                    principal,
                    EventType.TEAM_UPDATED,
                    changed,
                    _state(team),
                    _state(changed),
                )
                return changed
        except IntegrityError:
            raise ValidationFailed(f"Another team is already called {fields.name!r}") from None

    def delete_team(self, principal: Principal, organization_slug: str, team_id: str) -> Team:
        """Delete the team, its memberships and grants: its members lose what it gave them
        with the next request."""
        team = self._team(principal, organization_slug, team_id, Scope.WRITE_TEAMS)
        with self._sessions.begin() as session:
            session.execute(delete(TeamMemberRow).where(TeamMemberRow.team_id == team.id))
            session.execute(delete(TeamRegistryRow).where(TeamRegistryRow.team_id == team.id))
            session.execute(delete(TeamRow).where(TeamRow.id == team.id))
            self._record(session, principal, EventType.TEAM_DELETED, team, _state(team), {})
        return team

    # Members.

    def members(
        self, principal: Principal, organization_slug: str, team_id: str
    ) -> list[TeamMember]:
        team = self._team(principal, organization_slug, team_id, Scope.READ_TEAMS)
        with self._sessions() as session:
            rows = session.execute(
                select(TeamMemberRow, UserRow)
                .join(UserRow, TeamMemberRow.user_id == UserRow.id)
                .where(TeamMemberRow.team_id == team.id)
                .order_by(UserRow.email)
            ).all()
        return [_member(m, u) for m, u in rows]

    def add_member(
        self, principal: Principal, organization_slug: str, team_id: str, user_id: str, role: str
    ) -> TeamMember:
        """Add an organization member to the team (``write_teams``)."""
        team = self._team(principal, organization_slug, team_id, Scope.WRITE_TEAMS)
        chosen = _role(role)
        with self._sessions.begin() as session:
            user = _organization_user(session, team.organization_id, user_id)
            if session.get(TeamMemberRow, (team.id, user.id)) is not None:
                raise ValidationFailed(f"{user.email} is already a member of {team.name!r}")
            row = TeamMemberRow(
                team_id=team.id, user_id=user.id, role=chosen.value, created_at=self._now()
            )
            session.add(row)
            session.flush()
            after = {"user": user.email, "role": chosen.value}
            self._record(session, principal, EventType.TEAM_MEMBER_CREATED, team, {}, after)
            return _member(row, user)

    def change_member(
        self, principal: Principal, organization_slug: str, team_id: str, user_id: str, role: str
    ) -> TeamMember:
        team = self._team(principal, organization_slug, team_id, Scope.WRITE_TEAMS)
        chosen = _role(role)
        with self._sessions.begin() as session:
            row, user = _membership(session, team, user_id)
            before = {"user": user.email, "role": row.role}
            row.role = chosen.value
            after = {"user": user.email, "role": chosen.value}
            self._record(session, principal, EventType.TEAM_MEMBER_UPDATED, team, before, after)
            return _member(row, user)

    def remove_member(
        self, principal: Principal, organization_slug: str, team_id: str, user_id: str
    ) -> None:
        """Remove someone from the team: what it gave them (and their tokens) ends with the
        next request."""
        team = self._team(principal, organization_slug, team_id, Scope.WRITE_TEAMS)
        with self._sessions.begin() as session:
            row, user = _membership(session, team, user_id)
            before = {"user": user.email, "role": row.role}
            session.delete(row)
            self._record(session, principal, EventType.TEAM_MEMBER_DELETED, team, before, {})

    # Registry access.

    def registry_teams(
        self, principal: Principal, organization_slug: str, registry_slug: str
    ) -> list[TeamAccess]:
        """The teams granted the registry (``read_registries`` on it)."""
        registry = self._registries.registry_for(
            principal, organization_slug, registry_slug, Scope.READ_REGISTRIES, Disclosure.API
        )
        with self._sessions() as session:
            rows = session.execute(
                select(TeamRegistryRow, TeamRow)
                .join(TeamRow, TeamRegistryRow.team_id == TeamRow.id)
                .where(TeamRegistryRow.registry_id == registry.id)
                .order_by(TeamRow.name)
            ).all()
        found = [
            TeamAccess(team_from_row(t), registry, AccessLevel(g.access_level), g.created_at)
            for g, t in rows
        ]
        return [a for a in found if allowed_on_team(principal, Scope.READ_TEAMS, a.team)]

    def grant(
        self,
        principal: Principal,
        organization_slug: str,
        registry_slug: str,
        team_id: str,
        level: str,
    ) -> TeamAccess:
        """Give a team ``level`` on the registry, or change it: the caller needs full
        access to the registry and to manage the team (admins, its maintainers)."""
        registry, team = self._grantable(principal, organization_slug, registry_slug, team_id)
        chosen = _level(level)
        with self._sessions.begin() as session:
            row = session.get(TeamRegistryRow, (team.id, registry.id))
            before = {} if row is None else {"access_level": row.access_level}
            if row is None:
                row = TeamRegistryRow(
                    team_id=team.id,
                    registry_id=registry.id,
                    access_level=chosen.value,
                    created_at=self._now(),
                )
                session.add(row)
            row.access_level = chosen.value
            after = {"access_level": chosen.value}
            self._record(
                session, principal, EventType.TEAM_REGISTRY_CREATED, team, before, after, registry
            )
            return TeamAccess(team, registry, chosen, row.created_at)

    def revoke(
        self, principal: Principal, organization_slug: str, registry_slug: str, team_id: str
    ) -> None:
        registry, team = self._grantable(principal, organization_slug, registry_slug, team_id)
        with self._sessions.begin() as session:
            row = session.get(TeamRegistryRow, (team.id, registry.id))
            if row is None:
                raise NotFound(f"Team {team.slug!r} has no access to {registry.slug!r}")
            before = {"access_level": row.access_level}
            session.delete(row)
            self._record(
                session, principal, EventType.TEAM_REGISTRY_DELETED, team, before, {}, registry
            )

    def _grantable(
        self, principal: Principal, organization_slug: str, registry_slug: str, team_id: str
    ) -> tuple[Registry, Team]:
        registry = self._registries.registry_for(
            principal, organization_slug, registry_slug, Scope.WRITE_REGISTRIES, Disclosure.API
        )
        team = self._team(principal, organization_slug, team_id, Scope.WRITE_TEAMS)
        return registry, team

    def _record(
        self,
        session: Session,
        principal: Principal,
        event_type: EventType,
        team: Team,
        before: dict[str, Any],
        after: dict[str, Any],
        registry: Registry | None = None,
    ) -> None:
        record(
            session,
            principal,
            event_type,
            organization_id=team.organization_id,
            subject=Subject("team", team.id, team.slug),
            registry=registry,
            changes=changed_fields(before, after),
            now=self._now(),
        )

    def teams_of_organization(self, organization: Organization) -> list[Team]:
        """Every team of the organization (for pages that filter with the predicate)."""
        with self._sessions() as session:
            rows = session.scalars(
                select(TeamRow).where(TeamRow.organization_id == organization.id)
            ).all()
            return [team_from_row(row) for row in rows]


def _find_team(session: Session, organization_id: str, team_id: str) -> Team:
    column = TeamRow.id if looks_like_id(team_id) else TeamRow.slug
    row = session.scalar(
        select(TeamRow).where(TeamRow.organization_id == organization_id, column == team_id)
    )
    if row is None:
        raise NotFound(f"No team {team_id!r}")
    return team_from_row(row)


def _organization_user(session: Session, organization_id: str, user_id: str) -> UserRow:
    user = session.get(UserRow, user_id) if looks_like_id(user_id) else None
    if user is None or session.get(MembershipRow, (user.id, organization_id)) is None:
        raise ValidationFailed(
            "Only members of the organization can join its teams",
            [f"user_id: no member {user_id!r}"],
        )
    return user


def _membership(session: Session, team: Team, user_id: str) -> tuple[TeamMemberRow, UserRow]:
    row = session.get(TeamMemberRow, (team.id, user_id)) if looks_like_id(user_id) else None
    user = session.get(UserRow, user_id) if row is not None else None
    if row is None or user is None:
        raise NotFound(f"No member {user_id!r} in team {team.slug!r}")
    return row, user


def _member(row: TeamMemberRow, user: UserRow) -> TeamMember:
    return TeamMember(
        user.id, user.email, user.name or user.email, TeamRole(row.role), row.created_at
    )


def _role(value: str) -> TeamRole:
    try:
        return TeamRole(value)
    except ValueError:
        raise ValidationFailed(
            "Unknown role", [f"role: must be 'member' or 'maintainer', not {value!r}"]
        ) from None


def _level(value: str) -> AccessLevel:
    try:
        return AccessLevel(value)
    except ValueError:
        known = ", ".join(level.value for level in AccessLevel)
        raise ValidationFailed(
            "Unknown access level", [f"access_level: one of {known}, not {value!r}"]
        ) from None


def _validate(fields: TeamFields, *, create: bool) -> None:
    problems: list[str] = []
    if create or "name" in fields.given:
        if not fields.name or not fields.name.strip():
            problems.append("name: a team needs a name")
        elif len(fields.name) > MAX_NAME_LENGTH or "\x00" in fields.name:
            problems.append(f"name: at most {MAX_NAME_LENGTH} characters, no NUL")
        else:
            try:
                slugify(fields.name)
            except ValidationFailed as error:
                problems.append(f"name: {error.message}")
    if fields.description is not None and (
        len(fields.description) > MAX_DESCRIPTION_LENGTH or "\x00" in fields.description
    ):
        problems.append(f"description: at most {MAX_DESCRIPTION_LENGTH} characters, no NUL")
    if fields.privacy is not None and fields.privacy not in {p.value for p in TeamPrivacy}:
        problems.append("privacy: must be 'visible' or 'secret'")
    if problems:
        raise ValidationFailed("The team's fields are not acceptable", problems)


def _state(team: Team) -> dict[str, Any]:
    return {
        "name": team.name,
        "slug": team.slug,
        "description": team.description,
        "privacy": team.privacy.value,
        "default": team.default,
    }
