"""The Settings tab's forms: a registry's fields and visibility, its trusted publishing
policy, deleting it, its read-only registry tokens (created and shown once, listed,
revoked) and the teams that reach it (granted, changed, revoked)."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.responses import Response

from packyard.core.errors import ValidationFailed
from packyard.core.models import Principal, Registry
from packyard.web.deps import services_of
from packyard.web.ui.common import PageRoute, checked_form, field, redirect, visitor_of
from packyard.web.ui.registries import (
    REGISTRY_PATH,
    form_of,
    readable_registry,
    registry_page,
    registry_url,
)

router = APIRouter(route_class=PageRoute, include_in_schema=False)


# A change made by a settings form: given the caller, the registry and the form, it
# returns where to go next, or raises ValidationFailed to show the tab again with the error.
Change = Callable[[Principal, Registry, FormData], str]


async def _settings_form(
    request: Request, organization: str, registry: str, change: Change
) -> Response:
    visitor = await visitor_of(request)
    values = await checked_form(request, visitor)
    target, principal = await readable_registry(request, visitor, organization, registry)
    try:
        location = await run_in_threadpool(change, principal, target, values)
    except ValidationFailed as error:
        return await registry_page(
            request,
            visitor,
            target,
            principal,
            tab="settings",
            error=error.message,
            status_code=422,
        )
    return redirect(location)


@router.post(REGISTRY_PATH + "/settings")
async def update_registry(request: Request, organization: str, registry: str) -> Response:
    registries = services_of(request).registries

    def change(principal: Principal, target: Registry, values: FormData) -> str:
        changed = registries.update(
            principal, target.organization_slug, target.slug, form_of(values)
        )
        return registry_url(changed) + "?tab=settings"

    return await _settings_form(request, organization, registry, change)


@router.post(REGISTRY_PATH + "/oidc-policy")
async def update_oidc_policy(request: Request, organization: str, registry: str) -> Response:
    oidc = services_of(request).oidc

    def change(principal: Principal, target: Registry, values: FormData) -> str:
        oidc.set_policy(principal, target, field(values, "oidc_policy"))
        return registry_url(target) + "?tab=settings"

    return await _settings_form(request, organization, registry, change)


@router.post(REGISTRY_PATH + "/delete")
async def delete_registry(request: Request, organization: str, registry: str) -> Response:
    registries = services_of(request).registries

    def change(principal: Principal, target: Registry, values: FormData) -> str:
        if field(values, "confirm_name").strip() != target.name:
            raise ValidationFailed("Type the registry's name exactly to delete it.")
        registries.delete(principal, target.organization_slug, target.slug)
        return f"/organizations/{target.organization_slug}/packages"

    return await _settings_form(request, organization, registry, change)


@router.post(REGISTRY_PATH + "/tokens")
async def create_registry_token(request: Request, organization: str, registry: str) -> Response:
    visitor = await visitor_of(request)
    values = await checked_form(request, visitor)
    target, principal = await readable_registry(request, visitor, organization, registry)
    tokens = services_of(request).tokens
    _, issued = await run_in_threadpool(
        tokens.create_registry_token,
        principal,
        target.organization_slug,
        target.slug,
        field(values, "description"),
    )
    # Rendered, not redirected: the secret is shown this once and never stored.
    return await registry_page(
        request, visitor, target, principal, tab="settings", new_token=issued
    )


@router.post(REGISTRY_PATH + "/tokens/{token_id}/revoke")
async def revoke_registry_token(
    request: Request, organization: str, registry: str, token_id: str
) -> Response:
    visitor = await visitor_of(request)
    await checked_form(request, visitor)
    target, principal = await readable_registry(request, visitor, organization, registry)
    tokens = services_of(request).tokens
    await run_in_threadpool(
        tokens.revoke_registry_token, principal, target.organization_slug, target.slug, token_id
    )
    return redirect(registry_url(target) + "?tab=settings")


@router.post(REGISTRY_PATH + "/teams")
async def grant_team(request: Request, organization: str, registry: str) -> Response:
    visitor = await visitor_of(request)
    values = await checked_form(request, visitor)
    target, principal = await readable_registry(request, visitor, organization, registry)
    teams = services_of(request).teams
    try:
        await run_in_threadpool(
            teams.grant,
            principal,
            target.organization_slug,
            target.slug,
            field(values, "team"),
            field(values, "access_level"),
        )
    except ValidationFailed as error:
        return await registry_page(
            request,
            visitor,
            target,
            principal,
            tab="settings",
            error=error.message,
            status_code=422,
        )
    return redirect(registry_url(target) + "?tab=settings")


@router.post(REGISTRY_PATH + "/teams/{team}/revoke")
async def revoke_team(request: Request, organization: str, registry: str, team: str) -> Response:
    visitor = await visitor_of(request)
    await checked_form(request, visitor)
    target, principal = await readable_registry(request, visitor, organization, registry)
    teams = services_of(request).teams
    await run_in_threadpool(teams.revoke, principal, target.organization_slug, target.slug, team)
    return redirect(registry_url(target) + "?tab=settings")
