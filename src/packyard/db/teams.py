"""Queries on teams, their members and their grants on registries, in the caller's
session; rows become ``core`` values here and nowhere else. ``services.teams`` decides who
may call them and records what changed."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from packyard.core.errors import NotFound, ValidationFailed
from packyard.core.models import (
    AccessLevel,
    Registry,
    Team,
    TeamAccess,
    TeamMember,
    TeamPrivacy,
    TeamRole,
)
from packyard.core.names import looks_like_id
from packyard.db.tables import MembershipRow, TeamMemberRow, TeamRegistryRow, TeamRow, UserRow

# The columns a team's update may change, by the field name the service uses.
TEAM_COLUMNS = {"name": "name", "slug": "slug", "description": "description",
                "privacy": "privacy", "default": "is_default"}  # fmt: skip


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


def teams_of(session: Session, organization_id: str) -> list[Team]:
    """The organization's teams, by name."""
    rows = session.scalars(
        select(TeamRow)
        .where(TeamRow.organization_id == organization_id)
        .order_by(TeamRow.name, TeamRow.id)
    ).all()
    return [team_from_row(row) for row in rows]


def find_team(session: Session, organization_id: str, team_id: str) -> Team:
    """The team by id or slug; NotFound otherwise."""
    column = TeamRow.id if looks_like_id(team_id) else TeamRow.slug
    row = session.scalar(
        select(TeamRow).where(TeamRow.organization_id == organization_id, column == team_id)
    )
    if row is None:
        raise NotFound(f"No team {team_id!r}")
    return team_from_row(row)


def insert_team(session: Session, team: Team) -> Team:
    """Add the team, with its creator (a person) as its first maintainer. The caller
    turns an IntegrityError (the slug is taken) into its message."""
    session.add(
        TeamRow(
            id=team.id,
            organization_id=team.organization_id,
            slug=team.slug,
            name=team.name,
            description=team.description,
            privacy=team.privacy.value,
            is_default=team.default,
            created_by=team.created_by,
            created_at=team.created_at,
        )
    )
    session.flush()
    if team.created_by is not None:
        session.add(
            TeamMemberRow(
                team_id=team.id,
                user_id=team.created_by,
                role=TeamRole.MAINTAINER.value,
                created_at=team.created_at,
            )
        )
    return team


def update_team(session: Session, team_id: str, values: dict[str, object]) -> Team:
    """Set the given fields (keys of ``TEAM_COLUMNS``); the team as it now is."""
    row = session.get(TeamRow, team_id)
    if row is None:
        raise NotFound(f"No team {team_id!r}")
    for field, value in values.items():
        setattr(row, TEAM_COLUMNS[field], value)
    session.flush()
    return team_from_row(row)


def delete_team(session: Session, team_id: str) -> None:
    """The team, its memberships and its grants."""
    session.execute(delete(TeamMemberRow).where(TeamMemberRow.team_id == team_id))
    session.execute(delete(TeamRegistryRow).where(TeamRegistryRow.team_id == team_id))
    session.execute(delete(TeamRow).where(TeamRow.id == team_id))


def members_of(session: Session, team_id: str) -> list[TeamMember]:
    rows = session.execute(
        select(TeamMemberRow, UserRow)
        .join(UserRow, TeamMemberRow.user_id == UserRow.id)
        .where(TeamMemberRow.team_id == team_id)
        .order_by(UserRow.email)
    ).all()
    return [_member(row, user) for row, user in rows]


def add_member(
    session: Session, team: Team, user_id: str, role: TeamRole, now: datetime
) -> TeamMember:
    """Add a member of the team's organization; ValidationFailed for anyone else or for
    someone already in the team."""
    user = session.get(UserRow, user_id) if looks_like_id(user_id) else None
    if user is None or session.get(MembershipRow, (user.id, team.organization_id)) is None:
        raise ValidationFailed(
            "Only members of the organization can join its teams",
            [f"user_id: no member {user_id!r}"],
        )
    if session.get(TeamMemberRow, (team.id, user.id)) is not None:
        raise ValidationFailed(f"{user.email} is already a member of {team.name!r}")
    row = TeamMemberRow(team_id=team.id, user_id=user.id, role=role.value, created_at=now)
    session.add(row)
    session.flush()
    return _member(row, user)


def set_member_role(
    session: Session, team: Team, user_id: str, role: TeamRole | None
) -> tuple[TeamMember, TeamMember | None]:
    """Change a member's role, or remove them (``role`` None): the membership before and
    after (None once removed). NotFound for someone not in the team."""
    row = session.get(TeamMemberRow, (team.id, user_id)) if looks_like_id(user_id) else None
    user = session.get(UserRow, user_id) if row is not None else None
    if row is None or user is None:
        raise NotFound(f"No member {user_id!r} in team {team.slug!r}")
    before = _member(row, user)
    if role is None:
        session.delete(row)
        return before, None
    row.role = role.value
    return before, _member(row, user)


def registry_grants(session: Session, registry: Registry) -> list[TeamAccess]:
    """The teams granted the registry, by team name."""
    rows = session.execute(
        select(TeamRegistryRow, TeamRow)
        .join(TeamRow, TeamRegistryRow.team_id == TeamRow.id)
        .where(TeamRegistryRow.registry_id == registry.id)
        .order_by(TeamRow.name)
    ).all()
    return [
        TeamAccess(team_from_row(team), registry, AccessLevel(grant.access_level), grant.created_at)
        for grant, team in rows
    ]


def set_grant(
    session: Session, team: Team, registry: Registry, level: AccessLevel | None, now: datetime
) -> tuple[AccessLevel | None, TeamAccess | None]:
    """Give the team ``level`` on the registry, change it, or take it away (None): the
    level before (None: none) and the grant after. NotFound when taking away nothing."""
    row = session.get(TeamRegistryRow, (team.id, registry.id))
    before = None if row is None else AccessLevel(row.access_level)
    if level is None:
        if row is None:
            raise NotFound(f"Team {team.slug!r} has no access to {registry.slug!r}")
        session.delete(row)
        return before, None
    if row is None:
        row = TeamRegistryRow(
            team_id=team.id, registry_id=registry.id, access_level=level.value, created_at=now
        )
        session.add(row)
    row.access_level = level.value
    return before, TeamAccess(team, registry, level, row.created_at)


def _member(row: TeamMemberRow, user: UserRow) -> TeamMember:
    return TeamMember(
        user.id, user.email, user.name or user.email, TeamRole(row.role), row.created_at
    )
