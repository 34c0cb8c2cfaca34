"""A person's standing in an organization, loaded explicitly for each request: their role,
the organization's switches, their teams and the best access level those teams hold on
each registry. ``core.permissions`` decides over the plain ``MemberAccess`` this returns;
loading it on every request (never caching it across requests except through the
database change counter, ``services.access``) is what makes removing someone from a team
take effect at once, through every token they made.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from packyard.core.errors import NotFound, ValidationFailed
from packyard.core.models import (
    LEVEL_ORDER,
    AccessLevel,
    MemberAccess,
    OrganizationSwitches,
    OrganizationUser,
    Principal,
    PrincipalKind,
    TeamRole,
)
from packyard.core.names import looks_like_id
from packyard.core.permissions import user_principal
from packyard.db.tables import (
    MembershipRow,
    OrganizationRow,
    TeamMemberRow,
    TeamRegistryRow,
    TeamRow,
    UserRow,
)

SWITCHES = frozenset(field.name for field in dataclasses.fields(OrganizationSwitches))


def switches_from_row(row: OrganizationRow) -> OrganizationSwitches:
    return OrganizationSwitches(
        teams_enabled=bool(row.teams_enabled),
        members_can_create_registries=bool(row.members_can_create_registries),
        members_can_delete_packages=bool(row.members_can_delete_packages),
        members_can_delete_registries=bool(row.members_can_delete_registries),
    )


def organization_switches(session: Session, organization_id: str) -> OrganizationSwitches:
    row = session.get(OrganizationRow, organization_id)
    return switches_from_row(row) if row is not None else OrganizationSwitches()


def set_switches(
    session: Session, organization_id: str, changes: Mapping[str, bool]
) -> tuple[OrganizationSwitches, OrganizationSwitches]:
    """Set the switches named in ``changes`` (others are ignored): before and after."""
    row = session.get(OrganizationRow, organization_id)
    if row is None:
        raise NotFound(f"No organization {organization_id!r}")
    before = switches_from_row(row)
    for name in SWITCHES & changes.keys():
        setattr(row, name, bool(changes[name]))
    return before, switches_from_row(row)


def organization_users(session: Session, organization_id: str) -> list[OrganizationUser]:
    """The organization's people, by email."""
    rows = session.execute(
        select(UserRow, MembershipRow.admin)
        .join(MembershipRow, MembershipRow.user_id == UserRow.id)
        .where(MembershipRow.organization_id == organization_id)
        .order_by(UserRow.email)
    ).all()
    return [
        OrganizationUser(user.id, user.email, user.name or user.email, bool(admin), user.created_at)
        for user, admin in rows
    ]


def member_access(session: Session, user_id: str, organization_id: str) -> MemberAccess | None:
    """The user's standing in the organization; None when they are not a member."""
    found = session.execute(
        select(MembershipRow.admin, OrganizationRow)
        .join(OrganizationRow, MembershipRow.organization_id == OrganizationRow.id)
        .where(MembershipRow.user_id == user_id, MembershipRow.organization_id == organization_id)
    ).first()
    if found is None:
        return None
    admin, organization = found
    teams = session.execute(
        select(TeamMemberRow.team_id, TeamMemberRow.role)
        .join(TeamRow, TeamMemberRow.team_id == TeamRow.id)
        .where(TeamMemberRow.user_id == user_id, TeamRow.organization_id == organization_id)
    ).all()
    team_ids = frozenset(team_id for team_id, _ in teams)
    levels: dict[str, AccessLevel] = {}
    if team_ids:
        grants = session.execute(
            select(TeamRegistryRow.registry_id, TeamRegistryRow.access_level).where(
                TeamRegistryRow.team_id.in_(team_ids)
            )
        ).all()
        for registry_id, level_value in grants:
            level = AccessLevel(level_value)
            best = levels.get(registry_id)
            if best is None or LEVEL_ORDER.index(level) > LEVEL_ORDER.index(best):
                levels[registry_id] = level
    return MemberAccess(
        admin=bool(admin),
        switches=switches_from_row(organization),
        levels=levels,
        teams=team_ids,
        maintained=frozenset(t for t, role in teams if role == TeamRole.MAINTAINER.value),
    )


def user_in(session: Session, user_id: str, organization_id: str) -> Principal:
    """A signed-in user acting in ``organization_id``: a member with their standing, or a
    user with no scopes there (who sees public registries only)."""
    member = member_access(session, user_id, organization_id)
    if member is None:
        return Principal(kind=PrincipalKind.USER, user_id=user_id)
    return user_principal(user_id, organization_id, admin=member.admin, member=member)


def owner_standing(
    session: Session, organization_id: str, user_id: str | None
) -> tuple[MemberAccess | None, bool]:
    """A token's owner's standing, and whether the token may act at all: an organization
    token (no owner) acts with its scopes alone; a person's token only while its owner is
    still a member."""
    if user_id is None:
        return None, True
    member = member_access(session, user_id, organization_id)
    return member, member is not None


def grant_on_create(
    session: Session,
    organization_id: str,
    registry_id: str,
    team_ids: Iterable[str],
    creator_id: str | None,
    now: datetime,
) -> None:
    """A new registry's grants (Buildkite's rule): ``read_and_write`` for the teams named
    at creation and for the creator's own teams. Raises ValidationFailed for a team that
    is not the organization's."""
    wanted = set(team_ids)
    for team_id in wanted:
        team = session.get(TeamRow, team_id) if looks_like_id(team_id) else None
        if team is None or team.organization_id != organization_id:
            raise ValidationFailed(
                "The registry's fields are not acceptable", [f"team_ids: no team {team_id!r}"]
            )
    if creator_id is not None:
        wanted.update(
            session.scalars(
                select(TeamMemberRow.team_id)
                .join(TeamRow, TeamMemberRow.team_id == TeamRow.id)
                .where(
                    TeamMemberRow.user_id == creator_id, TeamRow.organization_id == organization_id
                )
            ).all()
        )
    for team_id in sorted(wanted):
        session.add(
            TeamRegistryRow(
                team_id=team_id,
                registry_id=registry_id,
                access_level=AccessLevel.READ_AND_WRITE.value,
                created_at=now,
            )
        )
