"""Yank and unyank (PEP 592): one file by its package id, or every file of a release by
project name and version (``delete_packages``). A yanked file stays installable with
``==``; unpinned requirements skip it. A project's status (PEP 792): read with
``read_packages``, set with full access."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from packyard.core.permissions import Disclosure
from packyard.services.lifecycle import ReleaseFiles
from packyard.web.api import schemas
from packyard.web.api.common import ERRORS, PREFIX, Caller, operation_id
from packyard.web.api.shapes import package_summary
from packyard.web.deps import base_url, services_of

router = APIRouter(
    prefix=f"{PREFIX}/registries/{{registry}}",
    tags=["lifecycle"],
    responses=ERRORS,
    generate_unique_id_function=operation_id,
)


@router.post("/packages/{package_id}/yank", summary="Yank one file (delete_packages)")
async def yank_package(
    request: Request,
    organization: str,
    registry: str,
    package_id: str,
    principal: Caller,
    body: schemas.YankRequest | None = None,
) -> schemas.PackageSummary:
    reason = "" if body is None else body.reason
    return await _file(request, principal, organization, registry, package_id, reason)


@router.post("/packages/{package_id}/unyank", summary="Unyank one file (delete_packages)")
async def unyank_package(
    request: Request, organization: str, registry: str, package_id: str, principal: Caller
) -> schemas.PackageSummary:
    return await _file(request, principal, organization, registry, package_id, None)


@router.post(
    "/releases/{name}/{version}/yank",
    summary="Yank every file of a release (delete_packages)",
)
async def yank_release(
    request: Request,
    organization: str,
    registry: str,
    name: str,
    version: str,
    principal: Caller,
    body: schemas.YankRequest | None = None,
) -> schemas.ReleaseFiles:
    reason = "" if body is None else body.reason
    return await _release(request, principal, organization, registry, name, version, reason)


@router.post(
    "/releases/{name}/{version}/unyank",
    summary="Unyank every file of a release (delete_packages)",
)
async def unyank_release(
    request: Request,
    organization: str,
    registry: str,
    name: str,
    version: str,
    principal: Caller,
) -> schemas.ReleaseFiles:
    return await _release(request, principal, organization, registry, name, version, None)


@router.get("/projects/{project}/status", summary="Get a project's status, PEP 792 (read_packages)")
async def get_project_status(
    request: Request, organization: str, registry: str, project: str, principal: Caller
) -> schemas.ProjectStatusBody:
    lifecycle = services_of(request).lifecycle
    state = await run_in_threadpool(
        lifecycle.project_status, principal, organization, registry, project, Disclosure.API
    )
    return schemas.ProjectStatusBody(status=state.status.value, reason=state.reason)


@router.put(
    "/projects/{project}/status",
    summary="Set a project's status, PEP 792 (full access)",
    description="archived and quarantined refuse new uploads (409); quarantined serves "
    "no files: the index lists none and file URLs answer 404.",
)
async def set_project_status(
    request: Request,
    organization: str,
    registry: str,
    project: str,
    principal: Caller,
    body: schemas.ProjectStatusBody,
) -> schemas.ProjectStatusBody:
    lifecycle = services_of(request).lifecycle
    state = await run_in_threadpool(
        lifecycle.set_project_status,
        principal,
        organization,
        registry,
        project,
        body.status,
        body.reason,
        Disclosure.API,
    )
    return schemas.ProjectStatusBody(status=state.status.value, reason=state.reason)


async def _file(
    request: Request,
    principal: Caller,
    organization: str,
    registry: str,
    package_id: str,
    reason: str | None,
) -> schemas.PackageSummary:
    lifecycle = services_of(request).lifecycle
    target, package = await run_in_threadpool(
        lifecycle.yank_file, principal, organization, registry, package_id, reason, Disclosure.API
    )
    return package_summary(base_url(request), target, package)


async def _release(
    request: Request,
    principal: Caller,
    organization: str,
    registry: str,
    name: str,
    version: str,
    reason: str | None,
) -> schemas.ReleaseFiles:
    lifecycle = services_of(request).lifecycle
    release: ReleaseFiles = await run_in_threadpool(
        lifecycle.yank_release,
        principal,
        organization,
        registry,
        name,
        version,
        reason,
        Disclosure.API,
    )
    base = base_url(request)
    return schemas.ReleaseFiles(
        name=release.project,
        version=release.version,
        yanked=release.yanked_reason is not None,
        yanked_reason=release.yanked_reason,
        files=[package_summary(base, release.registry, f) for f in release.files],
    )
