"""Search across the organization's registries the caller may read (``read_packages``).

Paginated as Buildkite's API is: ``page`` and ``per_page`` in, the page's results as the
body and the neighbouring pages in a ``Link`` header (``rel="next"``, ``rel="prev"``).
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from packyard.core.permissions import Disclosure
from packyard.services.search import (
    DEFAULT_PER_PAGE,
    MAX_PER_PAGE,
    MAX_QUERY_LENGTH,
    SearchPage,
)
from packyard.web.api.common import ERRORS, PREFIX, Caller, operation_id
from packyard.web.deps import base_url, services_of

router = APIRouter(
    prefix=PREFIX, tags=["search"], responses=ERRORS, generate_unique_id_function=operation_id
)


class SearchResultOut(BaseModel):
    registry: str  # the registry's slug
    registry_name: str
    name: str  # as the newest file's metadata spells it
    project: str  # PEP 503 normalised
    version: str  # of the newest file
    summary: str
    keywords: str
    url: str  # the project's page in the simple index


@router.get("/search", summary="Search projects in every registry you may read (read_packages)")
async def search(
    request: Request,
    response: Response,
    organization: str,
    principal: Caller,
    q: Annotated[
        str,
        Query(
            min_length=1,
            max_length=MAX_QUERY_LENGTH,
            description="Part of a project name, or words of its summary or keywords",
        ),
    ],
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
    per_page: Annotated[int, Query(ge=1, le=MAX_PER_PAGE)] = DEFAULT_PER_PAGE,
) -> list[SearchResultOut]:
    found = await run_in_threadpool(
        services_of(request).search.search,
        principal,
        organization,
        q,
        page=page,
        per_page=per_page,
        disclosure=Disclosure.API,
    )
    base = base_url(request)
    links = _links(f"{base}{request.url.path}", found)
    if links:
        response.headers["Link"] = links
    return [
        SearchResultOut(
            registry=r.registry.slug,
            registry_name=r.registry.name,
            name=r.name,
            project=r.project,
            version=r.version,
            summary=r.summary,
            keywords=r.keywords,
            url=f"{base}/{organization}/{r.registry.slug}/pypi/simple/{r.project}/",
        )
        for r in found.results
    ]


def _links(url: str, found: SearchPage) -> str:
    def link(page: int, rel: str) -> str:
        query = urlencode({"q": found.query, "page": page, "per_page": found.per_page})
        return f'<{url}?{query}>; rel="{rel}"'

    links = []
    if found.page > 1:
        links.append(link(found.page - 1, "prev"))
    if found.has_next:
        links.append(link(found.page + 1, "next"))
    return ", ".join(links)
