"""Read-only registry tokens: create (the only answer that carries the secret), list, get,
update the description (PATCH or POST), delete. All need ``write_registries``."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from packyard.core.permissions import Disclosure
from packyard.web.api import schemas
from packyard.web.api.common import ERRORS, PREFIX, Caller, operation_id
from packyard.web.api.shapes import token_out
from packyard.web.deps import base_url, services_of

router = APIRouter(
    prefix=f"{PREFIX}/registries/{{registry}}/tokens",
    tags=["registry tokens"],
    responses=ERRORS,
    generate_unique_id_function=operation_id,
)


@router.post("", summary="Create a registry token (write_registries)")
async def create_token(
    request: Request,
    organization: str,
    registry: str,
    body: schemas.TokenCreate,
    principal: Caller,
) -> schemas.NewTokenOut:
    tokens = services_of(request).tokens
    target, issued = await run_in_threadpool(
        tokens.create_registry_token,
        principal,
        organization,
        registry,
        body.description,
        Disclosure.API,
    )
    shaped = token_out(base_url(request), target, issued.token)
    return schemas.NewTokenOut(**shaped.model_dump(), token=issued.secret)


@router.get("", summary="List a registry's tokens (write_registries)")
async def list_tokens(
    request: Request, organization: str, registry: str, principal: Caller
) -> list[schemas.TokenOut]:
    tokens = services_of(request).tokens
    found = await run_in_threadpool(
        tokens.registry_tokens, principal, organization, registry, Disclosure.API
    )
    base = base_url(request)
    return [token_out(base, found.registry, token) for token in found.tokens]


@router.get("/{token_id}", summary="Get a registry token (write_registries)")
async def get_token(
    request: Request, organization: str, registry: str, token_id: str, principal: Caller
) -> schemas.TokenOut:
    tokens = services_of(request).tokens
    target, token = await run_in_threadpool(
        tokens.registry_token, principal, organization, registry, token_id, Disclosure.API
    )
    return token_out(base_url(request), target, token)


@router.patch(
    "/{token_id}",
    summary="Change a registry token's description (write_registries)",
    operation_id="update_token",
)
@router.post(
    "/{token_id}",
    summary="Change a registry token's description (write_registries); the same as PATCH",
    operation_id="update_token_with_post",
)
async def update_token(
    request: Request,
    organization: str,
    registry: str,
    token_id: str,
    body: schemas.TokenUpdate,
    principal: Caller,
) -> schemas.TokenOut:
    tokens = services_of(request).tokens
    target, token = await run_in_threadpool(
        tokens.describe_registry_token,
        principal,
        organization,
        registry,
        token_id,
        body.description,
        Disclosure.API,
    )
    return token_out(base_url(request), target, token)


@router.delete("/{token_id}", summary="Delete a registry token (write_registries)")
async def delete_token(
    request: Request, organization: str, registry: str, token_id: str, principal: Caller
) -> schemas.Deleted:
    tokens = services_of(request).tokens
    await run_in_threadpool(
        tokens.revoke_registry_token, principal, organization, registry, token_id, Disclosure.API
    )
    return schemas.Deleted(id=token_id)
