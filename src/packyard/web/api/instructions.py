"""How to use a registry: ``/setup`` (install with pip and uv) and ``/publish-instructions``
(publish with curl, twine, uv, poetry, pdm and hatch), rendered from ``core/snippets.py``
like every other snippet Packyard shows."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from packyard.core.models import Principal, Registry
from packyard.core.permissions import Disclosure
from packyard.core.scopes import Scope
from packyard.core.snippets import PACKAGE_PLACEHOLDER
from packyard.web.api import schemas, shapes
from packyard.web.api.common import ERRORS, Caller, operation_id
from packyard.web.deps import base_url, services_of

router = APIRouter(
    prefix="/v2/packages/organizations/{organization}/registries/{registry}",
    tags=["registries"],
    responses=ERRORS,
    generate_unique_id_function=operation_id,
)


@router.get(
    "/setup",
    summary="How to install from this registry with pip and uv",
    description="The same forms a package's installation field gives, for any package; "
    "a private registry's carry ${PACKYARD_TOKEN} where the token goes. Needs read_packages.",
)
async def get_setup(
    request: Request, organization: str, registry: str, principal: Caller
) -> schemas.Installation:
    target = await _registry(request, principal, organization, registry, Scope.READ_PACKAGES)
    return shapes.installation(base_url(request), target, PACKAGE_PLACEHOLDER)


@router.get(
    "/publish-instructions",
    summary="How to publish to this registry with curl, twine, uv, poetry, pdm and hatch",
    description="The upload URL the tools speak to, the simple index URL, and ready-made "
    "configuration snippets; the token is referred to as ${PACKYARD_TOKEN}. Needs the "
    "read_registries scope.",
)
async def get_publish_instructions(
    request: Request, organization: str, registry: str, principal: Caller
) -> schemas.PublishInstructions:
    target = await _registry(request, principal, organization, registry, Scope.READ_REGISTRIES)
    return shapes.publish_instructions(base_url(request), target)


async def _registry(
    request: Request, principal: Principal, organization: str, registry: str, scope: Scope
) -> Registry:
    return await run_in_threadpool(
        services_of(request).registries.registry_for,
        principal,
        organization,
        registry,
        scope,
        Disclosure.API,
    )
