"""REST for composite registries: the ordered upstream list.

``GET``/``PUT /registries/{registry}/upstreams`` read and replace the list (body and answer
``{"upstreams": ["team-a", "pypi"]}``); reading needs ``read_registries``, replacing
``write_registries``. ``composite_json`` is the composite part of a registry object. How to
install through a composite is ``/setup``, in ``instructions.py``.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from packyard.core.composite import CompositeSettings, settings_fields
from packyard.core.models import Registry
from packyard.core.permissions import Disclosure
from packyard.core.scopes import Scope
from packyard.web.api.common import ERRORS, api_principal, operation_id
from packyard.web.deps import services_of

router = APIRouter(
    prefix="/v2/packages/organizations/{organization}/registries/{registry}",
    tags=["composite registries"],
    responses=ERRORS,
    generate_unique_id_function=operation_id,
)


class UpstreamList(BaseModel):
    upstreams: list[str] = Field(
        description="Source registry slugs of this organization, or pypi, in order of "
        "precedence: the same file name is served from the first upstream that has it.",
        examples=[["team-a", "team-b", "pypi"]],
    )


def composite_json(settings: CompositeSettings) -> dict[str, Any]:
    """The fields a composite's registry object carries (REST answers)."""
    return settings_fields(settings)


async def _registry(request: Request, organization: str, registry: str, scope: Scope) -> Registry:
    services = services_of(request)
    principal = await api_principal(request)
    return await run_in_threadpool(
        services.registries.registry_for,
        principal,
        organization,
        registry,
        scope,
        Disclosure.API,
    )


@router.get("/upstreams", summary="A composite registry's upstreams, in order")
async def get_upstreams(request: Request, organization: str, registry: str) -> UpstreamList:
    target = await _registry(request, organization, registry, Scope.READ_REGISTRIES)
    settings = await run_in_threadpool(services_of(request).composites.settings, target)
    return UpstreamList(upstreams=[u.slug for u in settings.upstreams])


@router.put(
    "/upstreams",
    summary="Replace a composite registry's upstreams",
    description="A composite, this one included, is never an upstream, nor a registry of "
    "another organization (422).",
)
async def put_upstreams(
    request: Request, organization: str, registry: str, body: UpstreamList
) -> UpstreamList:
    target = await _registry(request, organization, registry, Scope.WRITE_REGISTRIES)
    composites = services_of(request).composites
    principal = await api_principal(request)
    settings = await run_in_threadpool(composites.set_upstreams, target, body.upstreams, principal)
    return UpstreamList(upstreams=[u.slug for u in settings.upstreams])
