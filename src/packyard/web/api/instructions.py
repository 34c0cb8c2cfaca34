"""A registry's publish instructions: the upload URL and ready-made tool configuration."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from packyard.core.permissions import Disclosure
from packyard.core.scopes import Scope
from packyard.services.instructions import publish_instructions
from packyard.web.api.common import ERRORS, api_principal, operation_id
from packyard.web.deps import base_url, services_of

router = APIRouter(
    prefix="/v2/packages/organizations/{organization}/registries/{registry}",
    tags=["registries"],
    responses=ERRORS,
    generate_unique_id_function=operation_id,
)


@router.get(
    "/publish-instructions",
    summary="How to publish to this registry with twine, uv, poetry, pdm and hatch",
    description="The upload URL the tools speak to, the simple index URL, and ready-made "
    "configuration snippets; the token is referred to as $PACKYARD_TOKEN. Needs the "
    "read_registries scope.",
)
async def get_publish_instructions(
    request: Request, organization: str, registry: str
) -> dict[str, Any]:
    services = services_of(request)
    principal = await api_principal(request)
    target = await run_in_threadpool(
        services.registries.registry_for,
        principal,
        organization,
        registry,
        Scope.READ_REGISTRIES,
        Disclosure.API,
    )
    found = publish_instructions(base_url(request), target.organization_slug, target.slug)
    return {
        "upload_url": found.upload_url,
        "index_url": found.index_url,
        "repository_name": found.repository_name,
        "token_variable": found.token_variable,
        "snippets": [
            {
                "tool": snippet.tool,
                "title": snippet.title,
                "language": snippet.language,
                "text": snippet.text,
            }
            for snippet in found.snippets
        ],
    }
