"""The search page behind the top bar's search box: projects of every registry of the
organization the visitor may read, grouped by registry, the matched text highlighted.

The visitor is who ``principal_in`` says (a member or admin, or anonymous: public
registries only); ``services/search.py`` decides what they may see.
"""

from __future__ import annotations

import re

from fastapi import APIRouter, Request
from markupsafe import Markup, escape
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from packyard.core.errors import PackyardError
from packyard.core.models import Registry
from packyard.services.search import MAX_QUERY_LENGTH, SearchPage, SearchResult
from packyard.web.deps import services_of
from packyard.web.ui.common import PageRoute, principal_in, render, visitor_of

router = APIRouter(route_class=PageRoute, include_in_schema=False)

SEARCH_PATH = "/organizations/{organization}/search"
PER_PAGE = 50


def highlighted(text: str, query: str) -> Markup:
    """``text`` escaped, with each case-insensitive occurrence of ``query`` (or of its
    words) in ``<mark>``: the HTML is built from escaped pieces only."""
    words = sorted({w for w in re.split(r"[\s\-_.]+", query.strip()) if w}, key=len, reverse=True)
    if not words:
        return escape(text)
    pattern = re.compile("|".join(re.escape(w) for w in words), re.IGNORECASE)
    pieces: list[str] = []
    position = 0
    for match in pattern.finditer(text):
        pieces.append(escape(text[position : match.start()]))
        pieces.append(Markup("<mark>{}</mark>").format(match.group()))
        position = match.end()
    pieces.append(escape(text[position:]))
    return Markup("").join(pieces)


@router.get(SEARCH_PATH)
async def search_page(request: Request, organization: str, q: str = "", page: int = 1) -> Response:
    visitor = await visitor_of(request)
    services = services_of(request)
    found = await run_in_threadpool(services.registries.get_organization, organization)
    principal = await principal_in(request, visitor, found)
    query = q[:MAX_QUERY_LENGTH]
    results: SearchPage | None = None
    message = None
    if query.strip():
        try:
            results = await run_in_threadpool(
                services.search.search,
                principal,
                found.slug,
                query,
                page=max(1, min(page, 10_000)),
                per_page=PER_PAGE,
            )
        except PackyardError as error:  # anonymous callers: sign in to search
            message = error.message
    # Groups in the order of their best match: the registry with the exact name first.
    groups: dict[str, tuple[Registry, list[SearchResult]]] = {}
    for hit in [] if results is None else results.results:
        groups.setdefault(hit.registry.id, (hit.registry, []))[1].append(hit)
    return render(
        request,
        visitor,
        "search.html",
        organization=found,
        query=query,
        results=results,
        groups=list(groups.values()),
        message=message,
        highlight=highlighted,
        top_query=query,
    )
