"""Teams, their members, an organization's switches and people (``/v2/organizations``),
and which teams reach a registry (``.../registries/{registry}/teams``). Thin: the
services check the caller and own the transactions."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from packyard.core.models import Team, TeamAccess, TeamMember
from packyard.services.organizations import OrganizationSettings
from packyard.services.teams import TeamFields
from packyard.web.api import team_schemas as s
from packyard.web.api.common import ERRORS, PREFIX, Caller, operation_id
from packyard.web.deps import services_of

router = APIRouter(
    prefix="/v2/organizations/{organization}",
    tags=["teams"],
    responses=ERRORS,
    generate_unique_id_function=operation_id,
)
access_router = APIRouter(
    prefix=f"{PREFIX}/registries/{{registry}}/teams",
    tags=["teams"],
    responses=ERRORS,
    generate_unique_id_function=operation_id,
)


def _team(team: Team) -> s.TeamOut:
    return s.TeamOut(
        id=team.id,
        name=team.name,
        slug=team.slug,
        description=team.description,
        privacy=team.privacy,
        default=team.default,
        created_at=team.created_at,
        created_by=team.created_by,
    )


def _member(member: TeamMember) -> s.TeamMemberOut:
    return s.TeamMemberOut(
        user_id=member.user_id,
        email=member.email,
        name=member.name,
        role=member.role,
        created_at=member.created_at,
    )


def _access(access: TeamAccess) -> s.RegistryTeamOut:
    return s.RegistryTeamOut(
        team_id=access.team.id,
        team_slug=access.team.slug,
        team_name=access.team.name,
        access_level=access.access_level,
        created_at=access.created_at,
    )


def _organization(settings: OrganizationSettings) -> s.OrganizationOut:
    organization, switches = settings.organization, settings.switches
    return s.OrganizationOut(
        id=organization.id,
        slug=organization.slug,
        name=organization.name,
        created_at=organization.created_at,
        teams_enabled=switches.teams_enabled,
        members_can_create_registries=switches.members_can_create_registries,
        members_can_delete_packages=switches.members_can_delete_packages,
        members_can_delete_registries=switches.members_can_delete_registries,
    )


def _fields(body: s.TeamCreate | s.TeamUpdate, given: frozenset[str]) -> TeamFields:
    return TeamFields(
        given=given,
        name=body.name,
        description=body.description,
        privacy=body.privacy.value if body.privacy is not None else None,
        default=body.default,
    )


@router.get("", summary="The organization and its switches (read_registries)")
async def get_organization(
    request: Request, organization: str, principal: Caller
) -> s.OrganizationOut:
    service = services_of(request).organizations
    return _organization(await run_in_threadpool(service.settings, principal, organization))


@router.patch("", summary="Change the organization's switches (admins)")
async def update_organization(
    request: Request, organization: str, body: s.OrganizationUpdate, principal: Caller
) -> s.OrganizationOut:
    service = services_of(request).organizations
    changes = body.model_dump(exclude_none=True)
    return _organization(await run_in_threadpool(service.change, principal, organization, changes))


@router.get("/users", summary="The organization's users (admins)")
async def list_users(request: Request, organization: str, principal: Caller) -> list[s.UserOut]:
    service = services_of(request).organizations
    users = await run_in_threadpool(service.users, principal, organization)
    return [
        s.UserOut(id=u.id, email=u.email, name=u.name, admin=u.admin, created_at=u.created_at)
        for u in users
    ]


@router.get("/teams", summary="List teams (read_teams)")
async def list_teams(request: Request, organization: str, principal: Caller) -> list[s.TeamOut]:
    teams = services_of(request).teams
    return [_team(t) for t in await run_in_threadpool(teams.list_teams, principal, organization)]


@router.post("/teams", summary="Create a team (write_teams; admins)", status_code=201)
async def create_team(
    request: Request, organization: str, body: s.TeamCreate, principal: Caller
) -> s.TeamOut:
    teams = services_of(request).teams
    given = frozenset(s.TeamCreate.model_fields)
    created = await run_in_threadpool(
        teams.create_team, principal, organization, _fields(body, given)
    )
    return _team(created)


@router.get("/teams/{team}", summary="Get a team (read_teams)")
async def get_team(request: Request, organization: str, team: str, principal: Caller) -> s.TeamOut:
    teams = services_of(request).teams
    return _team(await run_in_threadpool(teams.team, principal, organization, team))


@router.patch("/teams/{team}", summary="Update a team (write_teams; admins and maintainers)")
async def update_team(
    request: Request, organization: str, team: str, body: s.TeamUpdate, principal: Caller
) -> s.TeamOut:
    teams = services_of(request).teams
    fields = _fields(body, frozenset(body.model_fields_set))
    changed = await run_in_threadpool(teams.update_team, principal, organization, team, fields)
    return _team(changed)


@router.delete(
    "/teams/{team}", summary="Delete a team (write_teams)", status_code=204, response_class=Response
)
async def delete_team(
    request: Request, organization: str, team: str, principal: Caller
) -> Response:
    teams = services_of(request).teams
    await run_in_threadpool(teams.delete_team, principal, organization, team)
    return Response(status_code=204)


@router.get("/teams/{team}/members", summary="A team's members (read_teams)")
async def list_members(
    request: Request, organization: str, team: str, principal: Caller
) -> list[s.TeamMemberOut]:
    teams = services_of(request).teams
    members = await run_in_threadpool(teams.members, principal, organization, team)
    return [_member(m) for m in members]


@router.post("/teams/{team}/members", summary="Add a member (write_teams)", status_code=201)
async def add_member(
    request: Request, organization: str, team: str, body: s.TeamMemberIn, principal: Caller
) -> s.TeamMemberOut:
    teams = services_of(request).teams
    added = await run_in_threadpool(
        teams.add_member, principal, organization, team, body.user_id, body.role.value
    )
    return _member(added)


@router.patch("/teams/{team}/members/{user_id}", summary="Change a member's role (write_teams)")
async def update_member(
    request: Request,
    organization: str,
    team: str,
    user_id: str,
    body: s.TeamMemberUpdate,
    principal: Caller,
) -> s.TeamMemberOut:
    teams = services_of(request).teams
    changed = await run_in_threadpool(
        teams.change_member, principal, organization, team, user_id, body.role.value
    )
    return _member(changed)


@router.delete(
    "/teams/{team}/members/{user_id}",
    summary="Remove a member (write_teams)",
    status_code=204,
    response_class=Response,
)
async def remove_member(
    request: Request, organization: str, team: str, user_id: str, principal: Caller
) -> Response:
    teams = services_of(request).teams
    await run_in_threadpool(teams.remove_member, principal, organization, team, user_id)
    return Response(status_code=204)


@access_router.get("", summary="Teams with access to the registry (read_registries)")
async def list_registry_teams(
    request: Request, organization: str, registry: str, principal: Caller
) -> list[s.RegistryTeamOut]:
    teams = services_of(request).teams
    found = await run_in_threadpool(teams.registry_teams, principal, organization, registry)
    return [_access(a) for a in found]


@access_router.put(
    "/{team}", summary="Grant a team an access level (full access to the registry, and the team)"
)
async def grant_registry_team(
    request: Request,
    organization: str,
    registry: str,
    team: str,
    body: s.RegistryTeamIn,
    principal: Caller,
) -> s.RegistryTeamOut:
    teams = services_of(request).teams
    granted = await run_in_threadpool(
        teams.grant, principal, organization, registry, team, body.access_level.value
    )
    return _access(granted)


@access_router.delete(
    "/{team}", summary="Revoke a team's access", status_code=204, response_class=Response
)
async def revoke_registry_team(
    request: Request, organization: str, registry: str, team: str, principal: Caller
) -> Response:
    teams = services_of(request).teams
    await run_in_threadpool(teams.revoke, principal, organization, registry, team)
    return Response(status_code=204)
