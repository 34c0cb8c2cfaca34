"""REST for composite registries: the ordered upstream list, and Setup & Usage snippets.

``GET``/``PUT /registries/{registry}/upstreams`` read and replace the list (body and answer
``{"upstreams": ["team-a", "pypi"]}``); reading needs ``read_registries``, replacing
``write_registries``. ``GET /registries/{registry}/setup`` answers the pip, pip.conf,
requirements.txt, uv and pyproject.toml forms of the index URL for anyone who may read
the registry's packages. ``composite_json`` is the composite part of a registry object.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from packyard.core.composite import CompositeSettings
from packyard.core.models import Registry
from packyard.core.permissions import Disclosure
from packyard.core.scopes import Scope
from packyard.core.snippets import PACKAGE_PLACEHOLDER
from packyard.web.api import schemas, shapes
from packyard.web.api.common import ERRORS, Caller, api_principal, operation_id
from packyard.web.deps import base_url, services_of

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
    policy = settings.policy
    age = policy.min_release_age
    return {
        "upstreams": [u.slug for u in settings.upstreams],
        "public_overrides": sorted(policy.public_overrides),
        "pypi_files": policy.pypi_files.value,
        "min_release_age": None if age is None else int(age.total_seconds()),
        "cooldown_exempt": sorted(policy.cooldown_exempt),
    }


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
    settings = await run_in_threadpool(composites.set_upstreams, target, body.upstreams)
    return UpstreamList(upstreams=[u.slug for u in settings.upstreams])


@router.get(
    "/setup",
    summary="How to install from this registry with pip and uv",
    description="The same forms a package's installation field gives, for any package; "
    "a private registry's carry ${PACKYARD_TOKEN} where the token goes. Needs read_packages.",
)
async def get_setup(
    request: Request, organization: str, registry: str, principal: Caller
) -> schemas.Installation:
    target = await run_in_threadpool(
        services_of(request).registries.registry_for,
        principal,
        organization,
        registry,
        Scope.READ_PACKAGES,
        Disclosure.API,
    )
    return shapes.installation(base_url(request), target, PACKAGE_PLACEHOLDER)
