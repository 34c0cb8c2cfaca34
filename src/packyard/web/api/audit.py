"""The audit log over REST: ``GET /v2/organizations/{organization}/audit-events``
(``read_audit_events``: organization admins and their tokens), newest first, in cursor
pages, filtered by type, registry, actor and time."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from packyard.core.events import AuditEntry, AuditFilter, EventType, entry_json
from packyard.services.audit import DEFAULT_PER_PAGE, MAX_PER_PAGE, AuditPage
from packyard.web.api.common import ERRORS, Caller, operation_id
from packyard.web.deps import base_url, services_of

router = APIRouter(
    prefix="/v2/organizations/{organization}",
    tags=["audit"],
    responses=ERRORS,
    generate_unique_id_function=operation_id,
)


class AuditEventOut(BaseModel):
    id: str
    type: EventType
    occurred_at: datetime
    actor: dict[str, str] = Field(
        description="kind (user, api_token, registry_token, oidc, operator), id, name "
        "(a user's email or a token's description), issuer and subject (OIDC)"
    )
    subject: dict[str, str] = Field(description="type, id and name of what changed")
    registry: str | None = Field(description="The registry's slug when it is about one")
    client_address: str | None
    user_agent: str | None
    changes: dict[str, list[Any]] = Field(description="field: [before, after]")


class AuditLinks(BaseModel):
    self: str
    next: str | None = Field(description="The next page (older events), if any")


class AuditEventList(BaseModel):
    items: list[AuditEventOut]
    links: AuditLinks


def audit_event_out(entry: AuditEntry) -> AuditEventOut:
    return AuditEventOut.model_validate(entry_json(entry))


@router.get("/audit-events", summary="The audit log, newest first (read_audit_events)")
async def list_audit_events(
    request: Request,
    organization: str,
    principal: Caller,
    per_page: Annotated[int, Query(ge=1, le=MAX_PER_PAGE)] = DEFAULT_PER_PAGE,
    after: Annotated[
        int | None, Query(ge=0, description="A cursor from `links.next`: older events")
    ] = None,
    type: Annotated[
        list[EventType] | None, Query(description="Only these types (repeatable)")
    ] = None,
    registry: Annotated[str | None, Query(max_length=100, description="A registry slug")] = None,
    actor: Annotated[str | None, Query(max_length=36, description="A user or token id")] = None,
    since: Annotated[datetime | None, Query(description="At or after this time")] = None,
    until: Annotated[datetime | None, Query(description="Before this time")] = None,
) -> AuditEventList:
    wanted = AuditFilter(
        types=frozenset(type or ()),
        registry_slug=registry,
        actor_id=actor,
        since=since,
        until=until,
    )
    audit = services_of(request).audit
    page = await run_in_threadpool(
        lambda: audit.events(principal, organization, wanted, after=after, per_page=per_page)
    )
    return AuditEventList(
        items=[audit_event_out(entry) for entry in page.items],
        links=_links(request, page, after),
    )


def _links(request: Request, page: AuditPage, after: int | None) -> AuditLinks:
    """The page's own URL and the next one's, keeping every filter given."""
    url = f"{base_url(request)}{request.url.path}"
    kept = [(k, v) for k, v in request.query_params.multi_items() if k != "after"]

    def link(cursor: int | None) -> str:
        params = kept + ([("after", str(cursor))] if cursor is not None else [])
        return f"{url}?{urlencode(params)}" if params else url

    return AuditLinks(
        self=link(after),
        next=None if page.next_cursor is None else link(page.next_cursor),
    )
