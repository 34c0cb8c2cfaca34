"""A source registry's Retention page (also the registry page's Retention tab, whose forms
post here): the storage it uses
(in all and per project, against its quota), the policy form, a Preview listing the files
the policy would delete, a Run button (confirmed) and the latest runs' summaries. The
same ``RetentionService`` methods as REST and the CLI decide who may (full access:
``write_registries``) and what is deleted (docs/retention.md)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.responses import Response

from packyard.core.errors import ValidationFailed
from packyard.core.models import Principal, Registry
from packyard.core.retention import DEFAULT_MIN_AGE_HOURS, RetentionPolicy
from packyard.services.retention import RetentionPreview
from packyard.web.deps import services_of
from packyard.web.ui.common import (
    PageRoute,
    Visitor,
    checked_form,
    field,
    redirect,
    render,
    visitor_of,
)
from packyard.web.ui.registries import REGISTRY_PATH, readable_registry, registry_url
from packyard.web.ui.retention_view import CONFIRM, RETENTION_SUFFIX, retention_view

router = APIRouter(route_class=PageRoute, include_in_schema=False)

RETENTION_PATH = REGISTRY_PATH + RETENTION_SUFFIX


def _whole(values: FormData, name: str) -> int | None:
    text = field(values, name).strip()
    if not text:
        return None
    try:
        return int(text)
    except ValueError:
        raise ValidationFailed(
            f"{name} must be a whole number, or empty for no such rule"
        ) from None


def policy_of(values: FormData) -> RetentionPolicy:
    """The policy the form describes: empty rules are off, one exemption per line."""
    hours = field(values, "min_age_hours").strip()
    try:
        min_age = float(hours) if hours else DEFAULT_MIN_AGE_HOURS
    except ValueError:
        raise ValidationFailed("min_age_hours must be a number of hours") from None
    exempt = tuple(line.strip() for line in field(values, "exempt").splitlines() if line.strip())
    return RetentionPolicy(
        keep_latest=_whole(values, "keep_latest"),
        prereleases_max_age_days=_whole(values, "prereleases_max_age_days"),
        not_downloaded_days=_whole(values, "not_downloaded_days"),
        exempt=exempt,
        min_age_hours=min_age,
    )


async def _page(
    request: Request,
    visitor: Visitor,
    registry: Registry,
    principal: Principal,
    *,
    preview: RetentionPreview | None = None,
    form: RetentionPolicy | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    view = await retention_view(
        request, registry, principal, registry_url(registry), preview=preview, form=form
    )
    return render(
        request,
        visitor,
        "retention.html",
        status_code=status_code,
        registry=registry,
        registry_url=registry_url(registry),
        retention=view,
        error=error,
    )


@router.get(RETENTION_PATH)
async def retention_page(request: Request, organization: str, registry: str) -> Response:
    visitor = await visitor_of(request)
    target, principal = await readable_registry(request, visitor, organization, registry)
    return await _page(request, visitor, target, principal)


@router.post(RETENTION_PATH)
async def save_policy(request: Request, organization: str, registry: str) -> Response:
    visitor = await visitor_of(request)
    values = await checked_form(request, visitor)
    target, principal = await readable_registry(request, visitor, organization, registry)
    retention = services_of(request).retention
    form: RetentionPolicy | None = None
    try:
        form = policy_of(values)
        await run_in_threadpool(
            retention.set_policy, principal, target.organization_slug, target.slug, form
        )
    except ValidationFailed as error:
        return await _page(
            request, visitor, target, principal, form=form, error=error.message, status_code=422
        )
    return redirect(f"{registry_url(target)}?tab=retention")


@router.post(RETENTION_PATH + "/preview")
async def preview_policy(request: Request, organization: str, registry: str) -> Response:
    visitor = await visitor_of(request)
    await checked_form(request, visitor)
    target, principal = await readable_registry(request, visitor, organization, registry)
    retention = services_of(request).retention
    preview = await run_in_threadpool(
        retention.preview, principal, target.organization_slug, target.slug
    )
    return await _page(request, visitor, target, principal, preview=preview)


@router.post(RETENTION_PATH + "/run")
async def run_policy(request: Request, organization: str, registry: str) -> Response:
    visitor = await visitor_of(request)
    values = await checked_form(request, visitor)
    target, principal = await readable_registry(request, visitor, organization, registry)
    retention = services_of(request).retention
    if field(values, "confirm") != CONFIRM:
        # The page's overview refuses, as the run would, whoever may not run it.
        return await _page(
            request,
            visitor,
            target,
            principal,
            error="Tick the box to confirm: the run deletes the files the preview lists.",
            status_code=422,
        )
    await run_in_threadpool(retention.run, principal, target.organization_slug, target.slug)
    return redirect(f"{registry_url(target)}?tab=retention")
