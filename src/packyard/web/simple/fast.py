"""Cached index pages answered in plain ASGI, before the framework sees the request.

pip and uv read ``/simple/`` pages far more often than anything else, and nearly every
read finds its page already rendered: the caller's access is cached (``ReadAccess``,
validated by the database's change counter) and the page is cached under the registry's
serial. Answering such a read through FastAPI costs about five times what the answer
itself does (routing, dependency resolution, request and response objects, middleware),
so this layer recognises those reads and answers them from the same caches, with the
same bytes and headers the routes in ``routes.py`` send. A composite registry's pages are
keyed by their version instead of the serial; it is answered here when this process
already knows that version (``CompositeIndexService.cached_version``, no query).

Anything else (another path or method, a redirect to the normalised name, a credential
that is new, wrong or rate-limited, a 406, a composite page whose version is not known, a
page not yet rendered) goes on to the application unchanged: this layer only ever answers
what the application would have answered, from the application's own caches.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from packyard.core.errors import Unauthenticated
from packyard.core.models import RegistryType
from packyard.core.names import normalize_project
from packyard.services.access import ReadAccess
from packyard.services.composite_index import CompositeIndexService
from packyard.web.auth import credential_from_header
from packyard.web.negotiation import choose_media_type
from packyard.web.simple.cache import INDEX_HEADERS, RenderedPage, RenderedPageCache

_COMMON_HEADERS = [(k.lower().encode(), v.encode()) for k, v in INDEX_HEADERS.items()]
_MAX_REMEMBERED_ACCEPTS = 256

Answer = tuple[int, list[tuple[bytes, bytes]], bytes]


class IndexFastPath:
    def __init__(
        self,
        app: ASGIApp,
        access: ReadAccess,
        composite_index: CompositeIndexService,
        page_cache: RenderedPageCache,
    ) -> None:
        self.app = app
        self._access = access
        self._composite_index = composite_index
        self._page_cache = page_cache
        # Clients send one of a handful of Accept headers; parsing each once is enough.
        self._media_types: dict[str, str | None] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] in ("GET", "HEAD"):
            answer = self._cached_answer(scope)
            if answer is not None:
                status, headers, body = answer
                await send({"type": "http.response.start", "status": status, "headers": headers})
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)

    def _cached_answer(self, scope: Scope) -> Answer | None:
        """The response to an index read answerable from cache, or None."""
        if scope.get("root_path"):
            return None
        parts = scope["path"].split("/")
        # "/org/registry/pypi/simple/" or "/org/registry/pypi/simple/project/"
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
        if len(parts) == 7 and (not project or normalize_project(project) != project):
            return None
        authorization = accept = if_none_match = None
        # The first of a repeated header counts, as with Starlette's ``headers.get``.
        for name, value in scope["headers"]:
            if name == b"authorization":
                authorization = authorization or value.decode("latin-1")
            elif name == b"accept":
                accept = accept or value.decode("latin-1")
            elif name == b"if-none-match":
                if_none_match = if_none_match or value.decode("latin-1")
        usable, secret = self._credential(authorization)
        if not usable:
            return None
        registry = self._access.cached(secret, parts[1], parts[2])
        if registry is None:
            return None
        version: int | None = registry.serial
        if registry.type is RegistryType.COMPOSITE:
            version = self._composite_index.cached_version(registry, project)
        if version is None:
            return None
        media_type = self._media_type(accept)
        if media_type is None:
            return None
        page = self._page_cache.get((registry.id, version, project, media_type))
        if page is None:
            return None
        return _answer(page, media_type, if_none_match)

    def _credential(self, authorization: str | None) -> tuple[bool, str | None]:
        """(usable, secret): the secret to look up (None: anonymous), or not usable here,
        to be left to the app, which answers malformed credentials with their error."""
        if not authorization:
            return True, None
        try:
            # Valid credentials are never limited; a wrong one finds nothing in the cache
            # and goes on to the app, which counts the failure (web.auth_limits).
            return True, credential_from_header(authorization)
        except Unauthenticated:
            return False, None

    def _media_type(self, accept: str | None) -> str | None:
        key = accept or ""
        try:
            return self._media_types[key]
        except KeyError:
            chosen = choose_media_type(accept)
            if len(self._media_types) < _MAX_REMEMBERED_ACCEPTS:
                self._media_types[key] = chosen
            return chosen


def _answer(page: RenderedPage, media_type: str, if_none_match: str | None) -> Answer:
    etag = page.etag.encode()
    if page.matches(if_none_match):
        return 304, [*_COMMON_HEADERS, (b"etag", etag)], b""
    headers = [
        *_COMMON_HEADERS,
        (b"etag", etag),
        (b"content-type", media_type.encode()),
        (b"content-length", str(len(page.body)).encode()),
    ]
    return 200, headers, page.body
