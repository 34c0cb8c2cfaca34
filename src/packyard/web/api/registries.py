"""Registries of an organization: create, list, get, update (PATCH or POST), delete."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from packyard.core.composite import CompositeSpec
from packyard.core.errors import ValidationFailed
from packyard.core.models import Registry, RegistryType
from packyard.core.oidc_policy import parse_policy
from packyard.core.permissions import Disclosure
from packyard.core.registries import ALL_FIELDS, QUOTA, RegistryFields
from packyard.core.scopes import Scope
from packyard.web.api import schemas
from packyard.web.api.common import ERRORS, PREFIX, Caller, operation_id
from packyard.web.api.shapes import registry_out
from packyard.web.api.upstreams import composite_json
from packyard.web.deps import base_url, services_of

router = APIRouter(
    prefix=f"{PREFIX}/registries",
    tags=["registries"],
    responses=ERRORS,
    generate_unique_id_function=operation_id,
)


COMPOSITE_SETTINGS = frozenset(schemas.CompositeSettingsIn.model_fields)


def _fields(
    body: schemas.RegistryCreate | schemas.RegistryUpdate, *, create: bool
) -> RegistryFields:
    given = ALL_FIELDS if create else ALL_FIELDS & body.model_fields_set
    given |= {QUOTA} & body.model_fields_set
    team_ids = tuple(body.team_ids or ()) if isinstance(body, schemas.RegistryCreate) else ()
    return RegistryFields(
        given=given, team_ids=team_ids, **body.model_dump(include={*ALL_FIELDS, QUOTA})
    )


def _settings(body: schemas.CompositeSettingsIn) -> dict[str, Any]:
    """The composite settings the body sets (``min_release_age: null`` clears)."""
    given = COMPOSITE_SETTINGS & body.model_fields_set
    return {name: getattr(body, name) for name in given}


def _checked_policy(body: schemas.RegistryCreate | schemas.RegistryUpdate) -> str | None:
    """The policy the body sets, checked before anything is saved (422 naming the line)."""
    if body.oidc_policy and body.oidc_policy.strip():
        parse_policy(body.oidc_policy)
    return body.oidc_policy


async def _out(
    request: Request, registry: Registry, policies: dict[str, str] | None = None
) -> schemas.RegistryOut:
    """The registry as REST shows it; ``policies`` (by registry id) saves a list one
    query per registry."""
    if policies is None:
        policies = await run_in_threadpool(services_of(request).oidc.policy_texts, [registry])
    policy = policies.get(registry.id)
    shaped = registry_out(base_url(request), registry).model_copy(update={"oidc_policy": policy})
    if registry.type is not RegistryType.COMPOSITE:
        return shaped
    settings = await run_in_threadpool(services_of(request).composites.settings, registry)
    return shaped.model_copy(update=composite_json(settings))


@router.post("", summary="Create a registry (write_registries)")
async def create_registry(
    request: Request, organization: str, body: schemas.RegistryCreate, principal: Caller
) -> schemas.RegistryOut:
    services = services_of(request)
    settings = _settings(body)
    policy = _checked_policy(body)
    fields = _fields(body, create=True)
    if body.type is RegistryType.COMPOSITE:
        spec = CompositeSpec(
            fields, body.upstreams or [], **{k: v for k, v in settings.items() if v is not None}
        )
        created = await run_in_threadpool(
            services.composites.create, principal, organization, spec, Disclosure.API
        )
    else:
        if settings or body.upstreams is not None:
            raise ValidationFailed(
                "Upstreams and composite settings apply to composite registries only",
                ['type: send "type": "composite" to create a composite registry'],
            )
        created = await run_in_threadpool(
            services.registries.create, principal, organization, fields, Disclosure.API
        )
    if policy is not None:
        await run_in_threadpool(services.oidc.save_policy, created, policy, principal)
    return await _out(request, created)


@router.get("", summary="List registries (read_registries)")
async def list_registries(
    request: Request, organization: str, principal: Caller
) -> list[schemas.RegistryOut]:
    registries = services_of(request).registries
    found = await run_in_threadpool(registries.registries, principal, organization, Disclosure.API)
    policies = await run_in_threadpool(services_of(request).oidc.policy_texts, found)
    return [await _out(request, registry, policies) for registry in found]


@router.get("/{registry}", summary="Get a registry (read_registries)")
async def get_registry(
    request: Request, organization: str, registry: str, principal: Caller
) -> schemas.RegistryOut:
    registries = services_of(request).registries
    found = await run_in_threadpool(
        registries.registry_for,
        principal,
        organization,
        registry,
        Scope.READ_REGISTRIES,
        Disclosure.API,
    )
    return await _out(request, found)


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
    composites = services_of(request).composites
    policy = _checked_policy(body)
    changed = await run_in_threadpool(
        composites.update,
        principal,
        organization,
        registry,
        _fields(body, create=False),
        _settings(body),
        Disclosure.API,
    )
    if "oidc_policy" in body.model_fields_set:
        await run_in_threadpool(services_of(request).oidc.save_policy, changed, policy, principal)
    return await _out(request, changed)


@router.delete(
    "/{registry}",
    summary="Delete a registry with its packages and tokens (delete_registries)",
)
async def delete_registry(
    request: Request, organization: str, registry: str, principal: Caller
) -> schemas.Deleted:
    registries = services_of(request).registries
    deleted = await run_in_threadpool(
        registries.delete, principal, organization, registry, Disclosure.API
    )
    return schemas.Deleted(id=deleted.id)
