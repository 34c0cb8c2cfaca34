"""The composite registry's own forms: its Upstreams tab (add, remove, reorder, the public
PyPI on or off). Creating a composite goes through the New registry form
(``registries.create_registry``); its Setup & Usage tab is rendered by ``registries``."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from packyard.core.errors import InvalidRequest, ValidationFailed
from packyard.web.deps import services_of
from packyard.web.ui.common import PageRoute, checked_form, field, redirect, visitor_of
from packyard.web.ui.registries import (
    REGISTRY_PATH,
    readable_registry,
    registry_page,
    registry_url,
)

router = APIRouter(route_class=PageRoute, include_in_schema=False)


@router.post(REGISTRY_PATH + "/upstreams")
async def edit_upstreams(request: Request, organization: str, registry: str) -> Response:
    visitor = await visitor_of(request)
    values = await checked_form(request, visitor)
    target, principal = await readable_registry(request, visitor, organization, registry)
    composites = services_of(request).composites
    try:
        await run_in_threadpool(
            composites.change_upstreams,
            principal,
            target,
            field(values, "action"),
            field(values, "upstream"),
        )
    except (ValidationFailed, InvalidRequest) as error:
        return await registry_page(
            request,
            visitor,
            target,
            principal,
            tab="upstreams",
            error=error.message,
            status_code=422,
        )
    return redirect(registry_url(target) + "?tab=upstreams")
