"""Teams of an organization: create, change, delete; their members and roles; the access
levels teams hold on registries. Every call checks the caller with ``core.permissions``
(``allowed_on_team`` for a team, ``allowed`` for a registry) and runs in one transaction.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from packyard.core.errors import ValidationFailed
from packyard.core.events import EventType, Subject, changed_fields
from packyard.core.models import (
    AccessLevel,
    Organization,
    Principal,
    Registry,
    Team,
    TeamAccess,
    TeamMember,
    TeamPrivacy,
    TeamRole,
)
from packyard.core.names import slugify
from packyard.core.permissions import (
    Disclosure,
    allowed_on_team,
    require_on_team,
)
from packyard.core.scopes import Scope
from packyard.db import teams as queries
from packyard.services.events import record
from packyard.services.scoped import ScopedService

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


class TeamService(ScopedService):
    def _organization(self, principal: Principal, slug: str, scope: Scope) -> Organization:
        return self._registries.organization_for(principal, slug, scope, Disclosure.API)

    def list_teams(self, principal: Principal, organization_slug: str) -> list[Team]:
        """The teams the caller may see, by name (``read_teams``)."""
        organization = self._organization(principal, organization_slug, Scope.READ_TEAMS)
        with self._sessions() as session:
            teams = queries.teams_of(session, organization.id)
        return [t for t in teams if allowed_on_team(principal, Scope.READ_TEAMS, t)]

    def team(self, principal: Principal, organization_slug: str, team_id: str) -> Team:
        """One team (``read_teams``), by id or slug; NotFound for one the caller may not see."""
        return self._team(principal, organization_slug, team_id, Scope.READ_TEAMS)

    def _team(
        self, principal: Principal, organization_slug: str, team_id: str, scope: Scope
    ) -> Team:
        organization = self._organization(principal, organization_slug, Scope.READ_TEAMS)
        with self._sessions() as session:
            team = queries.find_team(session, organization.id, team_id)
        require_on_team(principal, scope, team)
        return team

    def create_team(self, principal: Principal, organization_slug: str, fields: TeamFields) -> Team:
        """Create a team (``write_teams``; organization admins). The creator, when a
        person, becomes its first maintainer."""
        organization = self._organization(principal, organization_slug, Scope.WRITE_TEAMS)
        _validate(fields, create=True)
        created = Team(
            id=str(uuid.uuid4()),
            organization_id=organization.id,
            slug=slugify(fields.name or ""),
            name=(fields.name or "").strip(),
            description=fields.description or "",
            privacy=TeamPrivacy(fields.privacy or TeamPrivacy.VISIBLE.value),
            default=bool(fields.default),
            created_at=self._now(),
            created_by=principal.user_id,
        )
        try:
            with self._sessions.begin() as session:
                queries.insert_team(session, created)
                self._record(
                    session, principal, EventType.TEAM_CREATED, created, {}, _state(created)
                )
        except IntegrityError:
            raise ValidationFailed(
                f"A team with slug {created.slug!r} already exists in {organization_slug!r}"
            ) from None
        return created

    def update_team(
        self, principal: Principal, organization_slug: str, team_id: str, fields: TeamFields
    ) -> Team:
        """Change the fields given (``write_teams``: admins and the team's maintainers)."""
        team = self._team(principal, organization_slug, team_id, Scope.WRITE_TEAMS)
        _validate(fields, create=False)
        values: dict[str, object] = {}
        if "name" in fields.given and fields.name:
            values |= {"name": fields.name.strip(), "slug": slugify(fields.name)}
        if "description" in fields.given:
            values["description"] = fields.description or ""
        if "privacy" in fields.given and fields.privacy:
            values["privacy"] = fields.privacy
        if "default" in fields.given and fields.default is not None:
            values["default"] = fields.default
        try:
            with self._sessions.begin() as session:
                changed = queries.update_team(session, team.id, values)
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
            queries.delete_team(session, team.id)
            self._record(session, principal, EventType.TEAM_DELETED, team, _state(team), {})
        return team

    # Members.

    def members(
        self, principal: Principal, organization_slug: str, team_id: str
    ) -> list[TeamMember]:
        team = self._team(principal, organization_slug, team_id, Scope.READ_TEAMS)
        with self._sessions() as session:
            return queries.members_of(session, team.id)

    def add_member(
        self, principal: Principal, organization_slug: str, team_id: str, user_id: str, role: str
    ) -> TeamMember:
        """Add an organization member to the team (``write_teams``)."""
        team = self._team(principal, organization_slug, team_id, Scope.WRITE_TEAMS)
        chosen = _role(role)
        with self._sessions.begin() as session:
            member = queries.add_member(session, team, user_id, chosen, self._now())
            after = _member_state(member)
            self._record(session, principal, EventType.TEAM_MEMBER_CREATED, team, {}, after)
            return member

    def change_member(
        self, principal: Principal, organization_slug: str, team_id: str, user_id: str, role: str
    ) -> TeamMember:
        team = self._team(principal, organization_slug, team_id, Scope.WRITE_TEAMS)
        chosen = _role(role)
        with self._sessions.begin() as session:
            before, after = queries.set_member_role(session, team, user_id, chosen)
            assert after is not None  # a role was given
            self._record(
                session,
                principal,
                EventType.TEAM_MEMBER_UPDATED,
                team,
                _member_state(before),
                _member_state(after),
            )
            return after

    def remove_member(
        self, principal: Principal, organization_slug: str, team_id: str, user_id: str
    ) -> None:
        """Remove someone from the team: what it gave them (and their tokens) ends with the
        next request."""
        team = self._team(principal, organization_slug, team_id, Scope.WRITE_TEAMS)
        with self._sessions.begin() as session:
            before, _ = queries.set_member_role(session, team, user_id, None)
            self._record(
                session, principal, EventType.TEAM_MEMBER_DELETED, team, _member_state(before), {}
            )

    # Registry access.

    def registry_teams(
        self, principal: Principal, organization_slug: str, registry_slug: str
    ) -> list[TeamAccess]:
        """The teams granted the registry (``read_registries`` on it)."""
        registry = self._registries.registry_for(
            principal, organization_slug, registry_slug, Scope.READ_REGISTRIES, Disclosure.API
        )
        with self._sessions() as session:
            found = queries.registry_grants(session, registry)
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
            before, granted = queries.set_grant(session, team, registry, chosen, self._now())
            assert granted is not None  # a level was given
            self._record(
                session,
                principal,
                EventType.TEAM_REGISTRY_CREATED,
                team,
                _level_state(before),
                _level_state(chosen),
                registry,
            )
            return granted

    def revoke(
        self, principal: Principal, organization_slug: str, registry_slug: str, team_id: str
    ) -> None:
        registry, team = self._grantable(principal, organization_slug, registry_slug, team_id)
        with self._sessions.begin() as session:
            before, _ = queries.set_grant(session, team, registry, None, self._now())
            self._record(
                session,
                principal,
                EventType.TEAM_REGISTRY_DELETED,
                team,
                _level_state(before),
                {},
                registry,
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
            return queries.teams_of(session, organization.id)


def _member_state(member: TeamMember) -> dict[str, Any]:
    return {"user": member.email, "role": member.role.value}


def _level_state(level: AccessLevel | None) -> dict[str, Any]:
    return {} if level is None else {"access_level": level.value}


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
