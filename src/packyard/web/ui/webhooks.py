"""The Webhooks page of a registry (linked from its Settings tab) and of an organization
(its hooks hear every registry; linked from the Teams page's settings for admins): the
hooks, a form to add one (its secret shown once), and for each its newest deliveries with
every attempt's request and response, a Ping and a Redeliver button. The same route
functions serve both paths, told apart by whether the path names a registry; the services
decide who may (``write_registries`` on the registry; organization admins)."""

from __future__ import annotations

from dataclasses import dataclass

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
    signed_in_member,
    visitor_of,
)
from packyard.web.ui.registries import REGISTRY_PATH, readable_registry, registry_url

router = APIRouter(route_class=PageRoute, include_in_schema=False)

HOOKS_PATH = REGISTRY_PATH + "/webhooks"
ORGANIZATION_HOOKS_PATH = "/organizations/{organization}/webhooks"


@dataclass(frozen=True, slots=True)
class _Place:
    """Whose hooks a page shows: a registry's, or (``registry`` None) the organization's."""

    organization: str
    registry: Registry | None
    principal: Principal

    @property
    def slug(self) -> str | None:
        return None if self.registry is None else self.registry.slug

    @property
    def url(self) -> str:
        if self.registry is None:
            return f"/organizations/{self.organization}/webhooks"
        return registry_url(self.registry) + "/webhooks"


async def _place(request: Request, visitor: Visitor) -> _Place:
    organization = str(request.path_params["organization"])
    registry = request.path_params.get("registry")
    if registry is None:
        found, principal = await signed_in_member(
            request, visitor, organization, "to manage webhooks"
        )
        return _Place(found.slug, None, principal)
    target, principal = await readable_registry(request, visitor, organization, str(registry))
    return _Place(target.organization_slug, target, principal)


async def _page(
    request: Request,
    visitor: Visitor,
    place: _Place,
    *,
    created: NewWebhook | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    hooks = services_of(request).webhooks
    where = (place.principal, place.organization, place.slug)
    found = await run_in_threadpool(hooks.webhooks, *where)
    history: list[tuple[Webhook, list[Delivery]]] = []
    for hook in found:
        history.append((hook, await run_in_threadpool(hooks.deliveries, *where, hook.id)))
    return render(
        request,
        visitor,
        "webhooks.html",
        status_code=status_code,
        organization_slug=place.organization,
        registry=place.registry,
        registry_url=None if place.registry is None else registry_url(place.registry),
        hooks_url=place.url,
        hooks=history,
        events=sorted(e.value for e in SUBSCRIBABLE),
        created=created,
        error=error,
    )


async def webhooks_page(request: Request) -> Response:
    visitor = await visitor_of(request)
    return await _page(request, visitor, await _place(request, visitor))


async def create_webhook(request: Request) -> Response:
    visitor = await visitor_of(request)
    values = await checked_form(request, visitor)
    place = await _place(request, visitor)
    hooks = services_of(request).webhooks
    try:
        created = await run_in_threadpool(
            hooks.create,
            place.principal,
            place.organization,
            place.slug,
            field(values, "url"),
            [str(v) for v in values.getlist("events")],
            field(values, "description"),
            field(values, "secret").strip() or None,
        )
    except ValidationFailed as error:
        message = "; ".join([error.message, *error.errors])
        return await _page(request, visitor, place, error=message, status_code=422)
    # Rendered, not redirected: the secret is shown this once.
    return await _page(request, visitor, place, created=created)


async def _act(request: Request, act: str, *args: str) -> Response:
    """Run one WebhookService action for a posted button, then show the page again."""
    visitor = await visitor_of(request)
    await checked_form(request, visitor)
    place = await _place(request, visitor)
    hooks: WebhookService = services_of(request).webhooks
    method = getattr(hooks, act)
    await run_in_threadpool(method, place.principal, place.organization, place.slug, *args)
    return redirect(place.url)


async def ping(request: Request, webhook_id: str) -> Response:
    return await _act(request, "ping", webhook_id)


async def delete(request: Request, webhook_id: str) -> Response:
    return await _act(request, "delete", webhook_id)


async def redeliver(request: Request, webhook_id: str, delivery_id: str) -> Response:
    return await _act(request, "redeliver", webhook_id, delivery_id)


for _prefix in (HOOKS_PATH, ORGANIZATION_HOOKS_PATH):
    router.add_api_route(_prefix, webhooks_page, methods=["GET"])
    router.add_api_route(_prefix, create_webhook, methods=["POST"])
    router.add_api_route(_prefix + "/{webhook_id}/ping", ping, methods=["POST"])
    router.add_api_route(_prefix + "/{webhook_id}/delete", delete, methods=["POST"])
    router.add_api_route(
        _prefix + "/{webhook_id}/deliveries/{delivery_id}/redeliver", redeliver, methods=["POST"]
    )
