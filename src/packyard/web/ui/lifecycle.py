"""The package page's Yank (with a reason) and Unyank buttons (``delete_packages``), and
its project status form (full access)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from packyard.web.deps import services_of
from packyard.web.ui.common import PageRoute, checked_form, redirect, visitor_of
from packyard.web.ui.packages import PACKAGE_PATH
from packyard.web.ui.registries import readable_registry, registry_url

router = APIRouter(route_class=PageRoute, include_in_schema=False)


@router.post(PACKAGE_PATH + "/yank")
async def yank_package(
    request: Request, organization: str, registry: str, package_id: str
) -> Response:
    return await _set_yank(request, organization, registry, package_id, yank=True)


@router.post(PACKAGE_PATH + "/unyank")
async def unyank_package(
    request: Request, organization: str, registry: str, package_id: str
) -> Response:
    return await _set_yank(request, organization, registry, package_id, yank=False)


async def _set_yank(
    request: Request, organization: str, registry: str, package_id: str, *, yank: bool
) -> Response:
    visitor = await visitor_of(request)
    form = await checked_form(request, visitor)
    target, principal = await readable_registry(request, visitor, organization, registry)
    reason = str(form.get("reason") or "") if yank else None
    lifecycle = services_of(request).lifecycle
    await run_in_threadpool(
        lifecycle.yank_file, principal, organization, registry, package_id, reason
    )
    return redirect(f"{registry_url(target)}/packages/{package_id}")


@router.post(PACKAGE_PATH + "/status")
async def set_project_status(
    request: Request, organization: str, registry: str, package_id: str
) -> Response:
    visitor = await visitor_of(request)
    form = await checked_form(request, visitor)
    target, principal = await readable_registry(request, visitor, organization, registry)
    services = services_of(request)
    detail = await run_in_threadpool(
        services.packages.package, principal, organization, registry, package_id
    )
    await run_in_threadpool(
        services.lifecycle.set_project_status,
        principal,
        organization,
        registry,
        detail.package.project,
        str(form.get("status") or ""),
        str(form.get("reason") or ""),
    )
    return redirect(f"{registry_url(target)}/packages/{package_id}")
