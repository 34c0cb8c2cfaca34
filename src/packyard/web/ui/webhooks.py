"""A registry's Webhooks page (linked from its Settings tab): the hooks, a form to add one
(its secret shown once), and for each its newest deliveries with every attempt's request
and response, a Ping and a Redeliver button. The services decide who may
(``write_registries``)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from packyard.core.errors import ValidationFailed
from packyard.core.models import Principal, Registry
from packyard.core.webhooks import SUBSCRIBABLE, Delivery, Webhook
from packyard.services.webhooks import NewWebhook, WebhookService
from packyard.web.deps import services_of
from packyard.web.ui.common import (
    PageRoute,
    Visitor,
    checked_form,
    field,
    redirect,
    render,
    visitor_of,
)
from packyard.web.ui.registries import REGISTRY_PATH, readable_registry, registry_url

router = APIRouter(route_class=PageRoute, include_in_schema=False)

HOOKS_PATH = REGISTRY_PATH + "/webhooks"


def hooks_url(registry: Registry) -> str:
    return registry_url(registry) + "/webhooks"


async def _page(
    request: Request,
    visitor: Visitor,
    registry: Registry,
    principal: Principal,
    *,
    created: NewWebhook | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    hooks = services_of(request).webhooks
    where = (principal, registry.organization_slug, registry.slug)
    found = await run_in_threadpool(hooks.webhooks, *where)
    history: list[tuple[Webhook, list[Delivery]]] = []
    for hook in found:
        history.append((hook, await run_in_threadpool(hooks.deliveries, *where, hook.id)))
    return render(
        request,
        visitor,
        "webhooks.html",
        status_code=status_code,
        registry=registry,
        registry_url=registry_url(registry),
        hooks_url=hooks_url(registry),
        hooks=history,
        events=sorted(e.value for e in SUBSCRIBABLE),
        created=created,
        error=error,
    )


@router.get(HOOKS_PATH)
async def webhooks_page(request: Request, organization: str, registry: str) -> Response:
    visitor = await visitor_of(request)
    target, principal = await readable_registry(request, visitor, organization, registry)
    return await _page(request, visitor, target, principal)


@router.post(HOOKS_PATH)
async def create_webhook(request: Request, organization: str, registry: str) -> Response:
    visitor = await visitor_of(request)
    values = await checked_form(request, visitor)
    target, principal = await readable_registry(request, visitor, organization, registry)
    hooks = services_of(request).webhooks
    try:
        created = await run_in_threadpool(
            hooks.create,
            principal,
            target.organization_slug,
            target.slug,
            field(values, "url"),
            [str(v) for v in values.getlist("events")],
            field(values, "description"),
            field(values, "secret").strip() or None,
        )
    except ValidationFailed as error:
        message = "; ".join([error.message, *error.errors])
        return await _page(request, visitor, target, principal, error=message, status_code=422)
    # Rendered, not redirected: the secret is shown this once.
    return await _page(request, visitor, target, principal, created=created)


async def _act(
    request: Request, organization: str, registry: str, act: str, *args: str
) -> Response:
    """Run one WebhookService action for a posted button, then show the page again."""
    visitor = await visitor_of(request)
    await checked_form(request, visitor)
    target, principal = await readable_registry(request, visitor, organization, registry)
    hooks: WebhookService = services_of(request).webhooks
    method = getattr(hooks, act)
    await run_in_threadpool(method, principal, target.organization_slug, target.slug, *args)
    return redirect(hooks_url(target))


@router.post(HOOKS_PATH + "/{webhook_id}/ping")
async def ping(request: Request, organization: str, registry: str, webhook_id: str) -> Response:
    return await _act(request, organization, registry, "ping", webhook_id)


@router.post(HOOKS_PATH + "/{webhook_id}/delete")
async def delete(request: Request, organization: str, registry: str, webhook_id: str) -> Response:
    return await _act(request, organization, registry, "delete", webhook_id)


@router.post(HOOKS_PATH + "/{webhook_id}/deliveries/{delivery_id}/redeliver")
async def redeliver(
    request: Request, organization: str, registry: str, webhook_id: str, delivery_id: str
) -> Response:
    return await _act(request, organization, registry, "redeliver", webhook_id, delivery_id)
