"""Webhooks of a registry (``write_registries``): create (the secret shown once), list,
get, change, delete, ping, the newest deliveries with their attempts, and redelivery.
Thin: ``services.webhooks`` checks the caller and owns the transactions."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from packyard.core.permissions import Disclosure
from packyard.core.webhooks import Delivery, Webhook
from packyard.services.webhooks import WebhookChange
from packyard.web.api import webhook_schemas as s
from packyard.web.api.common import ERRORS, PREFIX, Caller, operation_id
from packyard.web.deps import services_of

router = APIRouter(
    prefix=f"{PREFIX}/registries/{{registry}}/webhooks",
    tags=["webhooks"],
    responses=ERRORS,
    generate_unique_id_function=operation_id,
)
API = Disclosure.API


def webhook_out(hook: Webhook) -> s.WebhookOut:
    return s.WebhookOut(
        id=hook.id,
        url=hook.url,
        events=sorted(e.value for e in hook.events),
        description=hook.description,
        active=hook.active,
        disabled_reason=hook.disabled_reason,
        created_at=hook.created_at,
    )


def delivery_out(delivery: Delivery) -> s.DeliveryOut:
    return s.DeliveryOut(
        id=delivery.id,
        event=delivery.event.value,
        state=delivery.state.value,
        body=delivery.body,
        created_at=delivery.created_at,
        next_attempt_at=delivery.next_attempt_at,
        attempts=[
            s.AttemptOut(
                number=a.number,
                at=a.at,
                request_headers=dict(a.request_headers),
                status=a.status,
                response_headers=dict(a.response_headers),
                response_body=a.response_body,
                duration_ms=a.duration_ms,
                error=a.error,
            )
            for a in delivery.attempts
        ],
    )


@router.post("", summary="Create a webhook (write_registries)", status_code=201)
async def create_webhook(
    request: Request, organization: str, registry: str, body: s.WebhookCreate, principal: Caller
) -> s.NewWebhookOut:
    hooks = services_of(request).webhooks
    created = await run_in_threadpool(
        hooks.create,
        principal,
        organization,
        registry,
        body.url,
        body.events,
        body.description,
        body.secret,
        API,
    )
    shown = webhook_out(created.webhook).model_dump()
    return s.NewWebhookOut(**shown, secret=created.secret)


@router.get("", summary="List a registry's webhooks (write_registries)")
async def list_webhooks(
    request: Request, organization: str, registry: str, principal: Caller
) -> list[s.WebhookOut]:
    hooks = services_of(request).webhooks
    _, found = await run_in_threadpool(hooks.webhooks, principal, organization, registry, API)
    return [webhook_out(hook) for hook in found]


@router.get("/{webhook_id}", summary="Get a webhook (write_registries)")
async def get_webhook(
    request: Request, organization: str, registry: str, webhook_id: str, principal: Caller
) -> s.WebhookOut:
    hooks = services_of(request).webhooks
    _, found = await run_in_threadpool(
        hooks.webhook, principal, organization, registry, webhook_id, API
    )
    return webhook_out(found)


@router.patch("/{webhook_id}", summary="Change a webhook (write_registries)")
async def update_webhook(
    request: Request,
    organization: str,
    registry: str,
    webhook_id: str,
    body: s.WebhookUpdate,
    principal: Caller,
) -> s.WebhookOut:
    hooks = services_of(request).webhooks
    change = WebhookChange(body.url, body.events, body.description, body.active)
    changed = await run_in_threadpool(
        hooks.change, principal, organization, registry, webhook_id, change, API
    )
    return webhook_out(changed)


@router.delete(
    "/{webhook_id}",
    summary="Delete a webhook (write_registries)",
    status_code=204,
    response_class=Response,
)
async def delete_webhook(
    request: Request, organization: str, registry: str, webhook_id: str, principal: Caller
) -> Response:
    hooks = services_of(request).webhooks
    await run_in_threadpool(hooks.delete, principal, organization, registry, webhook_id, API)
    return Response(status_code=204)


@router.post("/{webhook_id}/ping", summary="Send a ping (write_registries)", status_code=202)
async def ping_webhook(
    request: Request, organization: str, registry: str, webhook_id: str, principal: Caller
) -> s.Queued:
    hooks = services_of(request).webhooks
    queued = await run_in_threadpool(hooks.ping, principal, organization, registry, webhook_id, API)
    return s.Queued(delivery_id=queued)


@router.get(
    "/{webhook_id}/deliveries",
    summary="The newest 20 deliveries with request and response (write_registries)",
)
async def list_deliveries(
    request: Request, organization: str, registry: str, webhook_id: str, principal: Caller
) -> list[s.DeliveryOut]:
    hooks = services_of(request).webhooks
    found = await run_in_threadpool(
        hooks.deliveries, principal, organization, registry, webhook_id, API
    )
    return [delivery_out(d) for d in found]


@router.post(
    "/{webhook_id}/deliveries/{delivery_id}/redeliver",
    summary="Send a delivery's body again (write_registries)",
    status_code=202,
)
async def redeliver(
    request: Request,
    organization: str,
    registry: str,
    webhook_id: str,
    delivery_id: str,
    principal: Caller,
) -> s.Queued:
    hooks = services_of(request).webhooks
    queued = await run_in_threadpool(
        hooks.redeliver, principal, organization, registry, webhook_id, delivery_id, API
    )
    return s.Queued(delivery_id=queued)
