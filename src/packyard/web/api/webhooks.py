"""Webhooks of a registry (``write_registries``) under ``.../registries/{registry}/webhooks``,
and organization-wide ones (organization admins and organization tokens holding
``write_registries``) under ``/v2/organizations/{organization}/webhooks``: create (the
secret shown once), list, get, change, delete, ping, the newest deliveries with their
attempts, and redelivery. Both sets are the same route functions, told apart by whether the
path names a registry. Thin: ``services.webhooks`` checks the caller and owns the
transactions."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from packyard.core.permissions import Disclosure
from packyard.core.webhooks import Delivery, Webhook, delivery_json, webhook_json
from packyard.services.webhooks import WebhookChange
from packyard.web.api import webhook_schemas as s
from packyard.web.api.common import ERRORS, PREFIX, Caller, operation_id
from packyard.web.deps import services_of

API = Disclosure.API


def _registry_path(registry: str) -> None:
    """Declares the ``{registry}`` path parameter of the registry routes (and documents it)."""


def _registry_of(request: Request) -> str | None:
    """The registry the path names; None on the organization-wide routes."""
    found = request.path_params.get("registry")
    return None if found is None else str(found)


Where = Annotated[str | None, Depends(_registry_of)]


def webhook_out(hook: Webhook) -> s.WebhookOut:
    return s.WebhookOut.model_validate(webhook_json(hook))


def delivery_out(delivery: Delivery) -> s.DeliveryOut:
    return s.DeliveryOut.model_validate(delivery_json(delivery))


async def create_webhook(
    request: Request, organization: str, where: Where, body: s.WebhookCreate, principal: Caller
) -> s.NewWebhookOut:
    hooks = services_of(request).webhooks
    created = await run_in_threadpool(
        hooks.create,
        principal,
        organization,
        where,
        body.url,
        body.events,
        body.description,
        body.secret,
        API,
    )
    shown = webhook_out(created.webhook).model_dump()
    return s.NewWebhookOut(**shown, secret=created.secret)


async def list_webhooks(
    request: Request, organization: str, where: Where, principal: Caller
) -> list[s.WebhookOut]:
    hooks = services_of(request).webhooks
    found = await run_in_threadpool(hooks.webhooks, principal, organization, where, API)
    return [webhook_out(hook) for hook in found]


async def get_webhook(
    request: Request, organization: str, where: Where, webhook_id: str, principal: Caller
) -> s.WebhookOut:
    hooks = services_of(request).webhooks
    found = await run_in_threadpool(hooks.webhook, principal, organization, where, webhook_id, API)
    return webhook_out(found)


async def update_webhook(
    request: Request,
    organization: str,
    where: Where,
    webhook_id: str,
    body: s.WebhookUpdate,
    principal: Caller,
) -> s.WebhookOut:
    hooks = services_of(request).webhooks
    change = WebhookChange(body.url, body.events, body.description, body.active)
    changed = await run_in_threadpool(
        hooks.change, principal, organization, where, webhook_id, change, API
    )
    return webhook_out(changed)


async def delete_webhook(
    request: Request, organization: str, where: Where, webhook_id: str, principal: Caller
) -> Response:
    hooks = services_of(request).webhooks
    await run_in_threadpool(hooks.delete, principal, organization, where, webhook_id, API)
    return Response(status_code=204)


async def ping_webhook(
    request: Request, organization: str, where: Where, webhook_id: str, principal: Caller
) -> s.Queued:
    hooks = services_of(request).webhooks
    queued = await run_in_threadpool(hooks.ping, principal, organization, where, webhook_id, API)
    return s.Queued(delivery_id=queued)


async def list_deliveries(
    request: Request, organization: str, where: Where, webhook_id: str, principal: Caller
) -> list[s.DeliveryOut]:
    hooks = services_of(request).webhooks
    found = await run_in_threadpool(
        hooks.deliveries, principal, organization, where, webhook_id, API
    )
    return [delivery_out(d) for d in found]


async def redeliver(
    request: Request,
    organization: str,
    where: Where,
    webhook_id: str,
    delivery_id: str,
    principal: Caller,
) -> s.Queued:
    hooks = services_of(request).webhooks
    queued = await run_in_threadpool(
        hooks.redeliver, principal, organization, where, webhook_id, delivery_id, API
    )
    return s.Queued(delivery_id=queued)


# (function, method, path, status, summary, organization-wide operation id)
_ROUTES: list[tuple[Callable[..., Any], str, str, int, str, str]] = [
    (create_webhook, "POST", "", 201, "Create a webhook", "create_organization_webhook"),
    (list_webhooks, "GET", "", 200, "List the webhooks", "list_organization_webhooks"),
    (get_webhook, "GET", "/{webhook_id}", 200, "Get a webhook", "get_organization_webhook"),
    (
        update_webhook,
        "PATCH",
        "/{webhook_id}",
        200,
        "Change a webhook",
        "update_organization_webhook",
    ),
    (
        delete_webhook,
        "DELETE",
        "/{webhook_id}",
        204,
        "Delete a webhook",
        "delete_organization_webhook",
    ),
    (ping_webhook, "POST", "/{webhook_id}/ping", 202, "Send a ping", "ping_organization_webhook"),
    (
        list_deliveries,
        "GET",
        "/{webhook_id}/deliveries",
        200,
        "The newest 20 deliveries with request and response",
        "list_organization_webhook_deliveries",
    ),
    (
        redeliver,
        "POST",
        "/{webhook_id}/deliveries/{delivery_id}/redeliver",
        202,
        "Send a delivery's body again",
        "redeliver_organization_webhook",
    ),
]


def _router(prefix: str, who: str, organization_wide: bool) -> APIRouter:
    built = APIRouter(
        prefix=prefix,
        tags=["webhooks"],
        responses=ERRORS,
        generate_unique_id_function=operation_id,
        dependencies=[] if organization_wide else [Depends(_registry_path)],
    )
    for endpoint, method, path, status, summary, org_name in _ROUTES:
        built.add_api_route(
            path,
            endpoint,
            methods=[method],
            status_code=status,
            summary=f"{summary} ({who})",
            name=org_name if organization_wide else endpoint.__name__,
            response_class=Response if status == 204 else JSONResponse,
        )
    return built


router = _router(f"{PREFIX}/registries/{{registry}}/webhooks", "write_registries", False)
organization_router = _router(
    "/v2/organizations/{organization}/webhooks", "organization admins", True
)
