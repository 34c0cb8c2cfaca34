"""The Settings tab's forms: a registry's fields and visibility, deleting it, and its
read-only registry tokens (created and shown once, listed, revoked)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from packyard.core.errors import ValidationFailed
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


@router.post(REGISTRY_PATH + "/settings")
async def update_registry(request: Request, organization: str, registry: str) -> Response:
    visitor = await visitor_of(request)
    values = await checked_form(request, visitor)
    target, principal = await readable_registry(request, visitor, organization, registry)
    registries = services_of(request).registries
    try:
        changed = await run_in_threadpool(
            registries.update, principal, target.organization_slug, target.slug, form_of(values)
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
    return redirect(registry_url(changed) + "?tab=settings")


@router.post(REGISTRY_PATH + "/delete")
async def delete_registry(request: Request, organization: str, registry: str) -> Response:
    visitor = await visitor_of(request)
    values = await checked_form(request, visitor)
    target, principal = await readable_registry(request, visitor, organization, registry)
    registries = services_of(request).registries
    try:
        if field(values, "confirm_name").strip() != target.name:
            raise ValidationFailed("Type the registry's name exactly to delete it.")
        await run_in_threadpool(registries.delete, principal, target.organization_slug, target.slug)
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
    return redirect(f"/organizations/{target.organization_slug}/packages")


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
