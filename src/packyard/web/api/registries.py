"""Registries of an organization: create, list, get, update (PATCH or POST), delete."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from packyard.services.registries import RegistryFields
from packyard.web.api import schemas
from packyard.web.api.common import ERRORS, PREFIX, Caller, operation_id
from packyard.web.api.shapes import registry_out
from packyard.web.deps import base_url, services_of

router = APIRouter(
    prefix=f"{PREFIX}/registries",
    tags=["registries"],
    responses=ERRORS,
    generate_unique_id_function=operation_id,
)


def _fields(
    body: schemas.RegistryCreate | schemas.RegistryUpdate, *, create: bool
) -> RegistryFields:
    given = frozenset(body.model_fields) if create else frozenset(body.model_fields_set)
    return RegistryFields(given=given, **body.model_dump())


@router.post("", summary="Create a registry (write_registries)")
async def create_registry(
    request: Request, organization: str, body: schemas.RegistryCreate, principal: Caller
) -> schemas.RegistryOut:
    registries = services_of(request).registries
    created = await run_in_threadpool(
        registries.api_create_registry, principal, organization, _fields(body, create=True)
    )
    return registry_out(base_url(request), created)


@router.get("", summary="List registries (read_registries)")
async def list_registries(
    request: Request, organization: str, principal: Caller
) -> list[schemas.RegistryOut]:
    registries = services_of(request).registries
    found = await run_in_threadpool(registries.api_list_registries, principal, organization)
    base = base_url(request)
    return [registry_out(base, registry) for registry in found]


@router.get("/{registry}", summary="Get a registry (read_registries)")
async def get_registry(
    request: Request, organization: str, registry: str, principal: Caller
) -> schemas.RegistryOut:
    registries = services_of(request).registries
    found = await run_in_threadpool(registries.api_get_registry, principal, organization, registry)
    return registry_out(base_url(request), found)


@router.patch(
    "/{registry}", summary="Update a registry (write_registries)", operation_id="update_registry"
)
@router.post(
    "/{registry}",
    summary="Update a registry (write_registries); the same as PATCH",
    operation_id="update_registry_with_post",
)
async def update_registry(
    request: Request,
    organization: str,
    registry: str,
    body: schemas.RegistryUpdate,
    principal: Caller,
) -> schemas.RegistryOut:
    registries = services_of(request).registries
    changed = await run_in_threadpool(
        registries.api_update_registry,
        principal,
        organization,
        registry,
        _fields(body, create=False),
    )
    return registry_out(base_url(request), changed)


@router.delete(
    "/{registry}",
    summary="Delete a registry with its packages and tokens (delete_registries)",
)
async def delete_registry(
    request: Request, organization: str, registry: str, principal: Caller
) -> schemas.Deleted:
    registries = services_of(request).registries
    deleted = await run_in_threadpool(
        registries.api_delete_registry, principal, organization, registry
    )
    return schemas.Deleted(id=deleted.id)
