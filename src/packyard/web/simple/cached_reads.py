"""Cached index pages answered in plain ASGI, before the framework sees the request.

pip and uv read ``/simple/`` pages far more often than anything else, and nearly every
read finds its page already rendered: the caller's access is cached (``ReadAccess``,
validated by the database's change counter) and the page is cached under its version.
Answering such a read through FastAPI costs about five times what the answer itself does
(routing, dependency resolution, request and response objects, middleware), so the front
door (``web.front``) asks ``answer`` first, which recognises those reads and answers them
through ``IndexPages`` (``pages.py``), as the routes in ``routes.py`` do: same lookup, same
answer, by construction. Standalone, the class is the same as an ASGI layer.

Anything else (another path or method, a redirect to the normalised name, a credential
that is new, wrong or rate-limited, a 406, a composite page whose version is not known, a
page not yet rendered) goes on to the application unchanged.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from packyard.core.errors import Unauthenticated
from packyard.core.models import Registry
from packyard.core.names import normalize_project
from packyard.services.access import ReadAccess
from packyard.web.auth import credential_from_header
from packyard.web.body_pieces import send_whole_body
from packyard.web.deps import scope_base_url
from packyard.web.observability.requests import ROUTE_KEY
from packyard.web.request_head import HeadMap, first_headers
from packyard.web.simple.pages import Answer, IndexPages

# The templates of the routes whose answers this layer gives, for metrics and the log.
ROOT_ROUTE = "/{organization}/{registry}/pypi/simple/"
PROJECT_ROUTE = "/{organization}/{registry}/pypi/simple/{project}/"


class IndexFastPath:
    def __init__(
        self,
        app: ASGIApp,
        access: ReadAccess,
        pages: IndexPages,
        configured_base_url: str | None = None,
    ) -> None:
        self.app = app
        self._access = access
        self._pages = pages
        self._base_url = configured_base_url

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] in ("GET", "HEAD"):
            answer = self.answer(scope, first_headers(scope))
            if answer is not None:
                status, headers, body = answer
                await send({"type": "http.response.start", "status": status, "headers": headers})
                await send_whole_body(send, body)
                return
        await self.app(scope, receive, send)

    def answer(self, scope: Scope, headers: HeadMap) -> Answer | None:
        """The response to an index read (GET or HEAD) answerable from cache, or None;
        an answer is noted as its route's (``ROUTE_KEY``) for metrics and the log."""
        located = index_path(scope)
        if located is None:
            return None
        organization, registry_slug, project = located
        registry = cached_registry(self._access, headers, organization, registry_slug)
        if registry is None:
            return None
        media_type = self._pages.media_type(_text(headers.get(b"accept")))
        if media_type is None:
            return None
        base = scope_base_url(scope, self._base_url, headers.get(b"host"))
        page = self._pages.cached(registry, project, media_type, base)
        if page is None:
            return None
        scope[ROUTE_KEY] = PROJECT_ROUTE if project else ROOT_ROUTE
        return self._pages.answer(page, media_type, _text(headers.get(b"if-none-match")))


def _text(value: bytes | None) -> str | None:
    return None if value is None else value.decode("latin-1")


def cached_registry(
    access: ReadAccess, headers: HeadMap, organization: str, registry: str
) -> Registry | None:
    """The registry, if the request's credential may read it by a cached answer; None
    otherwise, malformed credentials included: the app answers those with their error."""
    authorization = headers.get(b"authorization")
    secret = None
    if authorization:
        try:
            # Valid credentials are never limited; a wrong one finds nothing in the cache
            # and goes on to the app, which counts the failure (web.auth_limits).
            secret = credential_from_header(authorization.decode("latin-1"))
        except Unauthenticated:
            return None
    return access.cached(secret, organization, registry)


def index_path(scope: Scope) -> tuple[str, str, str] | None:
    """(organization, registry, project) of ``/org/registry/pypi/simple/`` (project "")
    or ``/org/registry/pypi/simple/project/`` with a normalised project; else None."""
    if scope.get("root_path"):
        return None
    parts = scope["path"].split("/")
    if (
        len(parts) not in (6, 7)
        or parts[-1]
        or parts[3] != "pypi"
        or parts[4] != "simple"
        or not parts[1]
        or not parts[2]
    ):
        return None
    project = parts[5] if len(parts) == 7 else ""
    if len(parts) == 7 and project not in _NORMALISED:
        if not project or normalize_project(project) != project:
            return None
        if len(_NORMALISED) >= MAX_NORMALISED:
            _NORMALISED.clear()
        _NORMALISED.add(project)
    return parts[1], parts[2], project


# Project names seen already normalised: normalising each read's name again was a visible
# share of a cached read. Bounded (emptied when full); only normalised names get in.
MAX_NORMALISED = 20_000
_NORMALISED: set[str] = set()
