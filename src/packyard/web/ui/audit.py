"""The Audit log page of an organization: its entries, newest first, with the REST API's
filters (type, registry, actor, since, until) and a link to older pages. Admins only, as
the service decides (``read_audit_events``)."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from packyard.core.errors import InvalidRequest
from packyard.core.events import AuditFilter, EventType, describe_actor
from packyard.core.permissions import Disclosure
from packyard.web.deps import services_of
from packyard.web.ui.common import PageRoute, render, signed_in_member, visitor_of

router = APIRouter(route_class=PageRoute, include_in_schema=False)

AUDIT_PATH = "/organizations/{organization}/audit"
FILTERS = ("type", "registry", "actor", "since", "until")


def _moment(value: str, name: str) -> datetime | None:
    """A ``datetime-local`` field (read as UTC) or an ISO time; empty for none."""
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidRequest(f"{name}: {value!r} is not a date and time") from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _filter(values: dict[str, str]) -> AuditFilter:
    chosen = values.get("type", "")
    if chosen and chosen not in EventType.__members__:
        raise InvalidRequest(f"Unknown event type {chosen!r}")
    return AuditFilter(
        types=frozenset({EventType(chosen)}) if chosen else frozenset(),
        registry_slug=values.get("registry") or None,
        actor_id=values.get("actor") or None,
        since=_moment(values.get("since", ""), "since"),
        until=_moment(values.get("until", ""), "until"),
    )


@router.get(AUDIT_PATH)
async def audit_page(request: Request, organization: str) -> Response:
    visitor = await visitor_of(request)
    found, principal = await signed_in_member(request, visitor, organization, "to see the log")
    values = {k: request.query_params.get(k, "")[:100] for k in FILTERS}
    after = request.query_params.get("after", "")
    page = await run_in_threadpool(
        lambda: services_of(request).audit.events(
            principal,
            found.slug,
            _filter(values),
            after=int(after) if after.isdigit() else None,
            disclosure=Disclosure.INSTALLER,
        )
    )
    kept = {k: v for k, v in values.items() if v}
    older = (
        None if page.next_cursor is None else f"?{urlencode({**kept, 'after': page.next_cursor})}"
    )
    return render(
        request,
        visitor,
        "audit.html",
        organization=found,
        entries=page.items,
        values=values,
        event_types=[t.value for t in EventType],
        older=older,
        describe_actor=describe_actor,
    )
