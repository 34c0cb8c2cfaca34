"""The Teams page of an organization (its switches, its teams, their members and roles)
and the Teams part of a registry's Settings tab. Each page shows only what the signed-in
person may do (``core.permissions``); the services refuse the rest anyway."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from packyard.core.errors import NotFound, ValidationFailed
from packyard.core.models import Organization, Principal, Registry, Team, TeamAccess, TeamMember
from packyard.core.permissions import allowed_in_organization, allowed_on_team, is_admin
from packyard.core.scopes import Scope
from packyard.services.teams import TeamFields
from packyard.web.deps import services_of
from packyard.web.ui.common import (
    PageRoute,
    Visitor,
    checked_form,
    field,
    redirect,
    render,
    signed_in_member,
    visitor_of,
)

router = APIRouter(route_class=PageRoute, include_in_schema=False)

TEAMS_PATH = "/organizations/{organization}/teams"
SWITCH_LABELS = {
    "teams_enabled": "Teams decide who reaches each registry",
    "members_can_create_registries": "Members may create registries",
    "members_can_delete_packages": "Members who may publish may also delete packages",
    "members_can_delete_registries": "Members who may publish may also delete registries",
}


@dataclass(frozen=True, slots=True)
class TeamView:
    team: Team
    members: list[TeamMember]
    can_manage: bool


@dataclass(frozen=True, slots=True)
class RegistryTeams:
    """The Teams card of a registry's Settings tab."""

    granted: list[TeamAccess]
    grantable: list[Team]  # teams the person manages, to grant or change


async def registry_teams(
    request: Request, registry: Registry, principal: Principal
) -> RegistryTeams:
    teams = services_of(request).teams
    slug, org = registry.slug, registry.organization_slug
    granted = await run_in_threadpool(teams.registry_teams, principal, org, slug)
    visible = await run_in_threadpool(teams.list_teams, principal, org)
    grantable = [t for t in visible if allowed_on_team(principal, Scope.WRITE_TEAMS, t)]
    return RegistryTeams(granted, grantable)


async def _page(
    request: Request,
    visitor: Visitor,
    organization: Organization,
    principal: Principal,
    *,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    services = services_of(request)
    settings = await run_in_threadpool(
        services.organizations.settings, principal, organization.slug
    )
    found = await run_in_threadpool(services.teams.list_teams, principal, organization.slug)
    views = []
    for team in found:
        members = await run_in_threadpool(
            services.teams.members, principal, organization.slug, team.id
        )
        views.append(TeamView(team, members, allowed_on_team(principal, Scope.WRITE_TEAMS, team)))
    return render(
        request,
        visitor,
        "teams.html",
        status_code=status_code,
        organization=organization,
        switches=settings.switches,
        switch_labels=SWITCH_LABELS,
        is_admin=is_admin(principal),
        can_create=allowed_in_organization(principal, Scope.WRITE_TEAMS, organization.id),
        teams=views,
        error=error,
    )


@router.get(TEAMS_PATH)
async def teams_page(request: Request, organization: str) -> Response:
    visitor = await visitor_of(request)
    found, principal = await signed_in_member(request, visitor, organization, "to see teams")
    return await _page(request, visitor, found, principal)


async def _act(request: Request, organization: str, action: str, *args: object) -> Response:
    """Run one TeamService ``action`` for the posted form; a refused value re-renders the
    page with the message (422), anything else goes back to the page."""
    visitor = await visitor_of(request)
    await checked_form(request, visitor)
    found, principal = await signed_in_member(request, visitor, organization, "to see teams")
    method = getattr(services_of(request).teams, action)
    try:
        await run_in_threadpool(method, principal, found.slug, *args)
    except ValidationFailed as error:
        message = "; ".join([error.message, *error.errors]) if error.errors else error.message
        return await _page(request, visitor, found, principal, error=message, status_code=422)
    return redirect(f"/organizations/{found.slug}/teams")


@router.post(TEAMS_PATH)
async def create_team(request: Request, organization: str) -> Response:
    values = await request.form()
    privacy = "secret" if field(values, "privacy") == "secret" else "visible"
    fields = TeamFields(
        given=frozenset({"name", "description", "privacy"}),
        name=field(values, "name"),
        description=field(values, "description"),
        privacy=privacy,
    )
    return await _act(request, organization, "create_team", fields)


@router.post(TEAMS_PATH + "/{team}/delete")
async def delete_team(request: Request, organization: str, team: str) -> Response:
    return await _act(request, organization, "delete_team", team)


@router.post(TEAMS_PATH + "/{team}/members")
async def add_member(request: Request, organization: str, team: str) -> Response:
    values = await request.form()
    users = services_of(request).users
    try:
        user_id = await run_in_threadpool(users.member_id, field(values, "email"), organization)
    except NotFound:  # not a member: the service refuses it with a message (422)
        user_id = field(values, "email")
    role = "maintainer" if field(values, "role") == "maintainer" else "member"
    return await _act(request, organization, "add_member", team, user_id, role)


@router.post(TEAMS_PATH + "/{team}/members/{user_id}/role")
async def change_role(request: Request, organization: str, team: str, user_id: str) -> Response:
    values = await request.form()
    role = "maintainer" if field(values, "role") == "maintainer" else "member"
    return await _act(request, organization, "change_member", team, user_id, role)


@router.post(TEAMS_PATH + "/{team}/members/{user_id}/remove")
async def remove_member(request: Request, organization: str, team: str, user_id: str) -> Response:
    return await _act(request, organization, "remove_member", team, user_id)


@router.post("/organizations/{organization}/settings")
async def change_switches(request: Request, organization: str) -> Response:
    visitor = await visitor_of(request)
    values = await checked_form(request, visitor)
    found, principal = await signed_in_member(request, visitor, organization, "to see teams")
    changes = {name: field(values, name) == "on" for name in SWITCH_LABELS}
    await run_in_threadpool(
        services_of(request).organizations.change, principal, found.slug, changes
    )
    return redirect(f"/organizations/{found.slug}/teams")
