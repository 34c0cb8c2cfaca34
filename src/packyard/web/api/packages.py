"""Packages of a registry: publishing with ``curl -F file=@dist.whl``."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from packyard.core.errors import InvalidRequest
from packyard.web.api.shapes import package_json
from packyard.web.auth import principal_for
from packyard.web.deps import base_url, services_of
from packyard.web.multipart import receive_form

router = APIRouter(prefix="/v2/packages/organizations/{organization}/registries/{registry}")

FILE_FIELD = "file"


@router.post(
    "/packages",
    summary="Publish a wheel or sdist",
    description="Send the file as multipart form field `file`. Publishing the same bytes "
    "again answers the existing package; other bytes under a taken name answer 409.",
)
async def publish_package(request: Request, organization: str, registry: str) -> dict[str, Any]:
    services = services_of(request)
    principal = await principal_for(request, services.tokens)
    publishing = services.publishing
    target = await run_in_threadpool(publishing.authorize, principal, organization, registry)
    form = await receive_form(request, publishing.staging, frozenset({FILE_FIELD}))
    if form.file is None:
        raise InvalidRequest('No file in the request: send it as the form field "file"')
    result = await run_in_threadpool(publishing.publish, target, form.file)
    return package_json(base_url(request), target, result.package)
